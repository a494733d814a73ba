"""A minimal PNG codec: 8-bit RGB, no interlace, filter 0 on every row, so that no imaging
library is needed and :func:`read_png` decodes exactly what :func:`png_bytes` writes."""

from __future__ import annotations

import struct
import zlib

import numpy as np


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_bytes(image: np.ndarray) -> bytes:
    """An 8-bit RGB PNG of ``image`` uint8 [H, W, 3]."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    h, w, c = image.shape
    if c != 3:
        raise ValueError(f"png_bytes writes RGB images, got {c} channels")
    raw = np.concatenate([np.zeros((h, 1), np.uint8), image.reshape(h, w * 3)], axis=1).tobytes()
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    body = _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def read_png(data: bytes) -> np.ndarray:
    """Decode a PNG written by :func:`png_bytes` back to uint8 [H, W, 3]."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, size = 8, b"", (0, 0)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, payload = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", payload)
            if (depth, colour, interlace) != (8, 2, 0):
                raise ValueError("read_png reads 8-bit RGB non-interlaced PNGs only")
            size = (h, w)
        elif kind == b"IDAT":
            idat += payload
        pos += 12 + length
    h, w = size
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + 3 * w)
    if np.any(rows[:, 0] != 0):
        raise ValueError("read_png reads filter-0 rows only")
    image: np.ndarray = rows[:, 1:].reshape(h, w, 3).copy()
    return image
