"""Design of the banana: a tapered tube swept along an arc, the arc fitted to the catalog's
18 x 6 cm footprint."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .design import Design
from .mesh import sweep
from .pieces import Piece, segment_capsule

BANANA_ENDS = (-0.9, 0.985)
"""Path parameter of the banana's blunt tip (-x) and of its cut stem end (+x)."""


def banana_radius(u: np.ndarray) -> np.ndarray:
    """Section radius along the path parameter u: 17.5 mm in the middle, tapering to the
    blunt tip at u = -0.9, and a 4.2 mm stem for u in [0.7, 0.985]."""
    body = 0.0175 * np.clip(1 - np.abs(u / 0.9) ** 2.4, 0.0, 1.0) ** 0.55
    stem = np.where((u >= 0.7) & (u <= BANANA_ENDS[1]), 0.0042, 0.0)
    out: np.ndarray = np.maximum(body, stem)
    return out


def banana_path(u: np.ndarray, bend: float, half_angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Centreline xy [K, 2] (an arc of radius ``bend``, ends curling to +y) and unit tangents."""
    a = half_angle * u
    return (np.stack([bend * np.sin(a), bend * (1 - np.cos(a))], axis=1),
            np.stack([np.cos(a), np.sin(a)], axis=1))


def banana_u() -> np.ndarray:
    """Path parameters of the banana's sections, denser towards the ends (the first and last
    are the tips)."""
    s = np.linspace(0.0, 1.0, 19)
    return np.concatenate([BANANA_ENDS[0] * np.cos(np.pi / 2 * s), BANANA_ENDS[1] * np.sin(np.pi / 2 * s[1:])])


def banana_shape() -> tuple[float, float, np.ndarray]:
    """The arc (bend radius, half angle) that gives the 18 x 6 cm footprint, and the xy shift
    [2] that centres it."""
    u = banana_u()
    r = banana_radius(u)

    def extents(bend: float, half_angle: float) -> np.ndarray:
        xy, t = banana_path(u, bend, half_angle)
        side = np.stack([-t[:, 1], t[:, 0]], axis=1) * r[:, None]
        pts = np.vstack([xy + side, xy - side])
        span: np.ndarray = np.ptp(pts, axis=0)
        return span

    def bend_for(half_angle: float) -> float:
        lo, hi = 0.01, 10.0
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if extents(mid, half_angle)[0] < 0.18 else (lo, mid)
        return (lo + hi) / 2

    lo, hi = 0.05, 1.4
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if extents(bend_for(mid), mid)[1] < 0.06 else (lo, mid)
    half_angle = (lo + hi) / 2
    bend = bend_for(half_angle)
    xy, t = banana_path(u, bend, half_angle)
    side = np.stack([-t[:, 1], t[:, 0]], axis=1) * r[:, None]
    pts = np.vstack([xy + side, xy - side])
    return bend, half_angle, -(pts.min(axis=0) + pts.max(axis=0)) / 2


def banana_design() -> Design:
    """The banana lying on the table: a tapered tube swept along an arc in the xy plane, each
    section touching z = 0; five capsules along it; dark tips."""
    bend, half_angle, shift = banana_shape()
    u = banana_u()
    r = banana_radius(u)
    xy, t = banana_path(u, bend, half_angle)
    xy = xy + shift
    normal = np.stack([-t[:, 1], t[:, 0], np.zeros(len(u))], axis=1)
    down = np.broadcast_to([0.0, 0.0, -1.0], normal.shape)
    centre = np.column_stack([xy, r])
    inner = slice(1, len(u) - 1)
    tips = (np.array([*xy[0], r[1]]), np.array([*xy[-1], r[-2]]))
    v, f = sweep(centre[inner], np.stack([normal, down], axis=1)[inner], np.column_stack([r, r])[inner], 16, tips)
    knots = np.array([-0.72, -0.42, -0.12, 0.12, 0.42, 0.72])
    kxy = banana_path(knots, bend, half_angle)[0] + shift
    kr = banana_radius(knots)
    pieces = []
    for i in range(len(knots) - 1):
        rad = float(min(kr[i], kr[i + 1]))
        pieces.append(segment_capsule(np.array([*kxy[i], rad]), np.array([*kxy[i + 1], rad]), rad))
    ends = tuple(Piece("sphere", (0.003,), (float(p[0]), float(p[1]), float(max(p[2], 0.003)))) for p in tips)
    return Design("A banana, 18 cm long, curved in the xy plane, lying on the table.", v, f, pieces,
                  'specular="0.2" shininess="0.3"', ends, 'rgba="0.3 0.22 0.1 1" specular="0.1"')


DESIGNS: dict[str, Callable[[], Design]] = {"banana": banana_design}
"""The banana's design function."""
