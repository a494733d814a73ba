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
from ..image_resize import check_image, resize_bilinear
from ..observations import DEFAULT_CAMERA, EXTERIOR_CAMERAS, WRIST_CAMERA

ViewPoint = Literal["ego_view", "concat_view"]
VIEW_POINTS: tuple[str, ...] = ("ego_view", "concat_view")


def _get_image(observation: Mapping[str, Any], key: str) -> np.ndarray:
    if not isinstance(observation, Mapping):
        raise InvalidTypeError(f"observation must be a mapping of DROID keys, got {type(observation).__name__}")
    if key not in observation:
        present = sorted(k for k in observation if isinstance(k, str))
        raise InvalidInputError(f"observation has no {key!r} image; keys present: {present}")
    return check_image(observation[key], key)


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
    array = check_image(image, "image")
    return pil_image.fromarray(array).convert("RGB")
