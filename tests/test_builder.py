import pytest

from serve_app.builder import StylesAppArgs, actor_options, use_gpu


def test_cpu_only_machine_never_asks_for_a_gpu():
    assert use_gpu("cpu") is False
    assert use_gpu("auto") is False  # no GPU here
    assert actor_options(False, 0.2, 0.3) == {"num_cpus": 0.2, "num_gpus": 0}
    assert actor_options(True, 0.2, 0.3) == {"num_cpus": 0.2, "num_gpus": 0.3}


def test_asking_for_a_gpu_without_one_fails_the_build_clearly():
    with pytest.raises(ValueError, match="no GPUs"):
        use_gpu("gpu")


def test_args_are_validated():
    assert StylesAppArgs().accelerator == "auto"
    with pytest.raises(ValueError):
        StylesAppArgs(accelerator="tpu")
