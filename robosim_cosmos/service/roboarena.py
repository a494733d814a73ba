"""RoboArena DROID servers: the config a server announces as its metadata (checked on both
sides: by the client as it reads it, by our server as it builds it) and what its requests carry.

The config's keys and the RoboArena client's defaults are :data:`~.protocol.ROBOARENA_DEFAULTS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ConfigError, InvalidInputError, ProtocolError
from ..policy_api import Layout
from .images import image_size_option
from .protocol import (
    ACTION_SPACE_LAYOUT,
    ACTION_SPACES,
    OBSERVATION_PREFIX,
    ROBOARENA_DEFAULTS,
    SESSION_KEY,
    ActionSpace,
)
from .request import request_image

__all__ = ["SPACE_OF_LAYOUT", "RoboArenaConfig", "check_roboarena_request", "roboarena_metadata"]

SPACE_OF_LAYOUT: dict[Layout, ActionSpace] = {layout: space for space, layout in ACTION_SPACE_LAYOUT.items()}
"""The DROID action space whose rows each joint layout holds."""


class RoboArenaConfig:
    """A RoboArena server's metadata, checked; missing keys take the RoboArena client's defaults.

    image_resolution: (H, W) or None (images as captured); n_external_cameras: 1 or 2;
    needs_wrist_camera, needs_stereo_camera, needs_session_id: bools; action_space.
    """

    KEYS: tuple[str, ...] = tuple(ROBOARENA_DEFAULTS)

    def __init__(self, meta: Mapping[str, Any], address: str) -> None:
        doc = {**ROBOARENA_DEFAULTS, **{k: meta[k] for k in self.KEYS if k in meta}}
        try:
            self.image_resolution = image_size_option(doc["image_resolution"], "image_resolution")
        except ConfigError:
            raise ProtocolError(
                f"policy server at {address} sent image_resolution={doc['image_resolution']!r}; "
                "expected [H, W] (two positive integers) or null"
            ) from None
        for key in ("needs_wrist_camera", "needs_stereo_camera", "needs_session_id"):
            if not isinstance(doc[key], (bool, np.bool_)):
                raise ProtocolError(f"policy server at {address} sent {key}={doc[key]!r}; expected true or false")
        self.needs_wrist_camera = bool(doc["needs_wrist_camera"])
        self.needs_stereo_camera = bool(doc["needs_stereo_camera"])
        self.needs_session_id = bool(doc["needs_session_id"])
        if doc["n_external_cameras"] not in (1, 2) or isinstance(doc["n_external_cameras"], bool):
            raise ProtocolError(
                f"policy server at {address} asks for n_external_cameras={doc['n_external_cameras']!r}; "
                "the simulated DROID station has 1 or 2"
            )
        self.n_external_cameras = int(doc["n_external_cameras"])
        if self.needs_stereo_camera:
            raise ProtocolError(
                f"policy server at {address} needs stereo (right-eye) images, which the simulated DROID "
                "cameras do not render; only servers with needs_stereo_camera=false can be evaluated"
            )
        if doc["action_space"] not in ACTION_SPACES:
            raise ProtocolError(
                f"policy server at {address} announced action_space {doc['action_space']!r}; "
                f"valid: {list(ACTION_SPACES)}"
            )
        self.action_space: ActionSpace = doc["action_space"]

    @staticmethod
    def announced_by(meta: Mapping[str, Any]) -> bool:
        """Whether a metadata frame is a RoboArena config (it names any RoboArena key)."""
        return any(key in meta for key in ROBOARENA_DEFAULTS)


def roboarena_metadata(layout: Layout, extra: Mapping[str, Any]) -> dict[str, Any]:
    """The RoboArena config a server of ``layout`` rows announces: the RoboArena defaults, the
    action space of the layout, ``extra`` on top (checked; ConfigError naming what is wrong)."""
    meta = {**ROBOARENA_DEFAULTS, "action_space": SPACE_OF_LAYOUT[layout], **extra}
    if meta["action_space"] != SPACE_OF_LAYOUT[layout]:
        raise ConfigError(
            f"metadata action_space {meta['action_space']!r} contradicts the policy's {layout!r} rows "
            f"({SPACE_OF_LAYOUT[layout]!r}); leave it out"
        )
    res = meta["image_resolution"]
    ok = res is None or (
        isinstance(res, (list, tuple)) and len(res) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in res)
    )
    if not ok:
        raise ConfigError(f"image_resolution must be [H, W] (positive integers) or null, got {res!r}")
    if meta["n_external_cameras"] not in (1, 2) or isinstance(meta["n_external_cameras"], bool):
        raise ConfigError(f"n_external_cameras must be 1 or 2, got {meta['n_external_cameras']!r}")
    for key in ("needs_wrist_camera", "needs_stereo_camera", "needs_session_id"):
        if not isinstance(meta[key], bool):
            raise ConfigError(f"{key} must be true or false, got {meta[key]!r}")
    if res is not None:
        meta["image_resolution"] = [int(v) for v in res]
    return meta


def check_roboarena_request(request: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
    """What a RoboArena server relies on: the cameras its config asks for, at its resolution,
    and a ``session_id`` when it needs one. InvalidInputError naming the first problem."""
    cameras = [f"exterior_image_{i}_left" for i in range(1, int(meta["n_external_cameras"]) + 1)]
    if meta["needs_wrist_camera"]:
        cameras.append("wrist_image_left")
    res = meta["image_resolution"]
    for camera in cameras:
        key = OBSERVATION_PREFIX + camera
        if key not in request:
            raise InvalidInputError(f"request lacks {key!r}, which this server's metadata asks for")
        image = request_image(request[key], key)
        if res is not None and list(image.shape[:2]) != list(res):
            raise InvalidInputError(
                f"{key!r} is {image.shape[0]}x{image.shape[1]}; this server's image_resolution is {res[0]}x{res[1]}"
            )
    if meta["needs_session_id"] and not isinstance(request.get(SESSION_KEY), str):
        raise InvalidInputError(f"request needs a {SESSION_KEY!r} string (the metadata says needs_session_id)")
