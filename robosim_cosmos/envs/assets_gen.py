"""Generate the faithful look's textures and meshes and the object library's geometry
procedurally (numpy only), into ``envs/``.

Everything the ``faithful`` render preset shows beyond flat colours is made here, by this
project's own code, and committed as small files: wood grain for the table top, a concrete
floor, a plaster wall (PNG under ``envs/textures``) and the bowl's smooth visual mesh (a
revolved profile, OBJ under ``envs/meshes``). So is each library object kind of
``envs/objects/library/catalog.json``: its visual mesh (``envs/meshes/<kind>.obj``; the bowl's is
``library_bowl.obj``) and its MJCF (``envs/objects/library/<kind>.xml``: primitive collision
pieces computed from the same shape, the catalog mass with an inertia from the pieces).
Re-running reproduces the committed files (tests/test_scene_look.py checks it)::

    python -m robosim_cosmos.envs.assets_gen [--out DIR]

The PNG writer is a minimal one (8-bit RGB, no interlace, filter 0 on every row) so that no
imaging library is needed and :func:`read_png` can decode exactly what it writes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import struct
import textwrap
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path

import numpy as np

from .._resources import envs_dir

# -- PNG ---------------------------------------------------------------------------------


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
    return rows[:, 1:].reshape(h, w, 3).copy()


# -- noise ---------------------------------------------------------------------------------


def _value_noise(rng: np.random.Generator, shape: tuple[int, int], cells: tuple[int, int]) -> np.ndarray:
    """Smooth tileable noise in [0, 1]: a random lattice of ``cells``, cosine-interpolated."""
    h, w = shape
    ch, cw = cells
    lattice = rng.random((ch, cw))
    y = np.arange(h) * ch / h
    x = np.arange(w) * cw / w
    y0, x0 = np.floor(y).astype(int), np.floor(x).astype(int)
    fy = (1 - np.cos(np.pi * (y - y0))) / 2
    fx = (1 - np.cos(np.pi * (x - x0))) / 2
    y1, x1 = (y0 + 1) % ch, (x0 + 1) % cw
    top = lattice[y0][:, x0] * (1 - fx) + lattice[y0][:, x1] * fx
    bottom = lattice[y1][:, x0] * (1 - fx) + lattice[y1][:, x1] * fx
    out: np.ndarray = top * (1 - fy[:, None]) + bottom * fy[:, None]
    return out


def _fractal(rng: np.random.Generator, shape: tuple[int, int], base: tuple[int, int], octaves: int) -> np.ndarray:
    total, norm = np.zeros(shape), 0.0
    for o in range(octaves):
        amp = 0.5**o
        total += amp * _value_noise(rng, shape, (base[0] * 2**o, base[1] * 2**o))
        norm += amp
    return total / norm


def _to_uint8(rgb: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


# -- textures ------------------------------------------------------------------------------


def wood_texture(size: int = 256) -> np.ndarray:
    """Light oak veneer, grain along image x: layered sinusoids of a noise-warped coordinate
    (growth rings), fine pores and slow plank-to-plank tone changes. Tiles in both directions."""
    rng = np.random.default_rng(1)
    h = w = size
    yy = np.arange(h)[:, None] / h * np.ones((1, w))
    warp = _fractal(rng, (h, w), (2, 1), 3)
    rings = 10.0 * yy + 1.6 * warp  # 10 ring bands across the tile, bent by the warp
    band = 0.5 + 0.5 * np.sin(2 * np.pi * rings)
    fine = 0.5 + 0.5 * np.sin(2 * np.pi * (37.0 * yy + 3.0 * warp))
    grain = 0.65 * band**3 + 0.2 * fine
    pores = _fractal(rng, (h, w), (32, 4), 2)
    tone = _fractal(rng, (h, w), (3, 1), 2)
    light = np.array([0.80, 0.62, 0.42])
    dark = np.array([0.60, 0.42, 0.25])
    t = np.clip(0.55 * grain + 0.25 * pores + 0.2 * tone, 0.0, 1.0)[..., None]
    return _to_uint8(light * (1 - t) + dark * t)


def concrete_texture(size: int = 128) -> np.ndarray:
    """Grey polished concrete: fractal blotches and fine speckle."""
    rng = np.random.default_rng(2)
    blotch = _fractal(rng, (size, size), (4, 4), 4)
    speckle = rng.random((size, size))
    v = 0.36 + 0.10 * (blotch - 0.5) + 0.025 * (speckle - 0.5)
    return _to_uint8(v[..., None] * np.array([1.0, 1.0, 1.04]))


def plaster_texture(size: int = 128) -> np.ndarray:
    """Off-white painted wall with a faint trowel texture."""
    rng = np.random.default_rng(3)
    blotch = _fractal(rng, (size, size), (4, 4), 4)
    v = 0.80 + 0.05 * (blotch - 0.5)
    return _to_uint8(v[..., None] * np.array([1.0, 0.99, 0.96]))


# -- bowl mesh -------------------------------------------------------------------------------

BOWL_SEGMENTS = 48


def _arc(centre: tuple[float, float], radius: float, start: float, stop: float, n: int) -> list[tuple[float, float]]:
    angles = np.linspace(start, stop, n)
    return [(centre[0] + radius * float(np.cos(a)), centre[1] + radius * float(np.sin(a))) for a in angles]


def bowl_profile() -> list[tuple[float, float]]:
    """(r, z) of the bowl's closed cross-section, metres: from the inner floor's centre out
    and up the inside wall, over a rounded rim, down the outside to the foot and back to the
    axis underneath. Sized to the collision pieces in bowl.xml (floor 6 mm, inner radius
    0.072 m, outer 0.084 m, rim at 0.050 m), with rounded corners and a slight flare."""
    pts: list[tuple[float, float]] = [(0.0, 0.006), (0.030, 0.006)]
    pts += _arc((0.058, 0.018), 0.012, -np.pi / 2, 0.0, 7)[1:]  # inner floor-to-wall fillet → (0.070, 0.018)
    pts += [(0.0715, 0.032), (0.0735, 0.046)]
    pts += _arc((0.0785, 0.0470), 0.005, np.pi, 0.0, 9)  # rounded rim, inside (0.0735) to outside (0.0835)
    pts += [(0.0830, 0.034), (0.0815, 0.022)]
    pts += _arc((0.068, 0.013), 0.013, 0.0, -np.pi / 2, 7)  # outer wall-to-base curve → (0.068, 0.000)
    pts += [(0.040, 0.0), (0.0, 0.0)]
    return pts


def revolve(profile: list[tuple[float, float]], segments: int) -> tuple[np.ndarray, np.ndarray]:
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


def obj_text(vertices: np.ndarray, faces: np.ndarray, comment: str) -> str:
    lines = [f"# {comment}",
             f"# {len(vertices)} vertices, {len(faces)} triangles; generated by robosim_cosmos.envs.assets_gen"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in vertices]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in faces]
    return "\n".join(lines) + "\n"


def bowl_mesh() -> tuple[np.ndarray, np.ndarray]:
    """The bowl's visual mesh: vertices [N, 3] (m, base centre at the origin), triangles [M, 3]."""
    return revolve(bowl_profile(), BOWL_SEGMENTS)


