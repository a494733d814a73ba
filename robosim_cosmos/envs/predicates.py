"""Goal predicates of the tasks, read from physics.

Each predicate kind relates a *subject* object to a *reference* (another object, or the goal
region) or to nothing. They are pure functions of an :class:`ObjectView` per object (pose,
size, kind facts) plus whether the fingers hold the subject, so tests can build success and
failure states by hand. A goal may set its own :class:`Thresholds` where a task keeps numbers
other than the defaults (the original cube tasks do).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from .objects import ObjectKind

PredicateKind = Literal["in", "on", "stacked", "lifted", "upright", "next_to", "in_region", "out_of"]
PREDICATE_KINDS: tuple[PredicateKind, ...] = get_args(PredicateKind)

UPRIGHT_COS = float(np.cos(np.deg2rad(15.0)))
"""An object is upright when its body z axis is within 15° of the world's."""
LIFT_M = 0.05
"""Lifted: the base at least this far above where it rested at reset, held by both fingers."""
ON_TABLE_M = 0.012
"""Resting on the table: the base within this of the table top."""
NEXT_TO_GAP_M = 0.06
"""Next to: the footprints' edges at most this far apart."""
SETTLE_TOL_M = 0.015
"""On/stacked: the base within this of the support surface."""


@dataclass(frozen=True)
class ObjectView:
    """What the predicates read of one object: kind facts, scale, base position [3] (bottom
    centre, world), rotation [3, 3], where it rested at reset [3], and whether both fingers
    touch it (``held``) or either does (``touched``)."""

    kind: ObjectKind
    scale: float
    pos: np.ndarray
    rot: np.ndarray
    start: np.ndarray
    held: bool = False
    touched: bool = False

    @property
    def size(self) -> np.ndarray:
        return np.asarray(self.kind.size) * self.scale

    @property
    def centre(self) -> np.ndarray:
        """Centre of the bounding box [3], world."""
        return self.pos + self.rot @ np.array([0.0, 0.0, 0.5 * self.size[2]])

    @property
    def radius(self) -> float:
        return self.kind.radius_at(self.scale)

    @property
    def bottom_z(self) -> float:
        """Height of the underside: the base's, or for a kind that rests on any face alike (a
        cube) the centre's less half its height."""
        return float(self.centre[2] - 0.5 * self.size[2]) if self.kind.any_face_down else float(self.pos[2])


@dataclass(frozen=True)
class Thresholds:
    """The numbers a goal's predicate compares with, where a task keeps its own."""

    on_table_m: float = ON_TABLE_M
    """in_region, next_to, out_of: the underside at most this above the table top."""
    inner_margin_m: float | None = None
    """in: None, the centre within the container's inner box; a margin, within its inner radius
    less the margin (a round container)."""
    floor_gap_m: float | None = None
    """in: None, the base between the floor and the rim; a gap, the underside at most this above
    the container's floor (resting on it)."""


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Region:
    """A square goal region on the table: centre [2] and half side (metres)."""

    centre: np.ndarray
    half: float


def _local_xy(point: np.ndarray, ref: ObjectView) -> np.ndarray:
    """``point``'s xy in ``ref``'s body frame (yaw only)."""
    yaw = np.arctan2(ref.rot[1, 0], ref.rot[0, 0])
    c, s = np.cos(yaw), np.sin(yaw)
    d = point[:2] - ref.pos[:2]
    return np.array([c * d[0] + s * d[1], -s * d[0] + c * d[1]])


def upright(a: ObjectView) -> bool:
    return bool(a.rot[2, 2] >= UPRIGHT_COS)


def on_table(a: ObjectView, t: Thresholds = DEFAULT_THRESHOLDS) -> bool:
    return bool(a.bottom_z <= t.on_table_m and not a.touched)


def inside(a: ObjectView, c: ObjectView, t: Thresholds = DEFAULT_THRESHOLDS) -> bool:
    """``a``'s centre within ``c``'s inner extent and below its rim, released."""
    box = c.kind.container
    if box is None:
        return False
    local = _local_xy(a.centre, c)
    if t.inner_margin_m is None:
        within = bool(np.all(np.abs(local) <= np.asarray(box.inner) * c.scale))
    else:
        within = bool(np.linalg.norm(local) <= box.inner[0] * c.scale - t.inner_margin_m)
    if t.floor_gap_m is None:
        low = a.bottom_z <= c.pos[2] + c.size[2] and a.bottom_z >= c.pos[2] - 0.005
    else:
        low = a.bottom_z <= c.pos[2] + box.floor * c.scale + t.floor_gap_m
    return within and bool(low) and not a.touched


def on(a: ObjectView, s: ObjectView) -> bool:
    """``a`` resting on ``s``'s support surface (a plate, or the top of a block), released."""
    if s.kind.support is not None:
        height, radius = s.kind.support.height * s.scale, s.kind.support.radius * s.scale
        near = bool(np.linalg.norm(a.centre[:2] - s.pos[:2]) <= radius)
    else:  # the flat top of a box-like object
        height = s.size[2]
        near = bool(np.all(np.abs(_local_xy(a.centre, s)) <= 0.5 * s.size[:2]))
    level = abs(a.bottom_z - (s.pos[2] + height)) <= SETTLE_TOL_M
    return bool(near and level and not a.touched)


def stacked(a: ObjectView, b: ObjectView) -> bool:
    """``a`` on top of ``b``, both upright, released."""
    return on(a, b) and upright(a) and upright(b)


def lifted(a: ObjectView) -> bool:
    return bool(a.held and a.bottom_z >= a.start[2] + LIFT_M)


def next_to(a: ObjectView, b: ObjectView, t: Thresholds = DEFAULT_THRESHOLDS) -> bool:
    """``a`` on the table beside ``b``: footprints at most NEXT_TO_GAP_M apart, not on it."""
    gap = np.linalg.norm(a.pos[:2] - b.pos[:2]) - a.radius - b.radius
    return bool(on_table(a, t) and gap <= NEXT_TO_GAP_M and not inside(a, b))


def in_region(a: ObjectView, region: Region, t: Thresholds = DEFAULT_THRESHOLDS) -> bool:
    """``a``'s centre over the region, on the table."""
    return bool(np.all(np.abs(a.centre[:2] - region.centre) <= region.half) and a.bottom_z <= t.on_table_m)


def out_of(a: ObjectView, c: ObjectView, t: Thresholds = DEFAULT_THRESHOLDS) -> bool:
    """``a`` on the table, clear of ``c``'s footprint, released."""
    return bool(on_table(a, t) and np.linalg.norm(a.pos[:2] - c.pos[:2]) >= c.radius)
