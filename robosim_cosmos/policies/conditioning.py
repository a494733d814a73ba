"""The conditioning image a Cosmos 3 policy sees, built from a DROID observation.

Two layouts, named after the ``view_point`` label the model's caption carries:

``ego_view``
    One exterior camera, unchanged (DROID: 180 x 320).
``concat_view``
    The layout NVIDIA's RoboLab policy server composes: the wrist image on top at full
    size, and below it the two exterior images, each resized to half the wrist image's
    height and width, side by side::

        +-----------------------+
        |         wrist         |   H
        +-----------+-----------+
        | exterior1 | exterior2 |   H // 2
        +-----------+-----------+
              W // 2    W - W // 2

    The output is ``(H + H // 2) x W`` (DROID 180 x 320 -> 270 x 320). The right tile
    takes the odd column when W is odd, so the bottom row always matches the wrist width.

Everything here is numpy only; ``to_pipeline_image`` imports Pillow lazily.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from .._optional import require
from ..errors import InvalidInputError, InvalidTypeError
from ..observations import DEFAULT_CAMERA, EXTERIOR_CAMERAS, WRIST_CAMERA

ViewPoint = Literal["ego_view", "concat_view"]
VIEW_POINTS: tuple[str, ...] = ("ego_view", "concat_view")


def _check_image(image: Any, name: str) -> np.ndarray:
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


def _get_image(observation: Mapping[str, Any], key: str) -> np.ndarray:
    if not isinstance(observation, Mapping):
        raise InvalidTypeError(f"observation must be a mapping of DROID keys, got {type(observation).__name__}")
    if key not in observation:
        present = sorted(k for k in observation if isinstance(k, str))
        raise InvalidInputError(f"observation has no {key!r} image; keys present: {present}")
    return _check_image(observation[key], key)


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
    image = _check_image(image, "image")
    if height < 1 or width < 1:
        raise InvalidInputError(f"target size must be positive, got {height} x {width}")
    x = image.astype(np.float32)
    lo, hi, frac = _source_coords(image.shape[0], height)
    x = x[lo] * (1.0 - frac)[:, None, None] + x[hi] * frac[:, None, None]
    lo, hi, frac = _source_coords(image.shape[1], width)
    x = x[:, lo] * (1.0 - frac)[None, :, None] + x[:, hi] * frac[None, :, None]
    return np.clip(x, 0, 255).astype(np.uint8)


def conditioning_image(
    observation: Mapping[str, Any],
    view_point: ViewPoint = "ego_view",
    camera: str = DEFAULT_CAMERA,
) -> np.ndarray:
    """Build the uint8 H x W x 3 image a policy is conditioned on.

    ``ego_view`` returns ``observation[camera]`` (one of EXTERIOR_CAMERAS);
    ``concat_view`` composes wrist + both exteriors as described in the module
    docstring and ignores ``camera``.
    """
    if view_point == "ego_view":
        if camera not in EXTERIOR_CAMERAS:
            raise InvalidInputError(f"camera must be one of {list(EXTERIOR_CAMERAS)}, got {camera!r}")
        return _get_image(observation, camera)
    if view_point == "concat_view":
        wrist = _get_image(observation, WRIST_CAMERA)
        left = _get_image(observation, EXTERIOR_CAMERAS[0])
        right = _get_image(observation, EXTERIOR_CAMERAS[1])
        height, width = wrist.shape[:2]
        half_h, half_w = height // 2, width // 2
        bottom = np.concatenate(
            [resize_bilinear(left, half_h, half_w), resize_bilinear(right, half_h, width - half_w)],
            axis=1,
        )
        return np.ascontiguousarray(np.concatenate([wrist, bottom], axis=0))
    raise InvalidInputError(f"view_point must be one of {list(VIEW_POINTS)}, got {view_point!r}")


def to_pipeline_image(image: np.ndarray) -> Any:
    """Wrap a uint8 H x W x 3 array as an RGB ``PIL.Image`` for the diffusers pipeline.

    Why: Cosmos3OmniPipeline scales float arrays from [0, 1] and reads PIL images as
    0..255, but a uint8 numpy array is taken through a path that silently mis-scales
    it. PIL is the unambiguous form.
    """
    pil_image = require("PIL.Image")
    array = _check_image(image, "image")
    return pil_image.fromarray(array).convert("RGB")
