"""Reading action chunks from JSON files.

Accepted forms:
- ``{"shape": [T, D], "dtype": "float32", "data": [[...], ...]}``
- ``{"action_chunks": [[[...], ...], ...]}`` (a list of chunks)
- a bare list of rows ``[[...], ...]``
Any object form may carry ``"layout"``: any of :data:`~.policy_api.LAYOUTS` (``cosmos_ee_delta``,
``joint_pos``, ``joint_vel``); without it an 8-wide file is ``joint_pos``, never velocities.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InvalidInputError, ResourceNotFoundError
from .policy_api import LAYOUTS

FORMS = '{"shape", "dtype", "data"}, {"action_chunks": [...]}, or a bare list of rows'


@dataclass
class ActionFile:
    """Chunks read from a file: each float64 [T, D] with one D for the whole file."""

    chunks: list[np.ndarray]
    layout: str | None
    path: Path

    @property
    def width(self) -> int:
        return int(self.chunks[0].shape[1])


def _as_chunk(rows: object, where: str) -> np.ndarray:
    try:
        arr = np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{where}: rows must be equal-length lists of numbers ({exc})") from None
    if arr.size == 0:
        raise InvalidInputError(f"{where}: empty chunk (no action rows)")
    if arr.ndim != 2:
        raise InvalidInputError(f"{where}: expected a 2-D list of rows [T, D], got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InvalidInputError(f"{where}: empty chunk (shape {arr.shape})")
    if not np.all(np.isfinite(arr)):
        r, c = np.argwhere(~np.isfinite(arr))[0]
        raise InvalidInputError(f"{where}: NaN or inf at row {r}, column {c}")
    return arr


def load_action_file(path: str | os.PathLike[str]) -> ActionFile:
    """Parse an action file; raises FileNotFoundError or ValueError naming the problem."""
    path = Path(path)
    if not path.is_file():
        raise ResourceNotFoundError(f"action file not found: {path}")
    try:
        doc = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path} is not valid JSON: {exc}") from None
    layout = None
    if isinstance(doc, list):
        chunks = [_as_chunk(doc, str(path))]
    elif isinstance(doc, dict):
        layout = doc.get("layout")
        if layout is not None and layout not in LAYOUTS:
            raise InvalidInputError(f"{path}: unknown layout {layout!r}; valid: {', '.join(LAYOUTS)}")
        if "action_chunks" in doc:
            raw = doc["action_chunks"]
            if not isinstance(raw, list) or not raw:
                raise InvalidInputError(f"{path}: 'action_chunks' must be a non-empty list of chunks")
            chunks = [_as_chunk(c, f"{path} chunk {i}") for i, c in enumerate(raw)]
        elif "data" in doc:
            chunk = _as_chunk(doc["data"], str(path))
            shape = doc.get("shape")
            if shape is not None and list(chunk.shape) != list(shape):
                raise InvalidInputError(f"{path}: 'shape' says {shape} but 'data' is {list(chunk.shape)}")
            chunks = [chunk]
        else:
            raise InvalidInputError(f"{path}: no 'data' or 'action_chunks' key; accepted forms: {FORMS}")
    else:
        raise InvalidInputError(f"{path}: unsupported JSON top level {type(doc).__name__}; accepted forms: {FORMS}")
    widths = {c.shape[1] for c in chunks}
    if len(widths) != 1:
        raise InvalidInputError(f"{path}: chunks have different widths {sorted(widths)}")
    return ActionFile(chunks, layout, path)
