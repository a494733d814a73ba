"""Generate the faithful look's textures and meshes procedurally (numpy only), into ``envs/``.

Everything the ``faithful`` render preset shows beyond flat colours is made here, by this
project's own code, and committed as small files: wood grain for the table top, a concrete
floor, a plaster wall (PNG under ``envs/textures``) and the bowl's smooth visual mesh (a
revolved profile, OBJ under ``envs/meshes``). Re-running reproduces the committed files
(tests/test_scene_look.py checks it)::

    python -m robosim_cosmos.envs.assets_gen [--out DIR]

The PNG writer is a minimal one (8-bit RGB, no interlace, filter 0 on every row) so that no
imaging library is needed and :func:`read_png` can decode exactly what it writes.
"""

from __future__ import annotations

import argparse
import struct
import zlib
from collections.abc import Callable
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
    ring = profile[1:-1]
    theta = 2 * np.pi * np.arange(segments) / segments
    cos, sin = np.cos(theta), np.sin(theta)
    verts = [np.array([0.0, 0.0, profile[0][1]])]
    for r, z in ring:
        verts.extend(np.stack([r * cos, r * sin, np.full(segments, z)], axis=1))
    verts.append(np.array([0.0, 0.0, profile[-1][1]]))
    top, bottom = 0, 1 + len(ring) * segments

    def idx(k: int, s: int) -> int:
        return 1 + k * segments + s % segments

    faces = []
    for s in range(segments):
        faces.append((top, idx(0, s), idx(0, s + 1)))
        for k in range(len(ring) - 1):
            a, b, c, d = idx(k, s), idx(k, s + 1), idx(k + 1, s), idx(k + 1, s + 1)
            faces += [(a, d, b), (a, c, d)]
        last = len(ring) - 1
        faces.append((bottom, idx(last, s + 1), idx(last, s)))
    return np.array(verts), np.array(faces, dtype=np.int64)


def obj_text(vertices: np.ndarray, faces: np.ndarray, comment: str) -> str:
    lines = [f"# {comment}",
             f"# {len(vertices)} vertices, {len(faces)} triangles; generated by robosim_cosmos.envs.assets_gen"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in vertices]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in faces]
    return "\n".join(lines) + "\n"


def bowl_mesh() -> tuple[np.ndarray, np.ndarray]:
    """The bowl's visual mesh: vertices [N, 3] (m, base centre at the origin), triangles [M, 3]."""
    return revolve(bowl_profile(), BOWL_SEGMENTS)


# -- files -------------------------------------------------------------------------------------

ASSETS: dict[str, Callable[[], bytes]] = {
    "textures/wood.png": lambda: png_bytes(wood_texture()),
    "textures/concrete.png": lambda: png_bytes(concrete_texture()),
    "textures/plaster.png": lambda: png_bytes(plaster_texture()),
    "meshes/bowl.obj": lambda: obj_text(*bowl_mesh(), "bowl visual mesh: a revolved profile").encode(),
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
    parser = argparse.ArgumentParser(description="Generate the faithful preset's textures and meshes.")
    parser.add_argument("--out", default=None, help="envs folder to write into (default: the package's)")
    args = parser.parse_args(argv)
    for path in generate(Path(args.out) if args.out else envs_dir()):
        print(f"{path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
