"""Run an ONNX graph with torch: an nn.Module that executes the graph's nodes in order.

Only the operators of converted image networks are supported (the Magenta arbitrary-style networks: quantized
convolutions, instance norm spelled out as pooling and arithmetic, reflection padding, nearest upsampling);
any other operator is refused when the module is built, by name. Subgraphs whose inputs are all weights (the
dequantization of int8 weights) are computed once at build time and kept as buffers, so `forward` runs only what
depends on the inputs, on whatever device the module is moved to, at any image size the convolutions allow.

Activation quantize/dequantize pairs are run as written (fake quantization, round half to even like
onnxruntime), so the outputs match onnxruntime's to within float rounding.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from models.onnxgraph.proto import Graph, Node

_INT_RANGE = {np.dtype(np.int8): (-128, 127), np.dtype(np.uint8): (0, 255), np.dtype(np.int32): (-2 ** 31, 2 ** 31 - 1)}


def _conv(x, w, b=None, *, strides=(1, 1), dilations=(1, 1), pads=(0, 0, 0, 0), group=1, **_):
    top, left, bottom, right = pads
    if (top, left) != (bottom, right):  # TF-style "same" padding is asymmetric
        x, padding = F.pad(x, (left, right, top, bottom)), 0
    else:
        padding = (top, left)
    return F.conv2d(x, w, b, stride=tuple(strides), padding=padding, dilation=tuple(dilations), groups=group)


def _pad(x, pads, value=None, *, mode=b"constant", **_):
    pads = [int(p) for p in pads.tolist()]
    n = x.dim()
    begin, end = pads[:n], pads[n:]
    padded = [d for d in range(n) if begin[d] or end[d]]
    if not padded:
        return x
    # torch pads the last dims: move the padded ones there, pad, move them back
    order = [d for d in range(n) if d not in padded] + padded
    y = x.permute(order)
    spec = []
    for d in reversed(padded):
        spec += [begin[d], end[d]]
    mode = mode.decode()
    if mode == "constant":
        y = F.pad(y, spec, value=float(value) if value is not None else 0.0)
    else:
        y = F.pad(y, spec, mode=mode)
    return y.permute([order.index(d) for d in range(n)])


def _reshape(x, shape, **_):
    dims = [x.shape[i] if s == 0 else int(s) for i, s in enumerate(shape.tolist())]
    if dims and dims[0] == 1 and x.dim() and x.shape[0] > 1:
        dims[0] = x.shape[0]  # a batch-1 export's fixed target shape keeps the batch of its input
    return x.reshape(dims)


def _resize_scales(scales, mode=b"nearest", coordinate_transformation_mode=b"half_pixel",
                   nearest_mode=b"round_prefer_floor", **_) -> tuple[float, ...]:
    """The (height, width) scales of a Resize node, checked to be the kind the converted networks use."""
    if (mode, coordinate_transformation_mode, nearest_mode) != (b"nearest", b"asymmetric", b"floor"):
        raise NotImplementedError("Resize: only nearest / asymmetric / floor (torch's 'nearest') is supported")
    if scales is None or scales.numel() == 0:
        raise NotImplementedError("Resize: only `scales` is supported")
    s = scales.tolist()
    if s[:2] != [1.0, 1.0]:
        raise NotImplementedError("Resize: batch and channels must keep their size")
    return tuple(s[2:])


def _resize(x, roi=None, scales=None, sizes=None, **attrs):
    s = _resize_scales(scales, **attrs)
    return x if s == (1.0, 1.0) else F.interpolate(x, scale_factor=s, mode="nearest")


def _resize_bilinear(x, roi=None, scales=None, sizes=None, **attrs):
    """A nearest upsampling run as bilinear instead: the transformer's 2 px checks go (bench/README.md)."""
    s = _resize_scales(scales, **attrs)
    return x if s == (1.0, 1.0) else F.interpolate(x, scale_factor=s, mode="bilinear", align_corners=False)


def _axis_shape(scale: torch.Tensor, x: torch.Tensor, axis: int) -> torch.Tensor:
    if scale.dim() == 0 or scale.numel() == 1:
        return scale.reshape(())
    shape = [1] * x.dim()
    shape[axis % x.dim()] = -1
    return scale.reshape(shape)


OPS = {
    "Conv": _conv,
    "Pad": _pad,
    "Reshape": _reshape,
    "Resize": _resize,
    "Add": lambda a, b, **_: a + b,
    "Sub": lambda a, b, **_: a - b,
    "Mul": lambda a, b, **_: a * b,
    "Sqrt": lambda x, **_: torch.sqrt(x),
    "Reciprocal": lambda x, **_: torch.reciprocal(x),
    "Relu": lambda x, **_: torch.relu(x),
    "Sigmoid": lambda x, **_: torch.sigmoid(x),
    "Clip": lambda x, lo=None, hi=None, **_: torch.clamp(x, lo, hi),
    "Transpose": lambda x, *, perm, **_: x.permute(list(perm)),
    "GlobalAveragePool": lambda x, **_: x.mean(dim=tuple(range(2, x.dim())), keepdim=True),
}
QUANTIZATION = {"QuantizeLinear", "DequantizeLinear"}


