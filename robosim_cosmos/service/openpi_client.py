"""Client for openpi and RoboArena DROID policy servers (π0, π0-FAST, π0.5 and friends).

Same websocket + msgpack protocol as the Cosmos 3 client (:mod:`.client`), other contract:

- openpi DROID servers (metadata ``{}``) get ``observation/exterior_image_1_left`` and
  ``observation/wrist_image_left`` resized to 224×224 (aspect ratio kept, black padding),
  ``observation/joint_position`` [7], ``observation/gripper_position`` [1] and ``prompt``, and
  answer ``actions`` [N, 8]: 7 joint velocities (stock checkpoints) or absolute joint positions
  (``*_droid_jointpos`` checkpoints) + the absolute gripper.
- RoboArena servers announce a config dict as metadata (:data:`~.protocol.ROBOARENA_DEFAULTS`):
  which cameras, at which resolution, the action space, whether requests carry a session id.
  Requests also carry ``observation/cartesian_position`` and ``endpoint: "infer"``; when an
  episode ends the client sends ``{"endpoint": "reset", "session_id": ...}``.

Rows are passed on as the server sent them except for the gripper, binarized at 0.5 by default
as the reference clients do; velocities are clipped (and counted) by the env that executes them
(``DroidEnv(action_mode="joint_velocity")``). A reply that looks like the other action space
(:mod:`.action_space`) is marked in its chunk's info and warned about once.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ConfigError, InvalidInputError, ProtocolError
from ..image_resize import resize_image, resize_with_pad
from ..observations import DEFAULT_CAMERA, EXTERIOR_CAMERAS, WRIST_CAMERA
from ..policy_api import ACTION_SPACE_LOG, ACTION_SPACE_MISMATCH, WHOLE_CHUNK, ActionChunk, OpenLoopDefault
from .action_space import other_space_evidence
from .codec import packb
from .connection import DEFAULT_HOST, DEFAULT_PORT, ConnectionOptions, takes_connection_options
from .images import image_size_option, rgb_image
from .protocol import (
    ACTION_KEYS,
    ACTION_SPACE_LAYOUT,
    ACTION_SPACES,
    ENDPOINT_KEY,
    OBSERVATION_PREFIX,
    PROMPT_KEY,
    SESSION_KEY,
    STATE_WIDTHS,
    TIMING_KEY,
    ActionSpace,
)
from .roboarena import RoboArenaConfig
from .service_policy import ServicePolicy

__all__ = ["OPENPI_IMAGE_SIZE", "OpenpiPolicy", "RoboArenaConfig"]

OPENPI_IMAGE_SIZE = (224, 224)
"""(H, W) the openpi DROID client resizes both images to."""
OPENPI_VELOCITY_OPEN_LOOP = 8
"""Rows of a joint-velocity chunk the openpi DROID client executes before asking again."""
DEFAULT_CHUNK_ROWS = 10
"""Chunk length assumed until the first reply (π0 and π0-FAST DROID answer 10 rows, π0.5 15)."""
GRIPPER_THRESHOLD = 0.5
CLOSE_RESET_TIMEOUT_S = 5.0
"""How long ``close()`` waits for a RoboArena server to answer the last session's reset."""
ROW_WIDTH = 8  # 7 joints + gripper, in either action space
SPACE_WORDS: dict[ActionSpace, str] = {"joint_position": "absolute joint positions",
                                       "joint_velocity": "joint velocities"}
CHECKPOINTS: dict[ActionSpace, str] = {"joint_position": "a *_droid_jointpos checkpoint",
                                       "joint_velocity": "a stock (joint-velocity) DROID checkpoint"}

log = logging.getLogger(ACTION_SPACE_LOG)
_warned: set[tuple[str, ActionSpace]] = set()
"""(server, action space) pairs already warned about in this process: a suite builds one client
per task, and one warning says it."""


