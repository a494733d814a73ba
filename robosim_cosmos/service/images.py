"""Camera images as policy clients send them: checked uint8 [H, W, 3], and the image-size option
(the resizing itself, each reference client's way, is in :mod:`robosim_cosmos.image_resize`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ConfigError, InvalidInputError

__all__ = ["image_size_option", "rgb_image"]


def rgb_image(image: Any, key: str) -> np.ndarray:
    """``image`` as a uint8 [H, W, 3] array, else InvalidInputError naming ``key``."""
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[-1] != 3:
        raise InvalidInputError(f"observation[{key!r}] must be uint8 [H, W, 3], got {array.dtype} {array.shape}")
    return array


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
