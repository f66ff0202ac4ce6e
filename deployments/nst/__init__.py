"""Gatys neural style transfer in pure torch: VGG19 features, losses, and the L-BFGS optimizer."""
from deployments.nst.gatys import GatysNST
from deployments.nst.options import Cancelled, NSTOptions, NSTResult, StyleNotTransferred
from deployments.nst.run import NSTRun
from deployments.nst.vgg import VGG19Features

__all__ = ["Cancelled", "GatysNST", "NSTOptions", "NSTResult", "NSTRun", "StyleNotTransferred", "VGG19Features"]