class OpenpiPolicy(ServicePolicy):
    """Policy backed by an openpi or RoboArena DROID policy server (``openpi://HOST:PORT``).

    ``action_space``: ``joint_velocity`` (stock π0 / π0-FAST / π0.5 DROID checkpoints: chunks
    use the ``joint_vel`` layout) or ``joint_position`` (``*_droid_jointpos`` checkpoints:
    ``joint_pos``); None takes it from a RoboArena server's metadata, else ``joint_velocity``.
    A RoboArena server announcing another action space than the one asked for is a ConfigError.
    A reply far more plausible as the other space (:mod:`.action_space`) gets
    ``info["action_space_mismatch"]`` and one warning per server and space, naming the fix.
    ``exterior_camera``: the env camera sent as ``exterior_image_1_left`` (one-camera servers).
    ``image_size``: (H, W) of the images sent to an openpi server, resized with black padding
    (default 224×224); a RoboArena server's ``image_resolution`` decides for it (an explicit
    ``image_size`` that disagrees is a ConfigError). ``binarize_gripper``: send the gripper on
    as 1.0 above 0.5, else 0.0 (the reference clients do; on by default).

    ``default_open_loop_steps`` follows the reference clients: 8 rows of a joint-velocity chunk
    from an openpi server, every row otherwise (RoboArena clients execute every row).
    ``chunk_size`` is the length of the last reply (10 until one arrives).
    The connection options (API key, timeouts, retries) are :class:`.connection.ConnectionOptions`'s.
    """

    predicts_video = False

    @takes_connection_options
    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        action_space: ActionSpace | None = None,
        exterior_camera: str = DEFAULT_CAMERA,
        image_size: tuple[int, int] | list[int] | None = None,
        binarize_gripper: bool = True,
        **connection: Any,
    ) -> None:
        if action_space is not None and action_space not in ACTION_SPACES:
            raise ConfigError(f"unknown action_space {action_space!r}; valid: {list(ACTION_SPACES)}")
        if exterior_camera not in EXTERIOR_CAMERAS:
            raise ConfigError(f"unknown exterior_camera {exterior_camera!r}; valid: {list(EXTERIOR_CAMERAS)}")
        if not isinstance(binarize_gripper, bool):
            raise ConfigError(f"binarize_gripper must be true or false, got {binarize_gripper!r}")
        super().__init__(ConnectionOptions(host, port, **connection))
        self.requested_action_space: ActionSpace | None = action_space
        self.requested_image_size = image_size_option(image_size, "image_size")
        self.exterior_camera = exterior_camera
        self.camera = exterior_camera
        self.binarize_gripper = binarize_gripper
        self.roboarena: RoboArenaConfig | None = None
        self.chunk_size = DEFAULT_CHUNK_ROWS
        self.action_space: ActionSpace = action_space or "joint_velocity"
        self.default_open_loop_steps: OpenLoopDefault = None
        self._set_action_space(self.action_space)
        self._session_id: str | None = None
        self._session_requests = 0

    def __repr__(self) -> str:
        kind = "RoboArena" if self.roboarena is not None else "openpi"
        return f"OpenpiPolicy({self.address!r}, {kind}, action_space={self.action_space!r})"

    def _set_action_space(self, space: ActionSpace) -> None:
        self.action_space = space
        self.layout = ACTION_SPACE_LAYOUT[space]
        velocity_openpi = space == "joint_velocity" and self.roboarena is None
        self.default_open_loop_steps = OPENPI_VELOCITY_OPEN_LOOP if velocity_openpi else WHOLE_CHUNK

    @property
    def image_size(self) -> tuple[int, int] | None:
        """(H, W) of the images sent, or None (as captured: a RoboArena server asking for raw images)."""
        if self.roboarena is not None:
            return self.roboarena.image_resolution
        return self.requested_image_size or OPENPI_IMAGE_SIZE

    # -- metadata --------------------------------------------------------------------

    def _apply_metadata(self, meta: dict[str, Any]) -> None:
        arena = RoboArenaConfig(meta, self.address) if RoboArenaConfig.announced_by(meta) else None
        if arena is not None:
            wanted = self.requested_action_space
            if wanted is not None and wanted != arena.action_space:
                raise ConfigError(
                    f"RoboArena server at {self.address} announced action_space {arena.action_space!r}, "
                    f"but action_space={wanted!r} was asked for; drop the option or connect to a "
                    f"{wanted} server"
                )
            size = self.requested_image_size
            if size is not None and size != arena.image_resolution:
                raise ConfigError(
                    f"RoboArena server at {self.address} asks for images of {arena.image_resolution} "
                    f"(image_resolution), but image_size={list(size)} was given; drop the option"
                )
        self.metadata = meta
        self.roboarena = arena
        self._set_action_space(arena.action_space if arena is not None else (self.requested_action_space
                                                                            or "joint_velocity"))

    # -- requests --------------------------------------------------------------------

    def get_actions(self, observation: Mapping[str, Any], instruction: str) -> ActionChunk:
        """Send one observation as the openpi / RoboArena client would; the rows as answered
        (gripper binarized unless ``binarize_gripper=False``)."""
        self.connect()  # the server's metadata decides what the request holds
        chunk = super().get_actions(observation, instruction)
        self._check_action_space(chunk, observation["joint_position"])
        return chunk

    def _check_action_space(self, chunk: ActionChunk, joints: Any) -> None:
        """Mark (and warn once about) a chunk that looks like the other joint action space."""
        space = self.action_space
        evidence = other_space_evidence(space, chunk.actions, joints)
        if evidence is None:
            return
        other: ActionSpace = "joint_position" if space == "joint_velocity" else "joint_velocity"
        chunk.info[ACTION_SPACE_MISMATCH] = other
        if (self.address, space) in _warned:
            return
        _warned.add((self.address, space))
        looks = f"rows that look like {SPACE_WORDS[other]} ({evidence})"
        if self.roboarena is not None:
            log.warning("the RoboArena server at %s announced action_space %r but answered %s; its config or "
                        "its checkpoint is wrong", self.address, space, looks)
            return
        log.warning("the policy server at %s answered %s, but this client runs them as %s; if it serves %s, "
                    "pass --policy-arg action_space=%s (create_policy(..., action_space=%r)). Each such chunk "
                    "counts in the episode's action_space_mismatches", self.address, looks, SPACE_WORDS[space],
                    CHECKPOINTS[other], other, other)

    def _image(self, observation: Mapping[str, Any], camera: str) -> np.ndarray:
        if camera not in observation:
            raise InvalidInputError(
                f"observation lacks {camera!r}; the policy server at {self.address} needs it (uint8 [H, W, 3])"
            )
        image = rgb_image(observation[camera], camera)
        size = self.image_size
        if size is None:
            return np.ascontiguousarray(image)
        resize = resize_image if self.roboarena is not None else resize_with_pad
        return np.ascontiguousarray(resize(image, *size))

    def _request(self, observation: Mapping[str, Any], instruction: str) -> dict[str, Any]:
        if not isinstance(instruction, str):
            raise InvalidInputError(f"instruction must be a str, got {type(instruction).__name__}")
        arena = self.roboarena
        request: dict[str, Any] = {}
        if arena is not None and arena.n_external_cameras == 2:
            for slot, camera in enumerate(EXTERIOR_CAMERAS, start=1):
                request[f"{OBSERVATION_PREFIX}exterior_image_{slot}_left"] = self._image(observation, camera)
        else:
            request[f"{OBSERVATION_PREFIX}exterior_image_1_left"] = self._image(observation, self.exterior_camera)
        if arena is None or arena.needs_wrist_camera:
            request[OBSERVATION_PREFIX + WRIST_CAMERA] = self._image(observation, WRIST_CAMERA)
        widths = dict(STATE_WIDTHS)
        if arena is not None:
            widths["cartesian_position"] = 6  # the RoboArena client always sends it
        for key, width in widths.items():
            if key not in observation:
                raise InvalidInputError(f"observation lacks {key!r} ([{width}] float)")
            value = np.asarray(observation[key], dtype=np.float64)
            if value.size != width:
                raise InvalidInputError(f"observation[{key!r}] must have {width} values, got shape {value.shape}")
            request[OBSERVATION_PREFIX + key] = value.reshape(width)
        request[PROMPT_KEY] = instruction
        if arena is not None:
            request[ENDPOINT_KEY] = "infer"
            if self._session_id is None:
                self._session_id = uuid.uuid4().hex
            if arena.needs_session_id:
                request[SESSION_KEY] = self._session_id
            self._session_requests += 1
        return request

    def _to_chunk(self, reply: Any, latency: float) -> ActionChunk:
        info: dict[str, Any] = {"latency_s": latency, "server": self.address}
        if isinstance(reply, dict):
            actions = next((reply[k] for k in ACTION_KEYS if k in reply), None)
            if actions is None:
                raise ProtocolError(
                    f"policy server reply has no {' or '.join(map(repr, ACTION_KEYS))}; "
                    f"keys: {sorted(map(str, reply))}"
                )
            if isinstance(reply.get(TIMING_KEY), dict):
                info[TIMING_KEY] = reply[TIMING_KEY]
        elif isinstance(reply, np.ndarray):
            actions = reply  # some RoboArena servers answer the bare array
        else:
            raise ProtocolError(f"policy server reply must be a map, got {type(reply).__name__}")
        try:
            rows = np.array(actions, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise ProtocolError(f"policy server sent non-numeric actions: {exc}") from None
        if rows.ndim == 1 and rows.shape[0] == ROW_WIDTH:
            rows = rows[None]  # one row, as the RoboArena client accepts
        if rows.ndim != 2 or rows.shape[0] == 0 or rows.shape[1] != ROW_WIDTH:
            raise ProtocolError(
                f"policy server at {self.address} sent actions of shape {list(rows.shape)}; a DROID "
                f"{self.action_space} chunk is [N, {ROW_WIDTH}] with N >= 1 (7 joints + gripper)"
            )
        if self.action_space == "joint_velocity":
            # The env clips these into [-1, 1] and counts them; say here how many there were.
            info["velocities_outside_unit_range"] = int(np.count_nonzero(np.abs(rows[:, :7]) > 1.0))
        if self.binarize_gripper:
            rows[:, 7] = (rows[:, 7] > GRIPPER_THRESHOLD).astype(np.float32)
        self.chunk_size = len(rows)
        return ActionChunk(rows, self.layout, self.embodiment, None, info)

    # -- episodes ---------------------------------------------------------------------

    def reset(self) -> None:
        """Start a new episode: a RoboArena server gets ``endpoint: "reset"`` for the one that
        ended (as the RoboArena client sends after each episode); then a new session id."""
        if self.roboarena is not None and self._session_requests:
            self._send_reset()
        self._session_id, self._session_requests = None, 0

    def close(self) -> None:
        """End the session (a RoboArena server is told, best effort) and close the connection."""
        with self.connection.lock:
            if self.roboarena is not None and self._session_requests and self.connection.is_open:
                with contextlib.suppress(ProtocolError):  # closing anyway: nothing to do about it
                    self._send_reset(timeout=min(self.options.receive_timeout, CLOSE_RESET_TIMEOUT_S))
            self._session_id, self._session_requests = None, 0
            self.connection.drop()

    def _send_reset(self, timeout: float | None = None) -> None:
        payload = packb({ENDPOINT_KEY: "reset", SESSION_KEY: self._session_id})
        frame, _ = self.connection.exchange(payload, timeout)
        # RoboArena servers answer a text frame ("reset successful") or a msgpack map; the reference
        # client ignores it. Only a traceback (an error frame, followed by close 1011) is a failure.
        if isinstance(frame, str) and frame.lstrip().startswith("Traceback"):
            self.connection.drop()
            last = frame.strip().splitlines()[-1]
            raise ProtocolError(f"policy server at {self.address} failed to reset: {last}", remote_traceback=frame)
