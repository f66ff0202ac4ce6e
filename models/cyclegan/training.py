"""Train a feed-forward preset (Johnson et al. 2016) with the CycleGAN ResNet generator architecture.

The generator learns to minimise, over random crops of natural photos, a content loss on VGG19 features of the
photo, a style loss on Gram matrices matched to the *mean* Gram of an artist's paintings (a collection, not one
painting), and total variation. Pure torch: usable from the CLI (`stylebot train-preset`) or a notebook.
"""
from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.transforms.functional import pil_to_tensor

from models.cyclegan.checkpoints import adapt_stylebot
from models.cyclegan.network import ResnetGenerator
from models.device import CudaFastPath
from models.nst.losses import gram, total_variation
from models.nst.options import STYLE_CHANNELS, STYLE_LAYERS
from models.nst.vgg import VGG19Features
from models.tensors import resize_long_side, to_tensor
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


@dataclass
class TrainConfig:
    name: str
    steps: int = 4000
    batch_size: int = 8
    crop: int = 256
    lr: float = 1e-3
    ngf: int = 32                  # generator width (the official CycleGAN files use 64)
    n_blocks: int = 9
    decoder: str = "bilinear"      # see models.cyclegan.network: "transpose" paints a checkerboard
    content_layer: str = "relu2_2"
    content_weight: float = 1.0
    # Calibrated on VGG features in Caffe scale: at weight 1 a photo's own style term is ~5x the content term of
    # a flat grey output. The shipped presets use 2: weights 1 and 2 both meet the bench targets, 2 paints more.
    style_weight: float = 2.0      # on the sum over layers of Gram MSE / channels²
    tv_weight: float = 5e3         # on the mean absolute neighbour difference
    style_side: int | None = None  # paintings' long side for their Grams; None = 2 x crop (a comparable scale)
    holdout: float = 0.1           # share of photos kept out of training for evaluation
    checkpoint_every: int = 500
    log_every: int = 50
    seed: int = 0
    time_limit: float | None = None  # seconds; training stops early (and saves) once this much has passed


def list_images(folder: Path) -> list[Path]:
    """The images in a folder (recursively), or the one image a file path names (a single-artwork preset)."""
    folder = Path(folder)
    if folder.is_file():
        if folder.suffix.lower() not in IMAGE_SUFFIXES:
            raise FileNotFoundError(f"{folder} is not an image ({', '.join(sorted(IMAGE_SUFFIXES))})")
        return [folder]
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"no images in {folder}")
    return files


def split_holdout(photos: list[Path], share: float) -> tuple[list[Path], list[Path]]:
    """Every photo whose position is a multiple of 1/share is held out: stable across runs and machines."""
    every = max(2, round(1 / share)) if share > 0 else 0
    held = [p for i, p in enumerate(photos) if every and i % every == 0]
    train = [p for i, p in enumerate(photos) if not (every and i % every == 0)]
    return train, held


def load_rgb(path: Path) -> torch.Tensor:
    return to_tensor(Image.open(path))


def load_rgb_uint8(path: Path) -> torch.Tensor:
    with Image.open(path) as img:
        return pil_to_tensor(img.convert("RGB"))


@torch.no_grad()
def mean_grams(vgg: VGG19Features, images: Iterable[torch.Tensor]) -> dict[str, torch.Tensor]:
    """The style layers' Gram matrices averaged over a collection of (3, H, W) images."""
    sums: dict[str, torch.Tensor] = {}
    count = 0
    for img in images:
        feats = vgg(img[None])
        for layer in STYLE_LAYERS:
            g = gram(feats[layer])[0]
            sums[layer] = sums[layer] + g if layer in sums else g
        count += 1
    return {k: v / count for k, v in sums.items()}


def random_crop(img: torch.Tensor, crop: int, rng: random.Random) -> torch.Tensor:
    """Resize so the short side is a little above `crop`, take a random crop, flip half the time."""
    h, w = img.shape[-2:]
    scale = crop * rng.uniform(1.0, 1.3) / min(h, w)
    nh, nw = max(crop, round(h * scale)), max(crop, round(w * scale))
    img = F.interpolate(img[None], size=(nh, nw), mode="bilinear", antialias=True, align_corners=False)[0]
    top, left = rng.randint(0, nh - crop), rng.randint(0, nw - crop)
    img = img[:, top:top + crop, left:left + crop]
    return img.flip(-1) if rng.random() < 0.5 else img


