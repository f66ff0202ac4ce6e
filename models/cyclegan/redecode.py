"""Give a trained preset a checkerboard-free decoder without training it again from scratch.

A preset trained with CycleGAN's transposed-convolution decoder paints a checkerboard at periods of 2 and 4
pixels. Its encoder and residual blocks are fine, so they are kept, frozen; each transposed convolution becomes
a bilinear x2 upsampling and a 3x3 convolution, started from the transposed kernel (flipped and transposed: the
convolution a transposed convolution is on a zero-stuffed input; the InstanceNorm that follows absorbs the
scale), and the decoder and head learn to paint what the old generator (the teacher) paints.

Student and teacher are compared after a Gaussian blur (sigma 1.5 px) that removes the 2-4 px periods the
checkerboard lives on and keeps the strokes: the student learns everything the teacher paints above that scale
and draws the finest scale with its own smooth upsampler. This is distillation on photos only (no VGG, no
paintings), so it runs on a CPU: a few hundred steps instead of a full training.
"""
from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from models.cyclegan.network import ResnetGenerator
from models.cyclegan.training import PhotoCrops, shipped_checkpoint, split_holdout


@dataclass
class RedecodeConfig:
    steps: int = 300
    batch_size: int = 4
    crop: int = 256
    lr: float = 5e-4
    blur_sigma: float = 1.5   # px; the checkerboard's periods (2, 4 px) pass at most ~6% through it
    sharp_weight: float = 0.5  # an unblurred L1 term too: without it the student paints softer than the teacher
    decoder: str = "bilinear"
    holdout: float = 0.1      # the same held-out tenth as training, so evaluations stay on unseen photos
    seed: int = 0
    log_every: int = 25


def _gaussian_kernel(sigma: float) -> torch.Tensor:
    radius = max(1, round(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-x ** 2 / (2 * sigma ** 2))
    return k / k.sum()


def blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (N, C, H, W), reflect-padded."""
    k = _gaussian_kernel(sigma).to(x)
    r, c = len(k) // 2, x.shape[1]
    x = F.pad(x, (r, r, r, r), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def upsampler_indices(net: ResnetGenerator) -> list[int]:
    return [i for i, m in enumerate(net.model) if isinstance(m, torch.nn.ConvTranspose2d)
            or (isinstance(m, torch.nn.Sequential) and isinstance(m[0], torch.nn.Upsample))]


def student_of(teacher: ResnetGenerator, decoder: str = "bilinear") -> ResnetGenerator:
    """A copy of `teacher` with `decoder` upsamplers, each convolution started from the transposed kernel."""
    if teacher.config["decoder"] != "transpose":
        raise ValueError(f"the teacher already has a {teacher.config['decoder']} decoder")
    config = {**teacher.config, "decoder": decoder}
    student = ResnetGenerator(**config)
    new_state = student.state_dict()
    for key, value in teacher.state_dict().items():
        if key in new_state and new_state[key].shape == value.shape:
            new_state[key] = value.clone()
    for i in upsampler_indices(teacher):
        weight = teacher.model[i].weight.detach()           # (in, out, 3, 3)
        new_state[f"model.{i}.2.weight"] = weight.transpose(0, 1).flip(-1, -2).clone()
        new_state[f"model.{i}.2.bias"] = teacher.model[i].bias.detach().clone()
    student.load_state_dict(new_state, strict=True)
    return student


class Redecoder:
    def __init__(self, teacher: ResnetGenerator, photos: list[Path], config: RedecodeConfig,
                 log: Callable[[str], None] = print):
        self.config, self.log = config, log
        self.rng = random.Random(config.seed)
        self.train_photos, self.eval_photos = split_holdout(photos, config.holdout)
        self.teacher = teacher.eval().requires_grad_(False)
        self.student = student_of(teacher, config.decoder)
        self.start = upsampler_indices(self.student)[0]
        self.encoder = self.student.model[:self.start].eval().requires_grad_(False)
        self.decoder = self.student.model[self.start:]
        self.opt = torch.optim.Adam(self.decoder.parameters(), lr=config.lr)
        self.step = 0
        self.crops = PhotoCrops(self.train_photos, config.crop, self.rng)

    def _batch(self) -> torch.Tensor:
        return self.crops.batch(self.config.batch_size) * 2 - 1

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """L1 between the blurred student and teacher paintings of `x` (in [-1, 1]), plus `sharp_weight` x the
        plain L1."""
        with torch.no_grad():
            features = self.encoder(x)
            target = self.teacher.model[self.start:](features)
        out = self.decoder(features)
        c = self.config
        return F.l1_loss(blur(out, c.blur_sigma), blur(target, c.blur_sigma)) + c.sharp_weight * F.l1_loss(out, target)

    def train_step(self) -> float:
        self.decoder.train()
        loss = self.loss(self._batch())
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.step += 1
        return float(loss.detach())

    def fit(self) -> tuple[ResnetGenerator, dict]:
        """Train the decoder; the student and what was done (for the checkpoint's `training` record)."""
        c = self.config
        started = time.monotonic()
        loss = float("nan")
        while self.step < c.steps:
            loss = self.train_step()
            if self.step % c.log_every == 0 or self.step == c.steps:
                self.log(f"step {self.step}/{c.steps} loss {loss:.4f} "
                         f"({(time.monotonic() - started) / self.step:.2f} s/step)")
            if not math.isfinite(loss):
                raise FloatingPointError(f"re-decoding diverged at step {self.step}")
        record = {**asdict(c), "steps_done": self.step, "final_loss": loss,
                  "seconds": round(time.monotonic() - started, 1)}
        return self.student.eval(), record


def redecoded_checkpoint(teacher_checkpoint: dict, student: ResnetGenerator, record: dict) -> dict:
    """The shipped format (fp16, config, training record): the teacher's training record, plus how the decoder
    was replaced."""
    return shipped_checkpoint(student, {**teacher_checkpoint.get("training", {}), "redecoded": record})
