"""The faithful look's textures (wood table top, concrete floor, plaster wall): seeded value
noise, uint8 RGB images that tile in both directions."""

from __future__ import annotations

import numpy as np

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


# -- room textures (the procedural rooms' surfaces, both presets) --------------------------


def granite_texture(size: int = 128) -> np.ndarray:
    """Speckled stone countertop, as in most DROID kitchens: a mid-grey ground with dark and
    light flecks (strong small-scale contrast, as real granite reads on camera)."""
    rng = np.random.default_rng(4)
    ground = 0.52 + 0.12 * (_fractal(rng, (size, size), (4, 4), 3) - 0.5)
    flecks = rng.random((size, size))
    v = np.where(flecks < 0.18, 0.15, np.where(flecks > 0.9, 0.85, ground))
    tint = np.array([1.0, 0.95, 0.88])
    return _to_uint8(v[..., None] * tint)


def tiles_texture(size: int = 128) -> np.ndarray:
    """Kitchen backsplash: 4 × 8 glazed white tiles with grey grout lines, slightly uneven."""
    rng = np.random.default_rng(5)
    v = 0.86 + 0.04 * (rng.random((4, 8)) - 0.5)
    tile = np.repeat(np.repeat(v, size // 4, axis=0), size // 8, axis=1)
    yy, xx = np.mgrid[0:size, 0:size]
    grout = ((yy % (size // 4)) < 3) | ((xx % (size // 8)) < 3)
    tile = np.where(grout, 0.45, tile)
    return _to_uint8(tile[..., None] * np.array([1.0, 1.0, 0.98]))


def carpet_texture(size: int = 128) -> np.ndarray:
    """Office carpet tiles: dark blue-grey with a fine loop speckle and faint tile seams."""
    rng = np.random.default_rng(6)
    speckle = rng.random((size, size))
    blotch = _fractal(rng, (size, size), (8, 8), 2)
    v = 0.17 + 0.07 * (speckle - 0.5) + 0.05 * (blotch - 0.5)
    yy, xx = np.mgrid[0:size, 0:size]
    v = np.where((yy % (size // 2) < 1) | (xx % (size // 2) < 1), v * 0.7, v)
    return _to_uint8(v[..., None] * np.array([0.95, 1.0, 1.15]))


def planks_texture(size: int = 256) -> np.ndarray:
    """Wooden floor: 6 mid-brown planks across, each a different tone, with grain and dark joints."""
    rng = np.random.default_rng(7)
    h = w = size
    n = 6
    tones = 0.75 + 0.25 * rng.random(n)
    yy = np.arange(h)[:, None] * np.ones((1, w))
    plank = (yy * n // h).astype(int)
    grain = _fractal(rng, (h, w), (32, 2), 3)
    v = tones[plank] * (0.8 + 0.35 * (grain - 0.5))
    joint = (yy % (h // n)) < 2
    v = np.where(joint, 0.25, v)
    return _to_uint8(v[..., None] * np.array([0.55, 0.38, 0.24]))


def books_texture(size: int = 128) -> np.ndarray:
    """A shelf row of book spines and binders: vertical bands of random colours and widths
    with dark gaps (the busiest thing on a lab or office shelf)."""
    rng = np.random.default_rng(8)
    palette = np.array([[0.75, 0.12, 0.10], [0.10, 0.25, 0.60], [0.90, 0.85, 0.75], [0.12, 0.12, 0.14],
                        [0.20, 0.50, 0.25], [0.95, 0.70, 0.15], [0.55, 0.35, 0.20], [0.85, 0.85, 0.88]])
    out = np.zeros((size, size, 3))
    x = 0
    while x < size:
        width = int(rng.integers(3, 11))
        top = int(rng.integers(0, size // 4))
        out[top:, x:x + width] = palette[rng.integers(len(palette))] * (0.8 + 0.2 * rng.random())
        out[:, min(x + width - 1, size - 1)] *= 0.4
        x += width
    return _to_uint8(out)


def cinder_block_texture(size: int = 128) -> np.ndarray:
    """Painted concrete-block wall, common in labs: 2 × 4 blocks in running bond with deep
    mortar joints and a pitted surface."""
    rng = np.random.default_rng(9)
    yy, xx = np.mgrid[0:size, 0:size]
    course = yy // (size // 4)
    shifted = (xx + (course % 2) * (size // 4)) % size
    joint = ((yy % (size // 4)) < 3) | ((shifted % (size // 2)) < 3)
    pits = rng.random((size, size))
    v = 0.8 + 0.05 * (_fractal(rng, (size, size), (8, 8), 2) - 0.5) - 0.08 * (pits < 0.05)
    v = np.where(joint, 0.5, v)
    return _to_uint8(v[..., None] * np.array([1.0, 0.99, 0.95]))


def pegboard_texture(size: int = 128) -> np.ndarray:
    """Tool pegboard: hardboard with a square grid of dark holes."""
    yy, xx = np.mgrid[0:size, 0:size]
    pitch = size // 8
    hole = ((yy % pitch - pitch / 2) ** 2 + (xx % pitch - pitch / 2) ** 2) < (pitch / 6) ** 2
    v = np.where(hole, 0.12, 0.62)
    return _to_uint8(v[..., None] * np.array([1.0, 0.82, 0.6]))


def ceiling_texture(size: int = 128) -> np.ndarray:
    """Suspended ceiling: 2 × 2 acoustic tiles with a fine fissured surface in a metal grid."""
    rng = np.random.default_rng(10)
    yy, xx = np.mgrid[0:size, 0:size]
    grid = ((yy % (size // 2)) < 2) | ((xx % (size // 2)) < 2)
    v = 0.86 - 0.1 * (rng.random((size, size)) < 0.08)
    v = np.where(grid, 0.62, v)
    return _to_uint8(v[..., None] * np.ones(3))


def oak_texture(size: int = 256) -> np.ndarray:
    """A worn oak desk top: irregular dark grain lines, a few millimetres wide at the material's
    scale, on a warm ground with pores, and plank joints."""
    rng = np.random.default_rng(11)
    h = w = size
    yy = np.arange(h)[:, None] / h * np.ones((1, w))
    warp = _fractal(rng, (h, w), (3, 2), 4)
    rings = 28.0 * yy + 4.0 * warp
    width = 0.75 + 0.2 * _fractal(rng, (h, w), (4, 8), 2)
    streak = (np.sin(2 * np.pi * rings) > width).astype(float)
    pores = _fractal(rng, (h, w), (48, 4), 2)
    v = 0.8 - 0.28 * streak - 0.14 * (pores - 0.5)
    v = np.where((np.arange(h)[:, None] % (h // 3)) < 2, 0.35, v) * np.ones((1, w))
    return _to_uint8(v[..., None] * np.array([0.95, 0.72, 0.48]))


def butcher_block_texture(size: int = 256) -> np.ndarray:
    """A butcher-block or multiplex work top: glued strips of different tones, each with grain."""
    rng = np.random.default_rng(12)
    strips = 12
    tones = rng.uniform(0.5, 0.95, strips)
    yy = np.arange(size)[:, None] * np.ones((1, size))
    strip = (yy * strips // size).astype(int)
    grain = _fractal(rng, (size, size), (24, 2), 3)
    v = tones[strip] * (0.85 + 0.3 * (grain - 0.5))
    v = np.where((yy % (size // strips)) < 1, 0.35, v)
    return _to_uint8(v[..., None] * np.array([0.92, 0.7, 0.47]))