class PerceptualLoss(torch.nn.Module):
    def __init__(self, vgg_state: dict, config: TrainConfig):
        super().__init__()
        self.config = config
        self.vgg = VGG19Features(vgg_state, STYLE_LAYERS + (config.content_layer,))
        self.target_grams: dict[str, torch.Tensor] = {}

    @torch.no_grad()
    def set_style(self, paintings: list[torch.Tensor], side: int) -> None:
        """Mean Gram over the collection, each painting resized to `side` on its long side."""
        device = next(self.vgg.parameters()).device
        self.target_grams = mean_grams(self.vgg, (resize_long_side(p.to(device), side, "bilinear") for p in paintings))

    def forward(self, output: torch.Tensor, photo: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        c = self.config
        both = self.vgg(torch.cat([output, photo]))
        n = output.shape[0]
        content = F.mse_loss(both[c.content_layer][:n].float(), both[c.content_layer][n:].float().detach())
        style = sum(1 / STYLE_CHANNELS[layer] ** 2 * F.mse_loss(gram(both[layer][:n]),
                                                              self.target_grams[layer].expand(n, -1, -1))
                    for layer in STYLE_LAYERS)
        tv = total_variation(output.float())
        parts = {"content": c.content_weight * content, "style": c.style_weight * style, "tv": c.tv_weight * tv}
        return sum(parts.values()), parts


def shipped_checkpoint(net: ResnetGenerator, training: dict) -> dict:
    """The shipped format: fp16 weights plus the architecture and how they were made."""
    return {"config": dict(net.config), "state_dict": {k: v.half() for k, v in net.state_dict().items()},
            "training": training}


def stylebot_checkpoint(net: ResnetGenerator, config: TrainConfig, extra: dict | None = None) -> dict:
    return shipped_checkpoint(net, {**asdict(config), **(extra or {})})


class PhotoCrops:
    """Random training crops of photos; each photo is decoded once and kept as uint8 on the device (decoding
    JPEGs every step starves a GPU)."""

    def __init__(self, photos: list[Path], crop: int, rng: random.Random, device: torch.device | str = "cpu"):
        self.photos, self.crop, self.rng, self.device = photos, crop, rng, torch.device(device)
        self._decoded: dict[Path, torch.Tensor] = {}

    def photo(self, path: Path) -> torch.Tensor:
        if path not in self._decoded:
            self._decoded[path] = load_rgb_uint8(path).to(self.device)
        return self._decoded[path].float() / 255

    def batch(self, size: int) -> torch.Tensor:
        """(size, 3, crop, crop) in [0, 1]."""
        paths = [self.rng.choice(self.photos) for _ in range(size)]
        return torch.stack([random_crop(self.photo(p), self.crop, self.rng) for p in paths])


class Trainer:
    def __init__(self, config: TrainConfig, vgg_state: dict, photos: list[Path], paintings: list[Path],
                 device: str = "cpu", log: Callable[[str], None] = print):
        self.config, self.device, self.log = config, torch.device(device), log
        self.cuda = self.device.type == "cuda"
        self.rng = random.Random(config.seed)
        self.train_photos, self.eval_photos = split_holdout(photos, config.holdout)
        if not self.train_photos:
            raise ValueError("no training photos left after the hold-out")
        with torch.random.fork_rng(devices=[]):  # a seeded initialisation that leaves the caller's RNG alone
            torch.manual_seed(config.seed)
            net = ResnetGenerator(ngf=config.ngf, n_blocks=config.n_blocks, affine=True, decoder=config.decoder)
            loss = PerceptualLoss(vgg_state, config)
        self.fast = CudaFastPath(self.device, tf32=False)
        self.net = self.fast.module(net.to(self.device))
        self.loss = self.fast.module(loss.to(self.device))
        self.loss.set_style([load_rgb(p) for p in paintings], config.style_side or 2 * config.crop)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=config.lr)
        self.step = 0
        self.history: list[float] = []
        self.started_from: str | None = None
        self.crops = PhotoCrops(self.train_photos, config.crop, self.rng, self.device)

    def batch(self) -> torch.Tensor:
        return self.fast.tensor(self.crops.batch(self.config.batch_size))

    def train_step(self) -> dict[str, float]:
        self.net.train()
        photo = self.batch()
        with self.fast.maths():
            with self.fast.autocast():
                out = (self.net(photo * 2 - 1).float() + 1) / 2
                loss, parts = self.loss(out, photo)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
        self.step += 1
        self.history.append(float(loss.detach()))
        return {"loss": float(loss.detach()), **{k: float(v.detach()) for k, v in parts.items()}}

    def save(self, path: Path) -> None:
        """A resumable checkpoint: generator, optimizer, step, config, RNG state."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save({"net": self.net.state_dict(), "opt": self.opt.state_dict(), "step": self.step,
                    "config": asdict(self.config), "rng": self.rng.getstate(), "history": self.history}, tmp)
        tmp.replace(path)

    def start_from(self, path: Path) -> None:
        """Fine-tune a shipped preset (`stylebot_checkpoint` format): its weights, a fresh optimizer, step 0."""
        state, config = adapt_stylebot(torch.load(path, map_location="cpu", weights_only=True))
        if config != self.net.config:
            raise ValueError(f"{path} is a generator with {config}, not {self.net.config}")
        self.net.load_state_dict(state, strict=True)
        self.started_from = str(path)

    def resume(self, path: Path) -> None:
        state = torch.load(path, map_location=self.device, weights_only=True)
        self.net.load_state_dict(state["net"])
        self.opt.load_state_dict(state["opt"])
        self.step, self.history = state["step"], state["history"]
        self.rng.setstate(state["rng"])

    @torch.no_grad()
    def evaluate(self, limit: int = 16) -> dict[str, float]:
        """Mean losses on held-out photos (centre crops): the same objective the training minimised."""
        self.net.eval()
        photos = self.eval_photos[:limit] or self.train_photos[:limit]
        totals: dict[str, float] = {}
        for p in photos:
            img = load_rgb(p)
            h, w = img.shape[-2:]
            s = self.config.crop / min(h, w)
            img = F.interpolate(img[None], size=(max(self.config.crop, round(h * s)),
                                                  max(self.config.crop, round(w * s))), mode="bilinear",
                                antialias=True, align_corners=False)[..., :self.config.crop, :self.config.crop]
            x = img.to(self.device)
            out = (self.net(x * 2 - 1) + 1) / 2
            _, parts = self.loss(out, x)
            for k, v in parts.items():
                totals[k] = totals.get(k, 0.0) + float(v) / len(photos)
        return totals

    def fit(self, out_dir: Path, steps: int | None = None) -> Path:
        c = self.config
        steps = steps or c.steps
        out_dir = Path(out_dir)
        started, last_log, seen = time.monotonic(), time.monotonic(), 0
        while self.step < steps:
            if c.time_limit is not None and time.monotonic() - started > c.time_limit:
                self.log(f"time limit of {c.time_limit:.0f} s reached at step {self.step}/{steps}")
                break
            parts = self.train_step()
            seen += c.batch_size
            if self.step % c.log_every == 0 or self.step == steps:
                now = time.monotonic()
                rate = seen / max(now - last_log, 1e-9)
                self.log(f"step {self.step}/{steps} loss {parts['loss']:.4g} (content {parts['content']:.3g}, "
                         f"style {parts['style']:.3g}, tv {parts['tv']:.3g}) {rate:.1f} img/s")
                last_log, seen = now, 0
            if c.checkpoint_every and self.step % c.checkpoint_every == 0:
                self.save(out_dir / f"{c.name}-resume.pt")
            if not math.isfinite(parts["loss"]):
                raise FloatingPointError(f"training diverged at step {self.step}")
        self.save(out_dir / f"{c.name}-resume.pt")
        final = out_dir / f"{c.name}.pth"
        evaluation = self.evaluate()
        tmp = final.with_suffix(".tmp")
        torch.save(stylebot_checkpoint(self.net.cpu(), c, {"steps_done": self.step, "evaluation": evaluation,
                                                           "seconds": time.monotonic() - started,
                                                           "device": str(self.device),
                                                           "started_from": self.started_from}), tmp)
        tmp.replace(final)
        self.net.to(self.device)
        self.log(f"saved {final}; held-out losses: " + ", ".join(f"{k} {v:.4g}" for k, v in evaluation.items()))
        return final
