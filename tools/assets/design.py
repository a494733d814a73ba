"""What the generator knows of one library kind: :class:`Design`, its geometry at scale 1 in
its body frame (origin at the bottom centre, z up, long axis x), sized to
``envs/objects/library/catalog.json``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .pieces import Piece


@dataclass(frozen=True)
class Design:
    """One kind's geometry: what it is, its visual mesh, collision pieces, visual-only trim
    primitives and the look of its two materials (MJCF attributes)."""

    about: str
    vertices: np.ndarray
    faces: np.ndarray
    pieces: list[Piece]
    paint: str
    trims: tuple[Piece, ...] = ()
    trim: str = ""
