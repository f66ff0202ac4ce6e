"""Image-in, image-out inference for the multi-style network: the generator runner's padding, batching and
device choices, with a style index per image."""
from __future__ import annotations

import torch

from models.cyclegan.inference import GeneratorRunner
from models.multistyle.network import MultiStyleNet


class MultiStyleRunner(GeneratorRunner):
    signed = False  # the network works on [0, 1] and ends in a sigmoid

    def __init__(self, net: MultiStyleNet, device: str | torch.device = "cpu", half: bool | None = None):
        super().__init__(net, device, half)
        self.n_styles = net.n_styles

    def _forward(self, x: torch.Tensor, styles: list[int] | None) -> torch.Tensor:
        if styles is None or len(styles) != len(x):
            raise ValueError("the multi-style network needs one style index per image")
        if not all(0 <= s < self.n_styles for s in styles):
            raise ValueError(f"style indices must be 0..{self.n_styles - 1}, not {styles}")
        weights = torch.nn.functional.one_hot(torch.tensor(styles), self.n_styles).to(x.device, torch.float32)
        return self.net(x, weights)
