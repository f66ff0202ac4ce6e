"""Gatys neural style transfer in pure torch: VGG19 features, losses, and the L-BFGS optimizer."""
from models.nst.gatys import GatysNST
from models.nst.options import Cancelled, NSTOptions, NSTResult, StyleNotTransferred
from models.nst.run import NSTRun
from models.nst.vgg import VGG19Features

__all__ = ["Cancelled", "GatysNST", "NSTOptions", "NSTResult", "NSTRun", "StyleNotTransferred", "VGG19Features"]
