"""Mesh geometry, numpy only: (r, z) profiles with rounded corners, and closed, outward-wound
triangle surfaces made from them (revolved, lofted round a rectangle, swept along a path) or
from a rounded box; :func:`obj_text` writes one as an OBJ file."""

from __future__ import annotations

import itertools

import numpy as np

Point = tuple[float, float]
"""A profile point (r, z), metres."""

# -- profiles --------------------------------------------------------------------------------


def arc(centre: Point, radius: float, start: float, stop: float, n: int) -> list[Point]:
    """``n`` points on the circle about ``centre`` from angle ``start`` to ``stop``."""
    angles = np.linspace(start, stop, n)
    return [(centre[0] + radius * float(np.cos(a)), centre[1] + radius * float(np.sin(a))) for a in angles]


def round_corners(poly: list[tuple[float, float, float]], step: float = 0.003) -> list[Point]:
    """The open polyline of (r, z, radius) vertices with each interior corner replaced by a
    circular arc of that radius (0: kept sharp) tangent to both sides, a point every ``step``
    metres of arc; a radius too large for its sides is reduced to fit."""
    out: list[Point] = [(poly[0][0], poly[0][1])]
    for i in range(1, len(poly) - 1):
        p = np.array(poly[i][:2])
        rho = poly[i][2]
        if rho <= 0:
            out.append((float(p[0]), float(p[1])))
            continue
        a, b = np.array(poly[i - 1][:2]) - p, np.array(poly[i + 1][:2]) - p
        la, lb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
        a, b = a / la, b / lb
        half = 0.5 * float(np.arccos(np.clip(a @ b, -1.0, 1.0)))
        d = min(rho / np.tan(half), 0.49 * min(la, lb))
        rho = d * np.tan(half)
        centre = p + (a + b) / np.linalg.norm(a + b) * rho / np.sin(half)
        t1, t2 = p + a * d - centre, p + b * d - centre
        start = np.arctan2(t1[1], t1[0])
        sweep = (np.arctan2(t2[1], t2[0]) - start + np.pi) % (2 * np.pi) - np.pi
        n = max(2, int(np.ceil(abs(sweep) * rho / step)) + 1)
        for ang in np.linspace(start, start + sweep, n):
            out.append((round(float(centre[0] + rho * np.cos(ang)), 12) + 0.0,
                        round(float(centre[1] + rho * np.sin(ang)), 12) + 0.0))
    out.append((poly[-1][0], poly[-1][1]))
    return [q for k, q in enumerate(out) if k == 0 or np.hypot(q[0] - out[k - 1][0], q[1] - out[k - 1][1]) > 1e-7]


def radius_at(profile: list[Point], z: float) -> float:
    """Largest r where the (r, z) profile crosses height ``z``."""
    best = 0.0
    for (r0, z0), (r1, z1) in itertools.pairwise(profile):
        if min(z0, z1) <= z <= max(z0, z1):
            r = max(r0, r1) if z0 == z1 else r0 + (r1 - r0) * (z - z0) / (z1 - z0)
            best = max(best, r)
    return best


# -- surfaces --------------------------------------------------------------------------------


def revolve(profile: list[Point], segments: int) -> tuple[np.ndarray, np.ndarray]:
    """Vertices [N, 3] and triangles [M, 3] of ``profile`` (first and last point on the axis)
    revolved about z: a closed, consistently outward-wound surface."""
    if profile[0][0] != 0.0 or profile[-1][0] != 0.0:
        raise ValueError("the profile must start and end on the axis")
    theta = 2 * np.pi * np.arange(segments) / segments
    cos, sin = np.cos(theta), np.sin(theta)
    rings = [np.stack([r * cos, r * sin, np.full(segments, z)], axis=1) for r, z in profile[1:-1]]
    return stitch(np.array([0.0, 0.0, profile[0][1]]), rings, np.array([0.0, 0.0, profile[-1][1]]))


