"""Camera images as policy clients send them: checked uint8 [H, W, 3], resized the way each
reference client resizes (openpi: keep the aspect ratio and pad with black; RoboArena: stretch)."""

from __future__ import annotations

from typing import Any, Literal, get_args

import numpy as np

from .._optional import require
from ..errors import ConfigError, InvalidInputError

__all__ = ["RESAMPLINGS", "Resampling", "image_size_option", "resize_image", "resize_with_pad", "rgb_image"]

Resampling = Literal["lanczos", "box", "bilinear"]
RESAMPLINGS: tuple[Resampling, ...] = get_args(Resampling)


def rgb_image(image: Any, key: str) -> np.ndarray:
    """``image`` as a uint8 [H, W, 3] array, else InvalidInputError naming ``key``."""
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[-1] != 3:
        raise InvalidInputError(f"observation[{key!r}] must be uint8 [H, W, 3], got {array.dtype} {array.shape}")
    return array


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


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"not an integer: {value!r}")
    return int(value)


def image_size_option(value: Any, what: str) -> tuple[int, int] | None:
    """An (H, W) option given as a pair of positive integers (a JSON list from the command line),
    or None; ConfigError naming ``what`` otherwise."""
    if value is None:
        return None
    try:
        h, w = (_int(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(f"{what} must be [H, W] (two positive integers) or None, got {value!r}") from None
    if h < 1 or w < 1:
        raise ConfigError(f"{what} must be [H, W] (two positive integers) or None, got {value!r}")
    return h, w
