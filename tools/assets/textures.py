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
