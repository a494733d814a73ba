"""What rooms are built of: :class:`Part` (one box or cylinder placed in the world: robot base
frame, the work surface at z = 0, the floor below it), a :class:`Wall` run, a :class:`Piece`
collecting one piece of furniture's parts in the wall's frame, and the palette they are drawn in.
Parts are visual only (they never collide), so their sizes are drawn freely.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Shape = Literal["box", "cylinder"]

BLACK = (0.06, 0.06, 0.07, 1.0)
DARK = (0.15, 0.15, 0.16, 1.0)
STEEL = (0.62, 0.63, 0.65, 1.0)
WHITE = (0.9, 0.9, 0.88, 1.0)
CARDBOARD = (0.62, 0.47, 0.3, 1.0)
ACCENTS = ((0.75, 0.12, 0.1, 1.0), (0.1, 0.28, 0.62, 1.0), (0.95, 0.7, 0.12, 1.0), (0.2, 0.5, 0.25, 1.0),
           (0.9, 0.4, 0.1, 1.0), (0.5, 0.2, 0.5, 1.0), (0.1, 0.55, 0.6, 1.0))


@dataclass(frozen=True)
class Part:
    """One primitive: ``size`` is a box's half extents [3] or a cylinder's (radius, half
    height, 0); ``yaw`` turns it about z (rad); ``material`` names a room material
    (``envs/rooms/kit.xml``) and ``rgba`` tints it."""

    shape: Shape
    pos: tuple[float, float, float]
    size: tuple[float, float, float]
    yaw: float
    material: str
    rgba: tuple[float, float, float, float]


@dataclass(frozen=True)
class Wall:
    """A straight run along a wall: ``start`` [2] (floor point at the wall), ``along`` and
    ``inward`` unit vectors [2] (along the wall, into the room), its ``length``, and ``floor_z``."""

    start: np.ndarray
    along: np.ndarray
    inward: np.ndarray
    length: float
    floor_z: float

    @property
    def yaw(self) -> float:
        return float(np.arctan2(self.along[1], self.along[0]))


class Piece:
    """Collects the parts of one piece in its own frame: ``a`` along the wall from the piece's
    left end, ``d`` out from the wall, ``z`` up from the floor."""

    def __init__(self, wall: Wall, offset: float) -> None:
        self.wall, self.offset = wall, offset
        self.parts: list[Part] = []

    def _world(self, a: float, d: float, z: float) -> tuple[float, float, float]:
        xy = self.wall.start + (self.offset + a) * self.wall.along + d * self.wall.inward
        return float(xy[0]), float(xy[1]), float(self.wall.floor_z + z)

    def box(self, a: float, d: float, z: float, half: tuple[float, float, float], rgba: tuple[float, ...],
            material: str = "room_flat") -> None:
        self.parts.append(Part("box", self._world(a, d, z), half, self.wall.yaw, material, as_rgba(rgba)))

    def cylinder(self, a: float, d: float, z: float, radius: float, half_height: float, rgba: tuple[float, ...],
                 material: str = "room_flat") -> None:
        self.parts.append(Part("cylinder", self._world(a, d, z), (radius, half_height, 0.0), 0.0, material,
                               as_rgba(rgba)))


def as_rgba(rgba: Sequence[float]) -> tuple[float, float, float, float]:
    """Four floats (a colour from data or a palette)."""
    r, g, b, a = (float(v) for v in rgba)
    return r, g, b, a


def shade(rng: np.random.Generator, rgba: tuple[float, ...], spread: float = 0.12) -> tuple[float, ...]:
    k = 1.0 + spread * (2.0 * rng.random() - 1.0)
    return (*(min(1.0, c * k) for c in rgba[:3]), 1.0)


def pick(rng: np.random.Generator, options: tuple) -> tuple:
    return options[int(rng.integers(len(options)))]
