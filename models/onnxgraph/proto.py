"""Read an ONNX file (a protobuf `ModelProto`) without the onnx package: the graph's weight tensors and its nodes.

Only what a converted image network needs is read. ModelProto.graph is field 7. GraphProto: node (1),
initializer (5), input (11), output (12). NodeProto: input (1), output (2), name (3), op_type (4), attribute (5),
domain (7). AttributeProto: name (1), f (2), i (3), s (4), t (5), floats (7), ints (8). TensorProto: dims (1),
data_type (2), float_data (4), int32_data (5), int64_data (7), name (8), raw_data (9). ValueInfoProto: name (1).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

# TensorProto.DataType -> numpy dtype; int8 and int32 are what quantized (QDQ) graphs add to float32
DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 6: np.int32, 7: np.int64}
_INT32_DATA_TYPES = {2, 3, 6}  # stored in int32_data when not in raw_data
_MODEL_GRAPH = 7
_GRAPH_NODE, _GRAPH_INITIALIZER, _GRAPH_INPUT, _GRAPH_OUTPUT = 1, 5, 11, 12
_DIMS, _DATA_TYPE, _FLOAT_DATA, _INT32_DATA, _INT64_DATA, _NAME, _RAW_DATA = 1, 2, 4, 5, 7, 8, 9


class OnnxFormatError(ValueError):
    pass


@dataclass
class Node:
    op_type: str
    inputs: list[str]
    outputs: list[str]
    attributes: dict = field(default_factory=dict)
    name: str = ""


@dataclass
class Graph:
    nodes: list[Node]
    initializers: dict[str, np.ndarray]
    inputs: list[str]  # graph inputs that are not initializers
    outputs: list[str]


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise OnnxFormatError("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise OnnxFormatError("varint too long")


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _fields(buf: bytes):
    """(field number, wire type, value) for each field of one protobuf message."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + size], pos + size
            if pos > len(buf):
                raise OnnxFormatError("truncated field")
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise OnnxFormatError(f"unsupported wire type {wire}")
        yield number, wire, value


def _varints(wire: int, value) -> list[int]:
    """A repeated integer field's values: packed (wire 2) or one per field occurrence."""
    if wire != 2:
        return [_signed(value)]
    out, pos = [], 0
    while pos < len(value):
        v, pos = _varint(value, pos)
        out.append(_signed(v))
    return out


def _tensor(buf: bytes) -> tuple[str, np.ndarray]:
    name, dims, dtype, raw, floats, ints = "", [], None, None, [], []
    for number, wire, value in _fields(buf):
        if number == _NAME:
            name = bytes(value).decode()
        elif number == _DIMS:
            dims.extend(_varints(wire, value))
        elif number == _DATA_TYPE:
            dtype = value
        elif number == _RAW_DATA:
            raw = bytes(value)
        elif number == _FLOAT_DATA:
            floats.extend(struct.unpack(f"<{len(value) // 4}f", value) if wire == 2 else struct.unpack("<f", value))
        elif number in (_INT32_DATA, _INT64_DATA):
            ints.extend(_varints(wire, value))
    if dtype not in DTYPES:
        raise OnnxFormatError(f"tensor {name!r} has data type {dtype}, which this reader does not support")
    np_dtype = np.dtype(DTYPES[dtype]).newbyteorder("<")
    if raw is not None:
        data = np.frombuffer(raw, dtype=np_dtype).copy()
    elif dtype == 1:
        data = np.asarray(floats, dtype=np.float32)
    else:
        data = np.asarray(ints, dtype=np.int64).astype(np_dtype)
    expected = int(np.prod(dims)) if dims else 1
    if data.size != expected:
        raise OnnxFormatError(f"tensor {name!r}: {data.size} values for shape {dims}")
    return name, data.astype(DTYPES[dtype]).reshape(dims)


def _attribute(buf: bytes) -> tuple[str, object]:
    name, value, ints, floats = "", None, [], []
    for number, wire, v in _fields(buf):
        if number == 1:
            name = bytes(v).decode()
        elif number == 2:
            value = struct.unpack("<f", v)[0]
        elif number == 3:
            value = _signed(v)
        elif number == 4:
            value = bytes(v)
        elif number == 5:
            value = _tensor(bytes(v))[1]
        elif number == 7:
            floats.extend(struct.unpack(f"<{len(v) // 4}f", v) if wire == 2 else struct.unpack("<f", v))
        elif number == 8:
            ints.extend(_varints(wire, v))
    if value is None:
        value = ints if ints else floats
    return name, value


def _node(buf: bytes) -> Node:
    node = Node("", [], [])
    for number, wire, value in _fields(buf):
        if number == 1:
            node.inputs.append(bytes(value).decode())
        elif number == 2:
            node.outputs.append(bytes(value).decode())
        elif number == 3:
            node.name = bytes(value).decode()
        elif number == 4:
            node.op_type = bytes(value).decode()
        elif number == 5:
            key, attr = _attribute(bytes(value))
            node.attributes[key] = attr
    return node


def _value_name(buf: bytes) -> str:
    return next((bytes(v).decode() for n, w, v in _fields(buf) if n == 1), "")


def _graph(model: bytes) -> bytes:
    graphs = [v for n, w, v in _fields(model) if n == _MODEL_GRAPH and w == 2]
    if len(graphs) != 1:
        raise OnnxFormatError("not an ONNX model (no graph)")
    return bytes(graphs[0])


def read_initializers(model: bytes) -> dict[str, np.ndarray]:
    """{name: array} for every initializer (weight tensor) of an ONNX model's graph."""
    return dict(_tensor(bytes(v)) for n, w, v in _fields(_graph(model)) if n == _GRAPH_INITIALIZER and w == 2)


def read_graph(model: bytes) -> Graph:
    """The nodes (in the file's order, which ONNX requires to be topological), weights, inputs and outputs."""
    nodes, initializers, inputs, outputs = [], {}, [], []
    for number, wire, value in _fields(_graph(model)):
        if wire != 2:
            continue
        if number == _GRAPH_NODE:
            nodes.append(_node(bytes(value)))
        elif number == _GRAPH_INITIALIZER:
            key, array = _tensor(bytes(value))
            initializers[key] = array
        elif number == _GRAPH_INPUT:
            inputs.append(_value_name(bytes(value)))
        elif number == _GRAPH_OUTPUT:
            outputs.append(_value_name(bytes(value)))
    return Graph(nodes, initializers, [i for i in inputs if i not in initializers], outputs)