# -- shape helpers ---------------------------------------------------------------------------

Point = tuple[float, float]


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


# -- collision pieces ------------------------------------------------------------------------


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


# -- library object shapes -----------------------------------------------------------------
# Each kind's visual mesh and collision pieces, at scale 1 in its body frame (origin at the
# bottom centre, z up, long axis x), sized to envs/objects/library/catalog.json.

LIBRARY_KINDS = ("block", "bowl", "plate", "mug", "cup", "can", "bottle", "banana", "marker", "sponge", "basket")


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


def _line(p0: Point, p1: Point) -> Callable[[float], float]:
    """r(z) on the line through two (r, z) points."""
    return lambda z: p0[0] + (p1[0] - p0[0]) * (z - p0[1]) / (p1[1] - p0[1])


def _inner_wall(top: Point, bottom: Point, thickness: float) -> Callable[[float], float]:
    """The inner face r(z) of a straight wall whose outer face runs from ``bottom`` to ``top``
    (r, z), ``thickness`` measured square to it."""
    shift = thickness / np.cos(np.arctan2(top[0] - bottom[0], top[1] - bottom[1]))
    outer = _line(bottom, top)
    return lambda z: outer(z) - shift


def block_design() -> Design:
    """A 4 cm toy block, edges rounded 1.5 mm."""
    v, f = rounded_box((0.02, 0.02, 0.02), 0.0015, 2)
    return Design("A 4 cm toy block with slightly rounded edges.", v, f,
                  [Piece("box", (0.02, 0.02, 0.02), (0.0, 0.0, 0.02))], 'specular="0.2" shininess="0.3"')