def stitch(start: np.ndarray, rings: list[np.ndarray], end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A closed surface through the point ``start``, the rings [S, 3] in order and the point
    ``end``. Outward wound when each ring runs right-handed about the direction from ``end``
    towards ``start`` (as a revolved profile's rings do about +z when it runs from top to bottom)."""
    segments = len(rings[0])
    verts = [start, *rings, end]
    top, bottom = 0, 1 + len(rings) * segments

    def idx(k: int, s: int) -> int:
        return 1 + k * segments + s % segments

    faces = []
    for s in range(segments):
        faces.append((top, idx(0, s), idx(0, s + 1)))
        for k in range(len(rings) - 1):
            a, b, c, d = idx(k, s), idx(k, s + 1), idx(k + 1, s), idx(k + 1, s + 1)
            faces += [(a, d, b), (a, c, d)]
        last = len(rings) - 1
        faces.append((bottom, idx(last, s + 1), idx(last, s)))
    return np.vstack(verts), np.array(faces, dtype=np.int64)


def loft(profile: list[Point], core: tuple[float, float], per_corner: int) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`revolve` about a rectangle: each (w, z) of ``profile`` (first and last w = 0,
    the centre) is the ring at offset w round the rectangle of half-extents ``core``."""
    rings = []
    for w, z in profile[1:-1]:
        pts = []
        for k, (sx, sy) in enumerate(((1, 1), (-1, 1), (-1, -1), (1, -1))):
            for ang in np.linspace(k * np.pi / 2, (k + 1) * np.pi / 2, per_corner):
                pts.append((sx * core[0] + w * np.cos(ang), sy * core[1] + w * np.sin(ang), z))
        rings.append(np.array(pts))
    return stitch(np.array([0.0, 0.0, profile[0][1]]), rings, np.array([0.0, 0.0, profile[-1][1]]))


def rounded_box(half: tuple[float, float, float], radius: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """A box of half-extents ``half`` standing on z = 0 with edges and corners rounded to
    ``radius`` (``steps`` facets per quarter edge): vertices [N, 3], triangles [M, 3]."""
    inner = np.array(half) - radius
    tan = radius * np.tan(np.linspace(0.0, np.pi / 4, steps + 1))
    grids = [np.concatenate([-(e + tan[::-1]), e + tan]) for e in inner]
    index: dict[tuple[float, float, float], int] = {}
    verts: list[np.ndarray] = []
    faces: list[tuple[int, int, int]] = []

    def vertex(p: np.ndarray) -> int:
        key = (round(float(p[0]), 9), round(float(p[1]), 9), round(float(p[2]), 9))
        if key not in index:
            q = np.clip(p, -inner, inner)
            n = p - q
            index[key] = len(verts)
            verts.append(q + radius * n / np.linalg.norm(n))
        return index[key]

    for axis in range(3):
        u, v = (axis + 1) % 3, (axis + 2) % 3
        for sign in (1.0, -1.0):
            if sign < 0:
                u, v = v, u
            ids = np.empty((len(grids[u]), len(grids[v])), dtype=np.int64)
            for i, gu in enumerate(grids[u]):
                for j, gv in enumerate(grids[v]):
                    p = np.zeros(3)
                    p[axis], p[u], p[v] = sign * (inner[axis] + radius), gu, gv
                    ids[i, j] = vertex(p)
            for i in range(len(grids[u]) - 1):
                for j in range(len(grids[v]) - 1):
                    a, b, c, d = ids[i, j], ids[i + 1, j], ids[i + 1, j + 1], ids[i, j + 1]
                    faces += [(a, b, c), (a, c, d)]
    out = np.array(verts) + np.array([0.0, 0.0, half[2]])
    return out, np.array(faces, dtype=np.int64)


def sweep(centre: np.ndarray, frames: np.ndarray, radii: np.ndarray, segments: int,
          tips: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """A tube: at each centreline point [K, 3] the ellipse ``radii`` [K, 2] along the frame's two
    axes ``frames`` [K, 2, 3] (the second the first crossed with the path direction), closed
    by the points ``tips`` before the first and after the last ring."""
    psi = 2 * np.pi * np.arange(segments) / segments
    rings = [c + ra * np.cos(psi)[:, None] * f[0] + rb * np.sin(psi)[:, None] * f[1]
             for c, f, (ra, rb) in zip(centre, frames, radii, strict=True)]
    return stitch(tips[0], rings, tips[1])


def merge(*meshes: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """One mesh of several closed shells."""
    verts, faces, n = [], [], 0
    for v, f in meshes:
        verts.append(v)
        faces.append(f + n)
        n += len(v)
    return np.vstack(verts), np.vstack(faces)


def obj_text(vertices: np.ndarray, faces: np.ndarray, comment: str) -> str:
    """The OBJ file of a mesh: two comment lines, then 6-decimal vertices and 1-based triangles."""
    lines = [f"# {comment}",
             f"# {len(vertices)} vertices, {len(faces)} triangles; generated by tools.assets"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in vertices]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in faces]
    return "\n".join(lines) + "\n"
