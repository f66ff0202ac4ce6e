"""Builds the "styles" Serve application (the `import_path` target in serve_config.yaml).

GPU or CPU is decided here, when the application is built: `accelerator: auto` asks the Ray cluster whether it
has GPUs. With GPUs every model deployment gets a fractional `num_gpus`, so the optimizer and all generators
share one card; without, none asks for a GPU, so nothing waits forever for one.
"""
from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, Literal

import ray
from pydantic import BaseModel, Field
from ray.serve import Application

from models.catalogue import Catalogue
from models.limits import MAX_SIDE
from models.weights_store import WeightsError, WeightsStore

logger = logging.getLogger("ray.serve")


class StylesAppArgs(BaseModel):
    accelerator: Literal["auto", "cpu", "gpu"] = "auto"
    # GPUs to plan the shares for when the cluster adds GPU nodes on demand (KubeRay's autoscaler starting a GPU
    # worker group from zero, configs/rayservice.yaml): there may be none when the app is built. Default: the
    # GPUs the cluster has now.
    planned_gpus: float | None = Field(None, gt=0)
    # Scheduling shares. CPU shares are small because torch threads, not Ray, decide real CPU use; they only
    # need to leave the 2-core machine room to start more replicas when autoscaling asks.
    nst_cpus: float = 0.2
    generator_cpus: float = 0.1
    ingress_cpus: float = 0.1
    nst_gpus: float = 0.3
    generator_gpus: float = 0.1
    # NST jobs one replica runs at once (and its max_ongoing_requests). On a CPU a second job only halves the
    # first one's speed; on a GPU concurrent jobs share each VGG pass (bench/README.md).
    nst_jobs_per_cpu_replica: int = Field(1, ge=1)
    nst_jobs_per_gpu_replica: int = Field(8, ge=1)
    # Serve deployment options for every per-preset generator (autoscaling, queue limits, user_config, ...).
    # They live here, not under `deployments:`, because which generators exist depends on the weights present.
    generator: dict[str, Any] = Field(default_factory=dict)
    # Serve deployment options for NSTOptimizer (autoscaling, queue limits, ...). They live here, not under
    # `deployments:`, so that the GPU shares can count the replicas the autoscaler may ask for.
    nst_options: dict[str, Any] = Field(default_factory=dict)
    presets: list[str] | None = None   # serve only these presets (default: every available one)
    catalogue: str | None = None       # another style catalogue file (default configs/styles.yaml, $STYLEBOT_STYLES)
    nst: bool = True
    # The fast arbitrary-style model (POST /v1/fast): served when its weights are present (a warning otherwise).
    fast: bool = True
    fast_cpus: float = 0.1
    # Serve deployment options for FastStyle (autoscaling, queue limits, user_config); its GPU share is a
    # generator's (it is as small and as quick as one).
    fast_options: dict[str, Any] = Field(default_factory=dict)
    preset_max_side: int = MAX_SIDE
    nst_max_side: int = MAX_SIDE
    nst_max_steps: int = 1000


def cluster_gpus() -> float:
    return ray.cluster_resources().get("GPU", 0) if ray.is_initialized() else 0


def use_gpu(accelerator: str, gpus: float | None = None) -> bool:
    """Whether the model deployments ask for GPUs: `gpus` is the cluster's count (read from Ray when None)."""
    if accelerator == "cpu":
        return False
    gpus = cluster_gpus() if gpus is None else gpus
    if accelerator == "gpu" and gpus <= 0:
        raise ValueError("accelerator: gpu was asked for, but this Ray cluster has no GPUs; use auto or cpu")
    return gpus > 0


def max_replicas(options: dict) -> int:
    """The most replicas a deployment's options let the autoscaler ask for."""
    auto = options.get("autoscaling_config") or {}
    return int(auto.get("max_replicas") or options.get("num_replicas") or 1)


