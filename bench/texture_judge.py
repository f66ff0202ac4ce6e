"""A second independent judge, for comparing the fast arbitrary-style model with NST.

bench/judge.py uses Magenta's style predictor, the very network the fast model builds its style vector with: it
would grade the fast model with its own eyes. And VGG19 is what NST optimises. This judge is a third network
neither contains: the YOLOv8n detector backbone shipped as ONNX in the `nudenet` wheel (MIT; bench extra), run
with onnxruntime. Style distance: the Gram matrices of five backbone layers (strides 2 to 16), each compared as a
relative Frobenius distance and averaged; content distance: the relative distance of stride-8 features.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from PIL import Image

STYLE_LAYERS = ("/model.0/act/Mul_output_0", "/model.1/act/Mul_output_0", "/model.2/cv2/act/Mul_output_0",
                "/model.4/cv2/act/Mul_output_0", "/model.6/cv2/act/Mul_output_0")
CONTENT_LAYER = "/model.4/cv2/act/Mul_output_0"
SIDE = 320  # the detector's training size; images are fitted to it, sides rounded to multiples of 32


def _model_bytes() -> bytes:
    import onnx

    # found without importing the package: its __init__ needs OpenCV, which the judge does not
    folder = importlib.util.find_spec("nudenet").submodule_search_locations[0]
    model = onnx.load_from_string((Path(folder) / "320n.onnx").read_bytes())
    for name in STYLE_LAYERS:
        model.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    return model.SerializeToString()


class TextureJudge:
    def __init__(self, threads: int = 0):
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(_model_bytes(), options, providers=["CPUExecutionProvider"])

    def features(self, img: Image.Image) -> dict[str, np.ndarray]:
        img = img.convert("RGB")
        scale = SIDE / max(img.size)
        w, h = (max(32, round(d * scale / 32) * 32) for d in img.size)
        x = (np.asarray(img.resize((w, h), Image.LANCZOS), np.float32) / 255).transpose(2, 0, 1)[None]
        outs = self.session.run(list(STYLE_LAYERS), {"images": x})
        return dict(zip(STYLE_LAYERS, (o[0] for o in outs)))

    @staticmethod
    def grams(features: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {}
        for name, f in features.items():
            c = f.shape[0]
            flat = f.reshape(c, -1)
            out[name] = flat @ flat.T / flat.shape[1]
        return out

    def style_distance(self, a: Image.Image | dict, b: Image.Image | dict) -> float:
        ga = self.grams(self.features(a)) if isinstance(a, Image.Image) else a
        gb = self.grams(self.features(b)) if isinstance(b, Image.Image) else b
        return float(np.mean([np.linalg.norm(ga[k] - gb[k]) / np.linalg.norm(gb[k]) for k in STYLE_LAYERS]))

    def content_distance(self, result: Image.Image, photo: Image.Image) -> float:
        """Relative distance of stride-8 features; the result is resized to the photo first."""
        fr = self.features(result.resize(photo.size, Image.LANCZOS))[CONTENT_LAYER]
        fp = self.features(photo)[CONTENT_LAYER]
        return float(np.linalg.norm(fr - fp) / np.linalg.norm(fp))

    # the interface bench/artists.py attributes with: an embedding per image, their mean, a distance
    def embed(self, img: Image.Image) -> dict[str, np.ndarray]:
        return self.grams(self.features(img))

    @staticmethod
    def mean(embeddings: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        return {k: np.mean([e[k] for e in embeddings], axis=0) for k in STYLE_LAYERS}

    def distance(self, a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
        return self.style_distance(a, b)
