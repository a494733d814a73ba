"""msgpack with numpy arrays, wire-compatible with openpi-style policy servers.

An ndarray travels as the map ``{b"__ndarray__": True, b"data": <raw bytes>,
b"dtype": dtype.str, b"shape": shape}`` and a numpy scalar as ``{b"__npgeneric__":
True, b"data": scalar.item(), b"dtype": dtype.str}``. Strings are packed as msgpack
str and bytes as msgpack bin (``use_bin_type=True``) and decoded with ``raw=False``,
so a key the sender wrote as ``str`` comes back as ``str`` and the marker keys come
back as ``bytes``.

Note: ``np.float64``, ``np.str_`` and ``np.bytes_`` subclass Python's float, str and
bytes, so msgpack packs them natively and they decode as the Python type (as with
any openpi peer). Map keys must be ``str`` or ``bytes`` on decode.
"""

from __future__ import annotations

import math
from typing import Any

import msgpack
import numpy as np

from ..errors import InvalidInputError

__all__ = ["UNSUPPORTED_KINDS", "packb", "unpackb"]

# void (structured), object and complex arrays have no portable byte layout on
# the wire; openpi peers refuse them too.
UNSUPPORTED_KINDS = frozenset("VOc")

_ND = b"__ndarray__"
_GEN = b"__npgeneric__"


def _check_dtype(dtype: np.dtype) -> None:
    if dtype.kind in UNSUPPORTED_KINDS:
        raise InvalidInputError(
            f"cannot send numpy dtype {dtype} (kind {dtype.kind!r}) over msgpack; "
            "supported kinds: bool, integer, unsigned, float, str/bytes, datetime/timedelta "
            "(not structured 'V', object 'O' or complex 'c')"
        )


def _encode(obj: Any) -> Any:
    """msgpack ``default`` hook: turn numpy objects into tagged maps."""
    if isinstance(obj, np.ndarray):
        _check_dtype(obj.dtype)
        # A flat byte view of the C-ordered data: msgpack copies it straight into
        # its buffer, where tobytes() would first allocate and fill a fresh copy
        # (25x slower for a few camera images). uint8 because some dtypes
        # (datetime64) cannot export a buffer of their own.
        data = np.ascontiguousarray(obj).reshape(-1).view(np.uint8).data
        return {_ND: True, b"data": data, b"dtype": obj.dtype.str, b"shape": obj.shape}
    if isinstance(obj, np.generic):
        _check_dtype(obj.dtype)
        return {_GEN: True, b"data": obj.item(), b"dtype": obj.dtype.str}
    raise TypeError(f"cannot serialize {type(obj).__name__} with msgpack: {obj!r:.80}")


def packb(obj: Any) -> bytes:
    """Serialize ``obj`` (dicts, lists, scalars, str, bytes, numpy arrays) to bytes."""
    return msgpack.packb(obj, default=_encode, use_bin_type=True)


def _marker(obj: dict, key: bytes) -> bool:
    # Tolerate peers that wrote the marker keys as str instead of bin.
    return key in obj or key.decode() in obj


def _field(obj: dict, name: str) -> Any:
    key = name.encode()
    if key in obj:
        return obj[key]
    if name in obj:
        return obj[name]
    raise InvalidInputError(f"tagged numpy map is missing its {name!r} field; keys: {sorted(map(str, obj))}")


def _decode_dtype(raw: Any) -> np.dtype:
    text = raw.decode() if isinstance(raw, bytes) else raw
    try:
        dtype = np.dtype(text)
    except TypeError as exc:
        raise InvalidInputError(f"bad numpy dtype {raw!r} on the wire: {exc}") from exc
    _check_dtype(dtype)
    return dtype


def _make_hook(writable: bool):
    def hook(obj: dict) -> Any:
        if _marker(obj, _ND):
            dtype = _decode_dtype(_field(obj, "dtype"))
            shape = tuple(int(n) for n in _field(obj, "shape"))
            data = _field(obj, "data")
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise InvalidInputError(f"ndarray data must be bytes, got {type(data).__name__}")
            expected = math.prod(shape) * dtype.itemsize
            if len(data) != expected:
                raise InvalidInputError(
                    f"ndarray of shape {shape} and dtype {dtype} needs {expected} bytes, "
                    f"got {len(data)}"
                )
            array = np.frombuffer(data, dtype=dtype).reshape(shape)
            # frombuffer views the immutable message bytes; copy so callers may
            # modify observations and actions in place.
            return array.copy() if writable else array
        if _marker(obj, _GEN):
            dtype = _decode_dtype(_field(obj, "dtype"))
            # asarray(...)[()] handles every kind, e.g. datetime64 sent as an int.
            return np.asarray(_field(obj, "data"), dtype=dtype)[()]
        return obj

    return hook


_HOOK_COPY = _make_hook(writable=True)
_HOOK_VIEW = _make_hook(writable=False)


def unpackb(data: bytes, *, writable: bool = True) -> Any:
    """Deserialize bytes from :func:`packb` (or any openpi peer).

    Arrays come back C-contiguous with their original dtype and shape; with
    ``writable=False`` they are read-only views of ``data`` (no copy).
    Raises ValueError for malformed input.
    """
    try:
        return msgpack.unpackb(
            data, object_hook=_HOOK_COPY if writable else _HOOK_VIEW, raw=False
        )
    except Exception as exc:  # msgpack signals bad input with several exception types
        detail = str(exc) or type(exc).__name__
        raise InvalidInputError(f"not a valid msgpack-numpy message: {detail}") from exc
