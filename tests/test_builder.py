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


def test_planned_gpus_let_an_autoscaling_gpu_group_start_from_zero():
    """KubeRay may have no GPU node up when the app is built; `planned_gpus` plans the shares anyway, so the
    replicas' GPU demand is what makes the autoscaler add a GPU node."""
    from serve_app.builder import build_styles_app, cluster_gpus

    if cluster_gpus() == 0:
        with pytest.raises(ValueError, match="no GPUs"):
            build_styles_app({"accelerator": "gpu", "presets": ["vintage"]})
    app = build_styles_app({"accelerator": "gpu", "planned_gpus": 1, "presets": ["vintage"]})
    nst, generators = app._bound_deployment.init_args[:2]
    assert nst._bound_deployment.ray_actor_options["num_gpus"] > 0
    vintage = generators["vintage"]._bound_deployment
    assert vintage.ray_actor_options["num_gpus"] > 0 and vintage.init_args[4] == "cuda"
    with pytest.raises(ValueError):
        StylesAppArgs(planned_gpus=0)


def test_every_fixed_style_shares_one_deployment_with_its_vectors():
    from serve_app.builder import build_styles_app

    app = build_styles_app({"accelerator": "cpu", "presets": ["candy", "monet", "vintage"], "nst": False,
                            "fast": False})
    generators = app._bound_deployment.init_args[1]
    candy, monet = generators["candy"]._bound_deployment, generators["monet"]._bound_deployment
    assert candy is monet and candy.name == "Generator_fast_transform"
    assert candy.init_args[1:3] == ("fast_transform", "arbitrary") and candy.init_args[5] == ["style_monet", "style_candy"]
    assert generators["vintage"]._bound_deployment.init_args[5] is None
    assert app._bound_deployment.init_args[6] == {"candy": "style_candy", "monet": "style_monet"}   # preset_styles