def gpu_shares(nst_share: float, nst_replicas: int, generator_share: float, generator_replicas: int,
               gpus: float) -> tuple[float, float]:
    """(NST share, generator share) scaled down together so that every replica the autoscaler may ask for
    fits on the cluster's GPUs at once; e.g. 2 x 0.3 + 5 presets x 2 x 0.1 = 1.6 on one GPU becomes
    2 x 0.1875 + 10 x 0.0625 = 1.0. Shares are scheduling tokens: the replicas share the memory either way."""
    wanted = nst_share * nst_replicas + generator_share * generator_replicas
    if wanted <= gpus or wanted == 0:
        return nst_share, generator_share
    scale = gpus / wanted
    # round down, so the sum never creeps over the GPUs through floating point
    return math.floor(nst_share * scale * 1e4) / 1e4, math.floor(generator_share * scale * 1e4) / 1e4


def generator_key(status) -> str:
    """The deployment that serves a preset: its own, or its network's when the network paints several styles."""
    return status.name if status.choice.style is None else status.choice.weights


def fast_weights_present(store: WeightsStore) -> bool:
    """Whether the fast model's two files are here and match the manifest; a warning says how to get them."""
    for name in ("fast_predict", "fast_transform"):
        try:
            store.verified_path(name)
        except WeightsError as e:
            logger.warning("the fast own-style model is not served: %s", e)
            return False
    return True


def actor_options(gpu: bool, cpus: float, gpus: float) -> dict:
    return {"num_cpus": cpus, "num_gpus": gpus} if gpu else {"num_cpus": cpus, "num_gpus": 0}


def build_styles_app(args: dict | None = None) -> Application:
    from deployments.fast_style import FastStyle
    from deployments.generator import Generator
    from deployments.nst_optimizer import NSTOptimizer
    from deployments.ingress import StylesIngress

    a = StylesAppArgs(**(args or {}))
    gpus = a.planned_gpus or cluster_gpus()
    gpu = use_gpu(a.accelerator, gpus)
    device = "cuda" if gpu else "cpu"
    store = WeightsStore()
    statuses = Catalogue.load(Path(a.catalogue) if a.catalogue else None).statuses(store)
    if a.presets is not None:
        statuses = [s for s in statuses if s.name in a.presets]
    for st in statuses:
        if not st.available:
            logger.warning("preset %s is unavailable: %s", st.name, st.reason)
    available = [st for st in statuses if st.available]
    # One deployment per generator network: a preset of a network that paints several styles shares its
    # network's deployment (Generator_multistyle26 serves all 26 of those presets, Generator_fast_transform
    # every fixed-style preset).
    networks = {generator_key(st): st for st in available}
    fast = a.fast and fast_weights_present(store)
    generator_replicas = len(networks) * max_replicas(a.generator) + (max_replicas(a.fast_options) if fast else 0)
    nst_share, generator_share = gpu_shares(a.nst_gpus, max_replicas(a.nst_options) if a.nst else 0,
                                            a.generator_gpus, generator_replicas, gpus)
    deployments = {}
    for key, st in networks.items():
        caption = st.caption if st.choice.style is None else f"{st.choice.weights} ({st.choice.origin})"
        fixed = [s.choice.style for s in available if s.choice.adapter == "arbitrary" and generator_key(s) == key]
        deployments[key] = Generator.options(
            name=f"Generator_{key}", ray_actor_options=actor_options(gpu, a.generator_cpus, generator_share),
            **a.generator).bind(key, st.choice.weights, st.choice.adapter, caption, device, fixed or None)
    generators = {st.name: deployments[generator_key(st)] for st in available}
    preset_styles = {st.name: st.choice.style for st in available if st.choice.style is not None}
    nst = None
    if a.nst:
        store.verified_path("vgg19")  # fail the build with the fix in the message, not a replica crash loop
        capacity = a.nst_jobs_per_gpu_replica if gpu else a.nst_jobs_per_cpu_replica
        options = {"max_ongoing_requests": capacity, **a.nst_options}
        nst = NSTOptimizer.options(ray_actor_options=actor_options(gpu, a.nst_cpus, nst_share),
                                   **options).bind(device, capacity=options["max_ongoing_requests"])
    fast_app = None
    if fast:
        fast_app = FastStyle.options(ray_actor_options=actor_options(gpu, a.fast_cpus, generator_share),
                                     **a.fast_options).bind(device)
    ingress = StylesIngress.options(ray_actor_options={"num_cpus": a.ingress_cpus})
    return ingress.bind(nst, generators, [s.as_dict() for s in statuses], a.preset_max_side, a.nst_max_side,
                       a.nst_max_steps, preset_styles, fast_app)