def sponge_design() -> Design:
    """A 9 x 6 x 3 cm kitchen sponge, edges rounded 3 mm."""
    v, f = rounded_box((0.045, 0.03, 0.015), 0.003, 3)
    return Design("A 9 x 6 x 3 cm kitchen sponge (a rounded box).", v, f,
                  [Piece("box", (0.045, 0.03, 0.015), (0.0, 0.0, 0.015))], 'specular="0.02" shininess="0.05"')


def library_bowl_profile() -> list[Point]:
    """(r, z) of the library bowl's cross-section: a flat 6 mm floor, a straight flared 5 mm
    wall up to a rounded rim 16 cm across and 5.5 cm high, and a shallow foot ring."""
    inner = _inner_wall((0.0815, 0.055), (0.048, 0.0), 0.005)
    return round_corners([(0.0, 0.006, 0.0), (inner(0.006), 0.006, 0.012), (inner(0.055), 0.055, 0.002),
                          (0.0815, 0.055, 0.002), (0.048, 0.0, 0.006), (0.040, 0.0, 0.0008),
                          (0.039, 0.0015, 0.0008), (0.0, 0.0015, 0.0)])


def bowl_design() -> Design:
    """The library bowl: a floor disc and 20 tilted wall boxes."""
    inner = _inner_wall((0.0815, 0.055), (0.048, 0.0), 0.005)
    v, f = revolve(library_bowl_profile(), 36)
    pieces = [Piece("cylinder", (0.046, 0.003), (0.0, 0.0, 0.003)),
              *wall_ring((inner(0.006), 0.006), (inner(0.0545), 0.0545), 0.005, 20)]
    return Design("A 16 cm ceramic bowl, 5.5 cm high, flared walls.", v, f, pieces,
                  'specular="0.5" shininess="0.6"')


def plate_profile() -> list[Point]:
    """(r, z) of the plate: a flat well (top 10 mm) out to r = 8 cm, a 4 mm rim rising to
    18 mm at r = 10 cm, and a foot ring underneath."""
    d = np.array([0.0182, 0.008]) / np.hypot(0.0182, 0.008)
    under = np.array([0.080, 0.010]) + 0.004 * np.array([d[1], -d[0]])

    def z_under(r: float) -> float:
        return float(under[1] + (r - under[0]) * d[1] / d[0])

    return round_corners([(0.0, 0.010, 0.0), (0.080, 0.010, 0.008), (0.0982, 0.018, 0.0015), (0.1, 0.018, 0.0012),
                          (0.1, z_under(0.1), 0.0012), (0.0785, z_under(0.0785), 0.002), (0.078, 0.0, 0.0015),
                          (0.072, 0.0, 0.0008), (0.0705, 0.0025, 0.0008), (0.0, 0.0025, 0.0)])


def plate_design() -> Design:
    """The plate: a floor disc under the well and 20 tilted boxes under the rim."""
    slope = 0.008 / 0.0182
    v, f = revolve(plate_profile(), 44)
    pieces = [Piece("cylinder", (0.078, 0.005), (0.0, 0.0, 0.005)),
              *wall_ring((0.078, 0.010 - 0.002 * slope), (0.0975, 0.010 + 0.0175 * slope), 0.004, 20)]
    return Design("A 20 cm dinner plate: a flat well 10 mm up, a rim rising to 18 mm.", v, f, pieces,
                  'specular="0.5" shininess="0.6"')


