"""Image resizing, every convention the toolkit uses, in one module (uint8 [H, W, 3] in and out).

- :func:`resize_bilinear`: torch's ``interpolate(mode="bilinear", align_corners=False)`` without
  antialiasing, as the RoboLab server composes its conditioning image (numpy only);
- :func:`resize_nearest`: nearest neighbour, for video panels;
- :func:`resize_image`: stretched with Pillow (Lanczos as the RoboArena client, ``box`` for area
  averages, ``bilinear``); :func:`resize_with_pad`: openpi's aspect-keeping resize onto black;
- :func:`half_size`: the mean of each 2 × 2 block, for README media.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

import numpy as np

from ._optional import require
from .errors import InvalidInputError

Resampling = Literal["lanczos", "box", "bilinear"]
RESAMPLINGS: tuple[Resampling, ...] = get_args(Resampling)


def check_image(image: Any, name: str) -> np.ndarray:
    """Return ``image`` as a contiguous uint8 H x W x 3 array, or raise ValueError."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise InvalidInputError(
            f"{name!r} must be a uint8 image (0..255), got dtype {array.dtype}; "
            "convert floats with (np.clip(x, 0, 1) * 255).round().astype(np.uint8)"
        )
    if array.ndim != 3 or array.shape[2] != 3 or array.shape[0] < 2 or array.shape[1] < 2:
        raise InvalidInputError(f"{name!r} must have shape [H, W, 3] with H, W >= 2, got {array.shape}")
    return np.ascontiguousarray(array)


def _source_coords(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample positions for bilinear resizing with half-pixel centres.

    Same convention as torch's ``interpolate(mode="bilinear", align_corners=False)``
    without antialiasing (what the RoboLab server uses), so the two agree.
    """
    scale = n_in / n_out
    src = (np.arange(n_out, dtype=np.float32) + 0.5) * np.float32(scale) - 0.5
    src = np.maximum(src, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = (src - lo).astype(np.float32)
    return lo, hi, frac


def resize_bilinear(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a uint8 H x W x 3 image to ``height x width`` (bilinear, no antialias).

    Values are truncated to uint8 rather than rounded, matching the RoboLab server's
    composition (a difference of at most one grey level).
    """
    image = check_image(image, "image")
    if height < 1 or width < 1:
        raise InvalidInputError(f"target size must be positive, got {height} x {width}")
    x = image.astype(np.float32)
    lo, hi, frac = _source_coords(image.shape[0], height)
    x = x[lo] * (1.0 - frac)[:, None, None] + x[hi] * frac[:, None, None]
    lo, hi, frac = _source_coords(image.shape[1], width)
    x = x[:, lo] * (1.0 - frac)[None, :, None] + x[:, hi] * frac[None, :, None]
    return np.clip(x, 0, 255).astype(np.uint8)


def resize_nearest(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resize of uint8 [h, w, 3] to [height, width, 3] (numpy only)."""
    h, w = image.shape[:2]
    if (h, w) == (height, width):
        return image
    rows = (np.arange(height) * h) // height
    cols = (np.arange(width) * w) // width
    return image[rows[:, None], cols[None, :]]


def _pil_resize(image: np.ndarray, height: int, width: int, resample: Resampling) -> np.ndarray:
    pil = require("PIL.Image")
    method = {"lanczos": pil.Resampling.LANCZOS, "box": pil.Resampling.BOX, "bilinear": pil.Resampling.BILINEAR}
    return np.asarray(pil.fromarray(image).resize((width, height), resample=method[resample]))


def resize_with_pad(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """uint8 [H, W, 3] -> uint8 [height, width, 3]: scaled (bilinear) to fit while keeping its
    aspect ratio, centred on black (openpi's DROID client convention; 180×320 -> 224×224 leaves
    126 rows of picture between black bars of 49)."""
    if image.shape[:2] == (height, width):
        return image
    h, w = image.shape[:2]
    scale = min(height / h, width / w)
    new_h, new_w = max(1, min(height, round(h * scale))), max(1, min(width, round(w * scale)))
    out = np.zeros((height, width, 3), np.uint8)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    out[top : top + new_h, left : left + new_w] = _pil_resize(image, new_h, new_w, "bilinear")
    return out


def resize_image(image: np.ndarray, height: int, width: int, resample: Resampling = "lanczos") -> np.ndarray:
    """uint8 [H, W, 3] -> uint8 [height, width, 3], stretched: the aspect ratio is not kept
    (the RoboArena client's convention, Lanczos). ``box`` averages areas (an exact 2×2 mean for
    a 2× reduction)."""
    if image.shape[:2] == (height, width):
        return image
    return _pil_resize(image, height, width, resample)


def half_size(frame: np.ndarray) -> np.ndarray:
    """Half-size frame: the mean of each 2 × 2 block."""
    h, w = frame.shape[0] // 2 * 2, frame.shape[1] // 2 * 2
    blocks = frame[:h, :w].reshape(h // 2, 2, w // 2, 2, 3).astype(np.float32)
    return blocks.mean(axis=(1, 3)).round().astype(np.uint8)
