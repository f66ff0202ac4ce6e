"""The CUDA fast paths (bf16 autocast, channels_last, TF32) keep the CPU path's results. Skipped without a GPU;
run on a GPU machine with `pytest tests/test_gpu.py` (needs only torch, pillow, pyyaml and the vgg19 file)."""
from pathlib import Path

import pytest
import torch

from models.cyclegan.checkpoints import load_generator
from models.cyclegan.inference import GeneratorRunner
from models.cyclegan.training import Trainer, TrainConfig
from models.nst import GatysNST, NSTOptions
from models.weights_store import WeightsStore

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
PRESETS = Path(__file__).resolve().parents[1] / "weights" / "presets"


@pytest.fixture(scope="module")
def vgg19():
    store = WeightsStore()
    if not store.status("vgg19").present:
        store.fetch("vgg19", log=print)
    return store.load_state_dict("vgg19")


def test_nst_on_cuda_reaches_the_cpu_objective(vgg19, photo, painting):
    options = NSTOptions(size=128, steps=40)
    cpu = GatysNST(vgg19, "cpu").run(photo, painting, options)
    losses = []
    gpu = GatysNST(vgg19, "cuda").run(photo, painting, options, progress=lambda s, t, loss: losses.append(loss))
    assert gpu.image.device.type == "cpu" and gpu.image.shape == cpu.image.shape
    assert losses[-1] < 0.2 * losses[0]
    assert gpu.loss < 1.25 * cpu.loss
    assert (gpu.image - cpu.image).abs().mean() < 0.08


def test_batched_nst_jobs_on_cuda_match_one_by_one(vgg19, photo, painting):
    nst = GatysNST(vgg19, "cuda")
    options = [NSTOptions(size=128, steps=30), NSTOptions(size=128, steps=30, strength=2.0),
               NSTOptions(size=96, steps=30, keep_colors=True)]
    single = [nst.run(photo, painting, o) for o in options]
    runs = [nst.start(photo, painting, o) for o in options]
    while not all(r.done for r in runs):
        nst.step(runs)
    for a, r in zip(single, runs):
        b = r.result()
        assert b.loss < 1.25 * a.loss and (a.image - b.image).abs().mean() < 0.05


def test_shipped_preset_on_cuda_matches_cpu_and_batches(photo):
    checkpoint = torch.load(PRESETS / "monet.pth", map_location="cpu", weights_only=True)
    cpu = GeneratorRunner(load_generator(checkpoint, "stylebot"))
    gpu = GeneratorRunner(load_generator(checkpoint, "stylebot"), device="cuda")
    odd = photo[:, :101, :77]
    assert gpu(odd).shape == odd.shape
    assert (gpu(photo) - cpu(photo)).abs().mean() < 0.02          # bf16 on CUDA, fp32 on CPU
    other = torch.rand_like(photo)
    batched = gpu.run_many([photo, other])
    assert (batched[0] - gpu(photo)).abs().max() < 0.02 and (batched[1] - gpu(other)).abs().max() < 0.02


def test_training_on_cuda_lowers_the_loss(tmp_path, data_dir, vgg19):
    config = TrainConfig(name="tiny", steps=30, batch_size=4, crop=96, ngf=16, n_blocks=3, lr=5e-3,
                         checkpoint_every=0, log_every=10, holdout=0.0)
    photos = [data_dir / "kodim23.jpg", data_dir / "astronaut.jpg"]
    trainer = Trainer(config, vgg19, photos, [data_dir / "starry_night.jpg"], device="cuda", log=print)
    before = trainer.evaluate()
    final = trainer.fit(tmp_path)
    after = torch.load(final, weights_only=True)["training"]["evaluation"]
    assert sum(after.values()) < sum(before.values())
    assert next(trainer.net.parameters()).is_cuda


def test_engines_switch_the_cuda_fast_paths_on_only_while_they_compute(vgg19, photo, painting):
    flags = lambda: (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,  # noqa: E731
                     torch.backends.cudnn.benchmark)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = torch.backends.cudnn.benchmark = False
    GatysNST(vgg19, "cuda").run(photo, painting, NSTOptions(steps=5, min_style_drop=0))  # flags, not quality
    checkpoint = torch.load(PRESETS / "monet.pth", map_location="cpu", weights_only=True)
    GeneratorRunner(load_generator(checkpoint, "stylebot"), device="cuda")(photo)
    assert flags() == (False, False, False)
