"""Collision pieces: MuJoCo primitive geoms (:class:`Piece`) placed to follow a shape (rings of
wall boxes, stacked cylinders, capsules along a path) and the inertia of several as one solid."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .mesh import Point, radius_at


@dataclass(frozen=True)
class Piece:
    """A primitive geom: MuJoCo ``type``, ``size`` (MJCF half-sizes), ``pos`` and ``quat`` (w x y z)."""

    type: str
    size: tuple[float, ...]
    pos: tuple[float, float, float]
    quat: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)

    def volume(self) -> float:
        s = self.size
        if self.type == "box":
            return 8 * s[0] * s[1] * s[2]
        if self.type == "cylinder":
            return 2 * np.pi * s[0] ** 2 * s[1]
        if self.type == "capsule":
            return 2 * np.pi * s[0] ** 2 * s[1] + 4 / 3 * np.pi * s[0] ** 3
        return 4 / 3 * np.pi * s[0] ** 3  # sphere

    def inertia(self, mass: float) -> np.ndarray:
        """Inertia [3, 3] about its centre, in its own frame, for a solid of ``mass``."""
        s = self.size
        if self.type == "box":
            x, y, z = (2 * np.array(s[:3])) ** 2
            return mass / 12 * np.diag([y + z, x + z, x + y])
        if self.type == "cylinder":
            r, h = s[0], s[1]
            side = mass * (3 * r**2 + (2 * h) ** 2) / 12
            return np.diag([side, side, mass * r**2 / 2])
        if self.type == "capsule":
            r, h = s[0], s[1]
            mc = mass * 2 * h / (2 * h + 4 / 3 * r)  # the cylinder's share of the volume
            ms = mass - mc
            side = mc * (r**2 / 4 + (2 * h) ** 2 / 12) + ms * (2 * r**2 / 5 + h**2 + 3 * h * r / 4)
            return np.diag([side, side, mc * r**2 / 2 + ms * 2 * r**2 / 5])
        return np.eye(3) * 2 / 5 * mass * s[0] ** 2


def quat_mul(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, float, float, float]:
    w1, v1, w2, v2 = a[0], np.array(a[1:]), b[0], np.array(b[1:])
    v = w1 * v2 + w2 * v1 + np.cross(v1, v2)
    return (float(w1 * w2 - v1 @ v2), float(v[0]), float(v[1]), float(v[2]))


def quat_axis(axis: int, angle: float) -> tuple[float, float, float, float]:
    """Rotation by ``angle`` about the coordinate axis ``axis`` (0 x, 1 y, 2 z)."""
    q = [float(np.cos(angle / 2)), 0.0, 0.0, 0.0]
    q[1 + axis] = float(np.sin(angle / 2))
    return (q[0], q[1], q[2], q[3])


def quat_matrix(q: tuple[float, ...]) -> np.ndarray:
    w, x, y, z = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def wall_ring(p0: Point, p1: Point, thickness: float, n: int) -> list[Piece]:
    """``n`` boxes round the z axis, each the profile-plane rectangle with one long side from
    ``p0`` to ``p1`` (r, z) and ``thickness`` of material to the right of that direction;
    tangentially long enough that neighbours meet on the p0-p1 side (no gaps)."""
    a, b = np.array(p0), np.array(p1)
    length = float(np.linalg.norm(b - a))
    d = (b - a) / length
    mid = (a + b) / 2 + np.array([d[1], -d[0]]) * thickness / 2
    tilt = float(np.arctan2(d[0], d[1]))
    reach = max(a[0], b[0]) * np.tan(np.pi / n) + 0.0005
    pieces = []
    for k in range(n):
        theta = 2 * np.pi * k / n
        pos = (float(mid[0] * np.cos(theta)), float(mid[0] * np.sin(theta)), float(mid[1]))
        quat = quat_mul(quat_axis(2, theta), quat_axis(1, tilt))
        pieces.append(Piece("box", (thickness / 2, float(reach), length / 2), pos, quat))
    return pieces


def stacked_cylinders(profile: list[Point], cuts: list[float]) -> list[Piece]:
    """Cylinders about z between consecutive heights ``cuts``, each as wide as the profile at
    its middle."""
    return [Piece("cylinder", (radius_at(profile, (z0 + z1) / 2), (z1 - z0) / 2), (0.0, 0.0, (z0 + z1) / 2))
            for z0, z1 in itertools.pairwise(cuts)]


def segment_capsule(a: np.ndarray, b: np.ndarray, radius: float) -> Piece:
    """A capsule of ``radius`` round the segment a-b [3]."""
    d = b - a
    length = float(np.linalg.norm(d))
    axis = np.cross([0.0, 0.0, 1.0], d / length)
    s = float(np.linalg.norm(axis))
    angle = float(np.arctan2(s, d[2] / length))
    x, y, z = np.sin(angle / 2) * axis / s if s > 1e-12 else np.zeros(3)
    mid = (a + b) / 2
    return Piece("capsule", (radius, length / 2), (float(mid[0]), float(mid[1]), float(mid[2])),
                 (float(np.cos(angle / 2)), float(x), float(y), float(z)))


def inertial(pieces: list[Piece], mass: float) -> tuple[np.ndarray, np.ndarray]:
    """Centre of mass [3] and the diagonal [3] of the inertia tensor there (body axes) of the
    pieces as one uniform solid of ``mass`` (overlaps counted twice)."""
    vols = np.array([p.volume() for p in pieces])
    masses = mass * vols / vols.sum()
    pos = np.array([p.pos for p in pieces])
    com = masses @ pos / mass
    total = np.zeros((3, 3))
    for p, m, c in zip(pieces, masses, pos, strict=True):
        rot = quat_matrix(p.quat)
        d = c - com
        total += rot @ p.inertia(m) @ rot.T + m * (d @ d * np.eye(3) - np.outer(d, d))
    return com, np.diag(total).copy()