class OnnxModule(nn.Module):
    """`OnnxModule(read_graph(bytes))(*inputs)` -> the graph's outputs (a tensor, or a tuple when several)."""

    def __init__(self, graph: Graph, fake_quant: bool = True, upsample: str = "nearest"):
        """`fake_quant=False` runs the activations in float: quantize/dequantize nodes that act on activations
        pass their input through (the weights stay as quantized in the file). `upsample="bilinear"` runs the
        graph's nearest-neighbour Resize nodes as bilinear ones."""
        super().__init__()
        if upsample not in ("nearest", "bilinear"):
            raise ValueError(f"upsample must be nearest or bilinear, not {upsample!r}")
        self.upsample = upsample
        self.fake_quant = True  # weights are always dequantized as written
        unknown = sorted({n.op_type for n in graph.nodes} - set(OPS) - QUANTIZATION)
        if unknown:
            raise NotImplementedError(f"ONNX operators not supported: {', '.join(unknown)}")
        self.input_names, self.output_names = list(graph.inputs), list(graph.outputs)
        self._int_range: dict[str, tuple[int, int]] = {}  # zero point name -> the range its quantized values span
        constants: dict[str, torch.Tensor] = {}
        for key, array in graph.initializers.items():
            if array.dtype in _INT_RANGE:
                self._int_range[key] = _INT_RANGE[array.dtype]
            constants[key] = torch.from_numpy(np.asarray(array, dtype=np.float32).copy())
        self.nodes: list[Node] = []
        with torch.no_grad():
            for node in graph.nodes:
                if all(i == "" or i in constants for i in node.inputs):  # fold: weights only
                    for key, value in zip(node.outputs, self._run(node, constants)):
                        constants[key] = value
                else:
                    self.nodes.append(node)
        self.fake_quant = fake_quant
        needed = {i for n in self.nodes for i in n.inputs} | set(self.output_names)
        self._free_after = self._last_uses()
        self._buffer_of = {}
        for i, key in enumerate(sorted(k for k in constants if k in needed)):
            self.register_buffer(f"c{i}", constants[key], persistent=False)
            self._buffer_of[key] = f"c{i}"

    def _last_uses(self) -> list[list[str]]:
        """Per node, the values no later node reads (dropped once it has run, so a forward pass holds only the
        activations still needed, not every one the graph made: 616 -> 138 MB above the weights for
        the arbitrary transformer at 680 x 680 px)."""
        last: dict[str, int] = {}
        for i, node in enumerate(self.nodes):
            for key in node.inputs:
                last[key] = i
        free: list[list[str]] = [[] for _ in self.nodes]
        for key, i in last.items():
            if key and key not in self.output_names:
                free[i].append(key)
        return free

    def _run(self, node: Node, values: dict) -> tuple[torch.Tensor, ...]:
        args = [values[i] if i else None for i in node.inputs]
        attrs = node.attributes
        if node.op_type in QUANTIZATION and not self.fake_quant:
            return (args[0],)
        if node.op_type == "QuantizeLinear":
            x, scale, zero = (args + [None])[:3]
            lo, hi = self._int_range.get(node.inputs[2], (0, 255)) if zero is not None else (0, 255)
            zero = zero if zero is not None else 0.0
            axis = attrs.get("axis", 1)
            out = torch.clamp(torch.round(x / _axis_shape(scale, x, axis)) + _axis_shape(zero, x, axis), lo, hi)
        elif node.op_type == "DequantizeLinear":
            x, scale, zero = (args + [None])[:3]
            axis = attrs.get("axis", 1)
            zero = _axis_shape(zero, x, axis) if zero is not None else 0.0
            out = (x - zero) * _axis_shape(scale, x, axis)
        elif node.op_type == "Resize" and self.upsample == "bilinear":
            out = _resize_bilinear(*args, **attrs)
        else:
            out = OPS[node.op_type](*args, **attrs)
        return out if isinstance(out, tuple) else (out,)

    def forward(self, *inputs: torch.Tensor):
        if len(inputs) != len(self.input_names):
            raise ValueError(f"expected {len(self.input_names)} inputs ({', '.join(self.input_names)})")
        values = {key: getattr(self, buf) for key, buf in self._buffer_of.items()}
        values.update(zip(self.input_names, inputs))
        for node, done in zip(self.nodes, self._free_after):
            values.update(zip(node.outputs, self._run(node, values)))
            for key in done:
                del values[key]
        outputs = tuple(values[o] for o in self.output_names)
        return outputs[0] if len(outputs) == 1 else outputs