MUG_HANDLE = {"x": 0.046, "z": 0.047, "ax": 0.0195, "az": 0.023, "thick": 0.0045, "wide": 0.0055}
"""The mug handle's centreline: straight stubs from the wall out to x, then half an ellipse
(semi-axes ax, az about (x, z)); its section is thick (in the xz plane) by wide (along y), half-sizes."""


def mug_profile() -> list[Point]:
    """(r, z) of the mug's body: an 8 cm cylinder 9 cm high, 6 mm wall, 8 mm floor."""
    return round_corners([(0.0, 0.008, 0.0), (0.034, 0.008, 0.004), (0.034, 0.09, 0.0025), (0.04, 0.09, 0.0025),
                          (0.04, 0.0, 0.003), (0.036, 0.0, 0.001), (0.0355, 0.0015, 0.001), (0.0, 0.0015, 0.0)])


def mug_handle_path() -> np.ndarray:
    """Centreline points [K, 3] of the handle, from the upper attachment to the lower."""
    h = MUG_HANDLE
    top, bottom = h["z"] + h["az"], h["z"] - h["az"]
    psi = np.linspace(np.pi / 2, -np.pi / 2, 11)
    arc = np.stack([h["x"] + h["ax"] * np.cos(psi), np.zeros_like(psi), h["z"] + h["az"] * np.sin(psi)], axis=1)
    stub = np.linspace(0.037, h["x"], 4)[:-1]
    return np.vstack([np.stack([stub, 0 * stub, 0 * stub + top], axis=1), arc,
                      np.stack([stub[::-1], 0 * stub, 0 * stub + bottom], axis=1)])


