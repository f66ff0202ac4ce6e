import pytest

from serve_app.builder import StylesAppArgs, actor_options, gpu_shares, max_replicas, use_gpu


def test_gpus_are_asked_for_only_where_the_cluster_has_them():
    assert use_gpu("cpu", gpus=4) is False
    assert use_gpu("auto", gpus=0) is False
    assert use_gpu("auto", gpus=1) is True and use_gpu("gpu", gpus=2) is True
    assert actor_options(False, 0.2, 0.3) == {"num_cpus": 0.2, "num_gpus": 0}
    assert actor_options(True, 0.2, 0.3) == {"num_cpus": 0.2, "num_gpus": 0.3}


def test_asking_for_a_gpu_without_one_fails_the_build_clearly():
    with pytest.raises(ValueError, match="no GPUs"):
        use_gpu("gpu", gpus=0)


@pytest.mark.parametrize("presets,gpus", [(5, 1), (1, 1), (8, 1), (9, 2), (40, 1)])
def test_every_replica_the_autoscaler_may_ask_for_fits_on_the_gpus(presets, gpus):
    nst, gen = gpu_shares(0.3, 2, 0.1, presets * 2, gpus)
    assert 0 < nst <= 0.3 and 0 < gen <= 0.1
    assert 2 * nst + presets * 2 * gen <= gpus
    if 2 * 0.3 + presets * 2 * 0.1 <= gpus:
        assert (nst, gen) == (0.3, 0.1)  # nothing to shrink


def test_the_config_files_shares_fit_one_gpu():
    import yaml

    from models.catalogue import Catalogue
    from models.paths import PROJECT_ROOT

    app = yaml.safe_load((PROJECT_ROOT / "serve_config.yaml").read_text())["applications"][0]["args"]
    a = StylesAppArgs(**app)
    presets = len(Catalogue.load().presets)  # every preset of the catalogue, as if all weights were present
    nst, gen = gpu_shares(a.nst_gpus, max_replicas(a.nst_options), a.generator_gpus,
                          presets * max_replicas(a.generator), 1)
    assert max_replicas(a.nst_options) * nst + presets * max_replicas(a.generator) * gen <= 1


def test_args_are_validated():
    assert StylesAppArgs().accelerator == "auto"
    with pytest.raises(ValueError):
        StylesAppArgs(accelerator="tpu")
