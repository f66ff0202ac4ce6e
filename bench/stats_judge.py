"""A judge of style with no neural network in it: colour and texture statistics.

Every engine stylebot serves is a network (Magenta's arbitrary network, CycleGAN generators trained on VGG19
Grams, the 26-style network), and every network judge shares some kinship with one of them. This judge shares
none: an image's style is its palette and its marks, measured directly.

- colour: histograms of CIELAB lightness (8 bins) and of the a*b* plane (8 x 8 bins);
- texture, at three scales (the image at 320 px long side, then halved twice): a histogram of gradient
  orientations weighted by magnitude (8 bins), of log gradient magnitudes (8 bins), and of uniform local
  binary patterns (radius 1, 10 bins).

Each histogram is normalised and square-rooted (the Hellinger embedding: Euclidean distance between them is the
Hellinger distance); the colour part and the texture part weigh the same. Style distance is the Euclidean
distance between two embeddings.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

SIDE = 320
SCALES = 3


def _lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (H, W, 3) in [0, 1] -> CIELAB (D65)."""
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]).T
    xyz /= np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def _hist(values: np.ndarray, bins: int, lo: float, hi: float, weights: np.ndarray | None = None) -> np.ndarray:
    h, _ = np.histogram(values, bins=bins, range=(lo, hi), weights=weights)
    return np.sqrt(h / max(h.sum(), 1e-12))


def _gradients(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    gx = np.zeros_like(grey)
    gy = np.zeros_like(grey)
    gx[:, 1:-1] = grey[:, 2:] - grey[:, :-2]
    gy[1:-1] = grey[2:] - grey[:-2]
    return np.hypot(gx, gy), np.arctan2(gy, gx) % np.pi


def _uniform_lbp(grey: np.ndarray) -> np.ndarray:
    """Uniform LBP codes (0..8 by the number of brighter neighbours, 9 for non-uniform) of the inner pixels."""
    c = grey[1:-1, 1:-1]
    ring = [grey[:-2, :-2], grey[:-2, 1:-1], grey[:-2, 2:], grey[1:-1, 2:],
            grey[2:, 2:], grey[2:, 1:-1], grey[2:, :-2], grey[1:-1, :-2]]
    bits = np.stack([n >= c for n in ring]).astype(np.int8)
    transitions = np.abs(np.diff(np.concatenate([bits, bits[:1]]), axis=0)).sum(0)
    return np.where(transitions <= 2, bits.sum(0), 9)


def _texture(grey: np.ndarray) -> list[np.ndarray]:
    magnitude, angle = _gradients(grey)
    return [_hist(angle, 8, 0, np.pi, magnitude), _hist(np.log(magnitude + 1e-3), 8, np.log(1e-3), 0.0),
            _hist(_uniform_lbp(grey), 10, 0, 10)]


class StatsJudge:
    def embed(self, img: Image.Image) -> np.ndarray:
        img = img.convert("RGB")
        scale = SIDE / max(img.size)
        img = img.resize((max(8, round(img.width * scale)), max(8, round(img.height * scale))), Image.LANCZOS)
        rgb = np.asarray(img, np.float64) / 255
        lab = _lab(rgb)
        colour = [_hist(lab[..., 0], 8, 0, 100),
                  np.sqrt(np.histogram2d(lab[..., 1].ravel(), lab[..., 2].ravel(), bins=8,
                                         range=((-80, 80), (-80, 80)))[0].ravel() / lab[..., 0].size)]
        grey = rgb @ np.array([0.299, 0.587, 0.114])
        texture = []
        for _ in range(SCALES):
            texture += _texture(grey)
            h, w = (s - s % 2 for s in grey.shape)
            grey = grey[:h, :w].reshape(h // 2, 2, w // 2, 2).mean((1, 3))
        # each histogram has unit norm; scale the groups so colour and texture weigh the same
        return np.concatenate([h / np.sqrt(len(colour)) for h in colour] + [h / np.sqrt(len(texture)) for h in texture])

    @staticmethod
    def mean(embeddings: list[np.ndarray]) -> np.ndarray:
        return np.mean(embeddings, axis=0)

    @staticmethod
    def distance(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.linalg.norm(a - b))
