"""A DROID observation as a wire request and back: what the Cosmos 3 client sends, what the
server reads (the RoboLab / openpi request keys, see :mod:`.protocol`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..image_resize import resize_image
from ..observations import CAMERAS, DEFAULT_CAMERA, EXTERIOR_CAMERAS
from .images import rgb_image
from .protocol import IMAGE_KEYS, OBSERVATION_PREFIX, PROMPT_KEY, SINGLE_IMAGE_KEY, STATE_WIDTHS

__all__ = ["observation_to_request", "request_image", "request_to_observation"]


def observation_to_request(
    observation: Mapping[str, Any], instruction: str, exterior_size: tuple[int, int] | None = None
) -> dict[str, Any]:
    """Build the wire request from a DROID observation dict, as the RoboLab client does.

    Images go as the env rendered them; ``exterior_size`` (H, W) resizes the two exterior
    cameras (area average), e.g. (180, 320) next to a 360×640 wrist image as the RoboLab client sends.
    """
    missing = [k for k in (*CAMERAS, *STATE_WIDTHS) if k not in observation]
    if missing:
        raise InvalidInputError(
            f"observation lacks {missing}; the policy service needs {list(CAMERAS)} "
            "(uint8 [H, W, 3]), 'joint_position' [7] and 'gripper_position' [1]"
        )
    if not isinstance(instruction, str):
        raise InvalidInputError(f"instruction must be a str, got {type(instruction).__name__}")
    request: dict[str, Any] = {}
    for key in CAMERAS:
        image = rgb_image(observation[key], key)
        if exterior_size is not None and key in EXTERIOR_CAMERAS:
            image = resize_image(image, *exterior_size, resample="box")
        request[OBSERVATION_PREFIX + key] = np.ascontiguousarray(image)
    for key, width in STATE_WIDTHS.items():
        value = np.asarray(observation[key], dtype=np.float64)
        if value.size != width:
            raise InvalidInputError(f"observation[{key!r}] must have {width} values, got shape {value.shape}")
        request[OBSERVATION_PREFIX + key] = value.reshape(width)
    request[PROMPT_KEY] = instruction
    return request


def request_image(value: Any, key: str) -> np.ndarray:
    """A request's image entry, which must be a uint8 [H, W, 3] array; InvalidInputError naming ``key``."""
    ok = isinstance(value, np.ndarray) and value.dtype == np.uint8
    if not ok or value.ndim != 3 or value.shape[-1] != 3:
        got = f"{value.dtype} {value.shape}" if isinstance(value, np.ndarray) else type(value).__name__
        raise InvalidInputError(f"{key!r} must be a uint8 array of shape [H, W, 3], got {got}")
    return value


def _state(value: Any, key: str, width: int) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{key!r} must be numeric, got {type(value).__name__}: {exc}") from exc
    if width == 1 and array.ndim == 0:
        array = array.reshape(1)
    if array.ndim == 2 and array.shape[1] == width and array.shape[0] > 0:
        array = array[-1]  # a [T, width] history: the newest row is the current state
    if array.shape != (width,):
        raise InvalidInputError(f"{key!r} must have shape [{width}] or [T, {width}], got {list(array.shape)}")
    return array


def request_to_observation(request: Any) -> tuple[dict[str, Any], str]:
    """Turn a wire request into ``(DROID observation dict, prompt)``.

    Keys lose their ``observation/`` prefix; ``observation/image`` stands in for
    ``exterior_image_1_left``; other ``observation/*`` entries pass through.
    Raises InvalidInputError naming the offending key.
    """
    if not isinstance(request, dict):
        raise InvalidInputError(f"a request must be a msgpack map, got {type(request).__name__}")
    prompt = request.get(PROMPT_KEY)
    if not isinstance(prompt, str):
        raise InvalidInputError(
            f"request needs a {PROMPT_KEY!r} string"
            + ("" if prompt is None else f", got {type(prompt).__name__}")
        )
    n = len(OBSERVATION_PREFIX)
    obs: dict[str, Any] = {
        key[n:]: value
        for key, value in request.items()
        if isinstance(key, str) and key.startswith(OBSERVATION_PREFIX)
    }
    single = obs.pop(SINGLE_IMAGE_KEY[n:], None)
    if single is not None:
        obs.setdefault(DEFAULT_CAMERA, single)
    if DEFAULT_CAMERA not in obs:
        raise InvalidInputError(
            f"request has no image: send {', '.join(map(repr, IMAGE_KEYS))} "
            f"(or a single {SINGLE_IMAGE_KEY!r}); got keys {sorted(str(k) for k in request)}"
        )
    for key in CAMERAS:
        if key in obs:
            obs[key] = request_image(obs[key], OBSERVATION_PREFIX + key)
    for key, width in STATE_WIDTHS.items():
        if key not in obs:
            raise InvalidInputError(f"request is missing {OBSERVATION_PREFIX + key!r} ([{width}] float)")
        obs[key] = _state(obs[key], OBSERVATION_PREFIX + key, width)
    return obs, prompt
