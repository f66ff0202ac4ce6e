"""Gatys neural style transfer in pure torch: VGG19 features, losses, and the L-BFGS optimizer."""
from deployments.nst.gatys import Cancelled, GatysNST, NSTOptions, NSTResult
from deployments.nst.vgg import VGG19Features

__all__ = ["Cancelled", "GatysNST", "NSTOptions", "NSTResult", "VGG19Features"]