def mug_handle_mesh() -> tuple[np.ndarray, np.ndarray]:
    """The handle: an elliptic tube along :func:`mug_handle_path`, its ends inside the wall."""
    path = mug_handle_path()
    tangent = np.gradient(path, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    y = np.array([0.0, 1.0, 0.0])
    frames = np.stack([np.cross(tangent, y), np.broadcast_to(y, path.shape)], axis=1)
    radii = np.tile([MUG_HANDLE["thick"], MUG_HANDLE["wide"]], (len(path), 1))
    tips = (path[0] - [0.001, 0.0, 0.0], path[-1] - [0.001, 0.0, 0.0])
    return sweep(path, frames, radii, 12, tips)


def mug_design() -> Design:
    """The mug: a floor disc, 16 wall boxes and six capsules along the handle."""
    path = mug_handle_path()
    knots = [np.array([0.040, 0.0, path[0, 2]]), path[3], path[5], path[8], path[11], path[13],
             np.array([0.040, 0.0, path[-1, 2]])]
    handle = [segment_capsule(a, b, MUG_HANDLE["thick"]) for a, b in itertools.pairwise(knots)]
    v, f = merge(revolve(mug_profile(), 32), mug_handle_mesh())
    pieces = [Piece("cylinder", (0.04, 0.004), (0.0, 0.0, 0.004)),
              *wall_ring((0.034, 0.008), (0.034, 0.09), 0.006, 16), *handle]
    return Design("A ceramic coffee mug: an 8 cm cylinder 9 cm high (centred on the origin) with its "
                  "handle on +x, so its bounding box runs from x = -0.04 to 0.07.", v, f, pieces,
                  'specular="0.5" shininess="0.6"')


def cup_outer(z: float) -> float:
    """The paper cup's outer radius at height z: 66 mm across at 6 cm, flaring upwards."""
    return 0.02973 + 0.0545 * z


def cup_profile() -> list[Point]:
    """(r, z) of a paper cup: a 1 mm tapered wall, a rolled bead at the 9 cm rim, the floor
    disc (top 4 mm up) on a skirt."""
    rc = cup_outer(0.0875)
    lower = round_corners([(0.0, 0.004, 0.0), (cup_outer(0.004) - 0.001, 0.004, 0.001),
                           (cup_outer(0.0875) - 0.001, 0.0875, 0.0)])
    bead = _arc((rc, 0.0885), 0.0015, np.pi, -7 * np.pi / 18, 9)
    upper = round_corners([(cup_outer(0.0855), 0.0855, 0.0), (cup_outer(0.0), 0.0, 0.0008),
                           (cup_outer(0.0) - 0.001, 0.0, 0.0004), (cup_outer(0.0025) - 0.001, 0.0025, 0.0004),
                           (0.0, 0.0025, 0.0)])
    return lower + bead + upper


def cup_design() -> Design:
    """The paper cup: a floor disc and 16 thin tilted wall boxes."""
    inner = [(cup_outer(z) - 0.002, z) for z in (0.004, 0.087)]
    v, f = revolve(cup_profile(), 36)
    pieces = [Piece("cylinder", (cup_outer(0.0), 0.002), (0.0, 0.0, 0.002)), *wall_ring(inner[0], inner[1], 0.002, 16)]
    return Design("A paper cup, 7.2 cm across the rim and 9 cm high, tapered, thin wall.", v, f, pieces,
                  'specular="0.1" shininess="0.1"')


def can_profile() -> list[Point]:
    """(r, z) of a 330 ml drinks can: a recessed lid inside a rolled rim, a necked top, a
    66 mm body and a domed base on a stand ring."""
    return round_corners([(0.0, 0.1185, 0.0), (0.0262, 0.1185, 0.001), (0.0282, 0.122, 0.0008), (0.0298, 0.122, 0.0008),
                          (0.0298, 0.1185, 0.001), (0.033, 0.111, 0.003), (0.033, 0.009, 0.004),
                          (0.0275, 0.0012, 0.001), (0.026, 0.0, 0.0005), (0.0245, 0.0, 0.0005),
                          (0.0225, 0.0015, 0.002), (0.0, 0.0025, 0.0)])


def can_design() -> Design:
    """The can: four stacked cylinders, and a silver lid."""
    v, f = revolve(can_profile(), 36)
    lid = Piece("cylinder", (0.025, 0.0002), (0.0, 0.0, 0.1188))
    return Design("A drinks can, 66 mm across and 122 mm high, with a silver lid.", v, f,
                  stacked_cylinders(can_profile(), [0.0, 0.003, 0.009, 0.111, 0.1205]),
                  'specular="0.8" shininess="0.8"', (lid,), 'rgba="0.78 0.79 0.8 1" specular="0.9" shininess="0.9"')


def bottle_profile() -> list[Point]:
    """(r, z) of a water bottle: a 64 mm body, a shoulder, a 28 mm neck and a 31 mm cap."""
    return round_corners([(0.0, 0.18, 0.0), (0.0155, 0.18, 0.0015), (0.0155, 0.162, 0.0006), (0.014, 0.162, 0.0004),
                          (0.014, 0.148, 0.015), (0.032, 0.118, 0.03), (0.032, 0.0, 0.005), (0.026, 0.0, 0.002),
                          (0.022, 0.002, 0.003), (0.0, 0.0025, 0.0)])


def bottle_design() -> Design:
    """The bottle: eight stacked cylinders, and a white cap."""
    v, f = revolve(bottle_profile(), 30)
    cap = Piece("cylinder", (0.0158, 0.0093), (0.0, 0.0, 0.1711))
    cuts = [0.0, 0.004, 0.112, 0.12, 0.128, 0.136, 0.144, 0.1615, 0.18]
    return Design("A plastic water bottle, 64 mm across and 18 cm high, with a white cap.", v, f,
                  stacked_cylinders(bottle_profile(), cuts), 'specular="0.6" shininess="0.7"', (cap,),
                  'rgba="0.92 0.92 0.9 1" specular="0.3" shininess="0.3"')


def marker_profile() -> list[Point]:
    """(r, s) of the marker along its axis: a 17 mm barrel, an 18 mm cap with a rounded end
    over the last 45 mm, 13 cm in all."""
    return round_corners([(0.0, 0.13, 0.0), (0.009, 0.13, 0.004), (0.009, 0.085, 0.0005), (0.0085, 0.085, 0.0003),
                          (0.0085, 0.0, 0.0025), (0.0, 0.0, 0.0)])


def marker_design() -> Design:
    """The marker lying along x: two crossed boxes (an octagonal prism round its 18 mm section)
    and a white label band."""
    v, f = revolve(marker_profile(), 24)
    v = np.stack([v[:, 2] - 0.065, v[:, 0], v[:, 1] + 0.009], axis=1)  # revolve axis z -> x, a rotation
    side = 0.009 * np.tan(np.pi / 8)
    pieces = [Piece("box", (0.0635, 0.009, side), (0.0, 0.0, 0.009)),
              Piece("box", (0.0635, side, 0.009), (0.0, 0.0, 0.009))]
    band = Piece("cylinder", (0.0087, 0.02), (-0.025, 0.0, 0.009), quat_axis(1, np.pi / 2))
    return Design("A capped felt-tip marker, 13 cm long and 18 mm thick, lying along x.", v, f, pieces,
                  'specular="0.4" shininess="0.5"', (band,), 'rgba="0.93 0.93 0.91 1" specular="0.2"')


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
        return np.ptp(pts, axis=0)

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


BASKET_CORE = (0.105, 0.065)
"""Half-extents of the rectangle the basket's rounded walls are offset from (inside: 5 mm)."""


def basket_design() -> Design:
    """An open 24 x 16 x 7 cm bin (an 18 cm banana lies flat in it): 1 cm walls, a 6 mm floor;
    a floor box and four wall boxes."""
    profile = round_corners([(0.0, 0.006, 0.0), (0.005, 0.006, 0.003), (0.005, 0.07, 0.002), (0.015, 0.07, 0.002),
                             (0.015, 0.0, 0.003), (0.0, 0.0, 0.0)])
    v, f = loft(profile, BASKET_CORE, 6)
    pieces = [Piece("box", (0.115, 0.075, 0.003), (0.0, 0.0, 0.003)),
              Piece("box", (0.005, 0.07, 0.032), (0.115, 0.0, 0.038)),
              Piece("box", (0.005, 0.07, 0.032), (-0.115, 0.0, 0.038)),
              Piece("box", (0.11, 0.005, 0.032), (0.0, 0.075, 0.038)),
              Piece("box", (0.11, 0.005, 0.032), (0.0, -0.075, 0.038))]
    return Design("An open plastic basket (bin), 24 x 16 x 7 cm, 1 cm walls.", v, f, pieces,
                  'specular="0.3" shininess="0.3"')


_DESIGNS: dict[str, Callable[[], Design]] = {
    "block": block_design, "bowl": bowl_design, "plate": plate_design, "mug": mug_design, "cup": cup_design,
    "can": can_design, "bottle": bottle_design, "banana": banana_design, "marker": marker_design,
    "sponge": sponge_design, "basket": basket_design,
}


@cache
def library_design(kind: str) -> Design:
    """The geometry of the library kind ``kind``."""
    return _DESIGNS[kind]()


@cache
def library_catalog() -> dict:
    """envs/objects/library/catalog.json, parsed."""
    return dict(json.loads((envs_dir() / "objects" / "library" / "catalog.json").read_text()))


def library_mesh_file(kind: str) -> str:
    """The kind's visual mesh, relative to ``envs/`` (the bowl's differs from the older bowl.obj)."""
    return "meshes/library_bowl.obj" if kind == "bowl" else f"meshes/{kind}.obj"


def _num(x: float, places: int = 9) -> str:
    """``x`` to ``places`` decimals, at most 6 significant digits, no negative zero."""
    return f"{round(float(x), places) + 0.0:.6g}"


def _nums(xs: tuple[float, ...] | np.ndarray, places: int = 9) -> str:
    return " ".join(_num(x, places) for x in xs)


def _geom(name: str, p: Piece, extra: str) -> str:
    quat = "" if p.quat == (1.0, 0.0, 0.0, 0.0) else f' quat="{_nums(p.quat)}"'
    return f'<geom name="{name}" type="{p.type}" size="{_nums(p.size)}" pos="{_nums(p.pos)}"{quat} {extra}/>'


def library_xml(kind: str) -> str:
    """The MJCF of the library kind ``kind``: one free body ``body`` (joint ``joint``) with its
    catalog mass, primitive collision geoms ``collision_<i>``, the mesh geom ``visual``, trims,
    and the sites ``top`` (and ``inside`` for containers)."""
    facts = library_catalog()["kinds"][kind]
    d = library_design(kind)
    com, diag = inertial(d.pieces, facts["mass_kg"])
    condim = 4 if "grasp" in facts else 3
    contact = f'group="3" material="paint" friction="{_num(facts["friction"])} 0.005 0.0001" condim="{condim}"'
    look = 'contype="0" conaffinity="0" group="2" mass="0"'
    mesh = library_mesh_file(kind)
    about = (f"{d.about} Body frame: origin at the bottom centre, z up, long axis x; size, mass and "
             f"friction from catalog.json. {len(d.pieces)} primitive collision pieces (group 3), the visual "
             f"mesh ../../{mesh} (group 2). Generated by `python -m robosim_cosmos.envs.assets_gen`: "
             "edit the generator, not this file.")
    lines = [
        *textwrap.wrap(about, 96, initial_indent="<!-- ", subsequent_indent="     "),
        "-->",
        f'<mujoco model="{kind}">',
        "  <asset>",
        f'    <material name="paint" rgba="0.6 0.6 0.6 1" {d.paint} reflectance="0"/>',
        *([f'    <material name="trim" {d.trim} reflectance="0"/>'] if d.trims else []),
        f'    <mesh name="mesh" file="../../{mesh}"/>',
        "  </asset>",
        "  <worldbody>",
        '    <body name="body">',
        '      <freejoint name="joint"/>',
        f'      <inertial pos="{_nums(com)}" mass="{_num(facts["mass_kg"])}" diaginertia="{_nums(diag, 15)}"/>',
        *(f"      {_geom(f'collision_{i}', p, contact)}" for i, p in enumerate(d.pieces)),
        f'      <geom name="visual" type="mesh" mesh="mesh" material="paint" {look}/>',
        *(f"      {_geom(f'visual_trim_{i}', p, 'material=' + chr(34) + 'trim' + chr(34) + ' ' + look)}"
          for i, p in enumerate(d.trims)),
        f'      <site name="top" pos="0 0 {_num(facts["size"][2])}" size="0.003" group="5"/>',
        *([f'      <site name="inside" pos="0 0 {_num(facts["container"]["floor"])}" size="0.003" group="5"/>']
          if "container" in facts else []),
        "    </body>",
        "  </worldbody>",
        "</mujoco>",
    ]
    return "\n".join(lines) + "\n"


def library_assets() -> dict[str, Callable[[], bytes]]:
    """The library's generated files (meshes and MJCF), relative to ``envs/``."""
    out: dict[str, Callable[[], bytes]] = {}
    for kind in LIBRARY_KINDS:
        out[library_mesh_file(kind)] = partial(_library_obj, kind)
        out[f"objects/library/{kind}.xml"] = partial(_library_xml_bytes, kind)
    return out


def _library_obj(kind: str) -> bytes:
    d = library_design(kind)
    return obj_text(d.vertices, d.faces, f"{kind} visual mesh (library object)").encode()


def _library_xml_bytes(kind: str) -> bytes:
    return library_xml(kind).encode()


# -- files -------------------------------------------------------------------------------------

ASSETS: dict[str, Callable[[], bytes]] = {
    "textures/wood.png": lambda: png_bytes(wood_texture()),
    "textures/concrete.png": lambda: png_bytes(concrete_texture()),
    "textures/plaster.png": lambda: png_bytes(plaster_texture()),
    "meshes/bowl.obj": lambda: obj_text(*bowl_mesh(), "bowl visual mesh: a revolved profile").encode(),
    **library_assets(),
}
"""Each generated file, relative to ``envs/``, and the function producing its bytes."""


def generate(out: Path) -> list[Path]:
    """Write every asset under ``out`` (an ``envs`` folder); returns the paths written."""
    written = []
    for rel, make in ASSETS.items():
        path = Path(out) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(make())
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the faithful preset's textures and meshes and the "
                                                 "object library's meshes and MJCF.")
    parser.add_argument("--out", default=None, help="envs folder to write into (default: the package's)")
    args = parser.parse_args(argv)
    for path in generate(Path(args.out) if args.out else envs_dir()):
        print(f"{path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
