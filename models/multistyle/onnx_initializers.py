"""Read the weight tensors (graph initializers) of an ONNX file without the onnx package.

An ONNX file is a protobuf `ModelProto`; its `graph` (field 7) holds `initializer`s (field 5), each a
`TensorProto`: dims (1), data_type (2), float_data (4), name (8), raw_data (9). Only float32 tensors are read:
that is all a converted network's weights need, and anything else is refused by name.
"""
from __future__ import annotations

import struct

import numpy as np

FLOAT = 1
_MODEL_GRAPH, _GRAPH_INITIALIZER = 7, 5
_DIMS, _DATA_TYPE, _FLOAT_DATA, _NAME, _RAW_DATA = 1, 2, 4, 8, 9


class OnnxFormatError(ValueError):
    pass


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


def _fields(buf: bytes):
    """(field number, wire type, value) for each field of one protobuf message."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
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
        yield field, wire, value


def _tensor(buf: bytes) -> tuple[str, np.ndarray]:
    name, dims, dtype, raw, floats = "", [], None, None, []
    for field, wire, value in _fields(buf):
        if field == _NAME:
            name = bytes(value).decode()
        elif field == _DIMS:
            if wire == 2:  # packed
                pos = 0
                while pos < len(value):
                    d, pos = _varint(value, pos)
                    dims.append(d)
            else:
                dims.append(value)
        elif field == _DATA_TYPE:
            dtype = value
        elif field == _RAW_DATA:
            raw = bytes(value)
        elif field == _FLOAT_DATA:
            floats.extend(struct.unpack(f"<{len(value) // 4}f", value) if wire == 2 else struct.unpack("<f", value))
    if dtype != FLOAT:
        raise OnnxFormatError(f"initializer {name!r} has data type {dtype}, not float32")
    data = np.frombuffer(raw, dtype="<f4").copy() if raw is not None else np.asarray(floats, dtype=np.float32)
    expected = int(np.prod(dims)) if dims else 1
    if data.size != expected:
        raise OnnxFormatError(f"initializer {name!r}: {data.size} values for shape {dims}")
    return name, data.reshape(dims)


def read_initializers(model: bytes) -> dict[str, np.ndarray]:
    """{name: float32 array} for every initializer of an ONNX model's graph."""
    graphs = [v for f, w, v in _fields(model) if f == _MODEL_GRAPH and w == 2]
    if len(graphs) != 1:
        raise OnnxFormatError("not an ONNX model (no graph)")
    return dict(_tensor(bytes(v)) for f, w, v in _fields(graphs[0]) if f == _GRAPH_INITIALIZER and w == 2)
