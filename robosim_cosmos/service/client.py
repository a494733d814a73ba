"""Client for a Cosmos 3 policy behind the RoboLab / openpi websocket server.

The server may be cosmos-framework's ``action_policy_server_robolab`` on a GPU box
or our own :class:`robosim_cosmos.service.server.PolicyServer`; both speak the
same protocol (binary msgpack frames, one metadata frame on connect, errors as a
text frame holding the traceback).
"""

from __future__ import annotations

import contextlib
import inspect
import threading
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.protocol import State
from websockets.sync.client import ClientConnection, connect

from ..errors import ConfigError, InvalidInputError, ProtocolError
from ..observations import CAMERAS, EXTERIOR_CAMERAS
from ..policy_api import LAYOUT_OF_WIDTH, LAYOUT_WIDTH, LAYOUTS, ActionChunk, Layout, Policy
from .codec import packb, unpackb
from .images import image_size_option, resize_image
from .protocol import (
    ACTION_KEYS,
    AUTH_SCHEMES,
    DEFAULT_METADATA,
    OBSERVATION_PREFIX,
    PROMPT_KEY,
    SERVE_HINT,
    STATE_WIDTHS,
    TIMING_KEY,
    VIDEO_KEY,
    AuthScheme,
    auth_header,
    resolve_api_key,
    ws_url,
)

__all__ = ["DEFAULT_METADATA", "Cosmos3ServicePolicy", "observation_to_request"]

# Newer websockets warn unless connect() is used as a context manager (legacy=True
# opts out) and honour proxy environment variables (a policy server is on the LAN:
# never route it through an HTTP proxy). Older releases lack both keywords.
_CONNECT_PARAMS = inspect.signature(connect).parameters
_CONNECT_EXTRA: dict[str, Any] = {}
if "legacy" in _CONNECT_PARAMS:
    _CONNECT_EXTRA["legacy"] = True
if "proxy" in _CONNECT_PARAMS:
    _CONNECT_EXTRA["proxy"] = None


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
        image = np.asarray(observation[key])
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
            raise InvalidInputError(
                f"observation[{key!r}] must be uint8 [H, W, 3], got {image.dtype} {image.shape}"
            )
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


class Cosmos3ServicePolicy(Policy):
    """Policy backed by a remote websocket policy server.

    Connects lazily on the first ``get_actions`` (or ``connect()``) and again after
    any dropped connection. ``layout``, ``embodiment`` and ``chunk_size`` hold the
    RoboLab defaults (``joint_pos``, ``droid``, 32) until the server's metadata
    frame arrives; call ``connect()`` to read them before the first request.
    The api key comes from ``api_key``, the environment variable named by ``api_key_env``, the
    file ``api_key_file``, or else ``$ROBOSIM_COSMOS_API_KEY`` when set (no key otherwise).
    Every failure on the wire raises :class:`ProtocolError`; a reply whose actions do not fit
    the announced layout raises :class:`PolicyError` like any policy's would. Chunks carry the
    server's predicted video when it sends one (``set_return_video(False)`` drops it).
    Images are sent at the env's size; ``exterior_image_size=(180, 320)`` shrinks the two exterior
    views, which with a 360×640 env gives exactly the RoboLab client's sizes (wrist 360×640).
    """

    predicts_video = True

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8000,
        api_key: str | None = None,
        api_key_env: str | None = None,
        api_key_file: str | None = None,
        auth_scheme: AuthScheme = "Api-Key",
        connect_timeout: float = 10.0,
        receive_timeout: float = 120.0,
        retries: int = 2,
        exterior_image_size: tuple[int, int] | list[int] | None = None,
    ) -> None:
        if auth_scheme not in AUTH_SCHEMES:
            raise ConfigError(f"auth_scheme {auth_scheme!r} is not supported; valid: {list(AUTH_SCHEMES)}")
        if retries < 0:
            raise ConfigError(f"retries must be >= 0, got {retries}")
        self.host = host
        self.port = int(port)
        self.api_key = resolve_api_key(api_key, api_key_env, api_key_file)
        self.auth_scheme: AuthScheme = auth_scheme
        self.connect_timeout = float(connect_timeout)
        self.receive_timeout = float(receive_timeout)
        self.retries = int(retries)
        self.exterior_image_size = image_size_option(exterior_image_size, "exterior_image_size")
        self.metadata: dict[str, Any] = {}
        self.layout: Layout = DEFAULT_METADATA["layout"]
        self.embodiment: str = DEFAULT_METADATA["embodiment"]
        self.chunk_size: int = DEFAULT_METADATA["chunk_size"]
        self._layout_known = False  # False: infer the layout from the reply's width
        self._ws: ClientConnection | None = None
        self._lock = threading.Lock()  # one sync websocket cannot interleave requests

    @property
    def address(self) -> str:
        return ws_url(self.host, self.port)

    def __repr__(self) -> str:
        # Never the api key: reprs end up in logs and summary.json.
        return f"Cosmos3ServicePolicy({self.address!r}, layout={self.layout!r}, chunk_size={self.chunk_size})"

    # -- connection ----------------------------------------------------------------

    def connect(self) -> dict[str, Any]:
        """Connect now (if not connected) and return the server's metadata."""
        with self._lock:
            self._ensure_connected()
            return dict(self.metadata)

    def close(self) -> None:
        """Close the connection; a later ``get_actions`` reconnects."""
        with self._lock:
            self._drop()

    def reset(self) -> None:
        """Nothing to reset: the protocol is stateless per request."""

    def _drop(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):  # already broken; closing is best effort
                ws.close()

    def _ensure_connected(self) -> ClientConnection:
        if self._ws is not None and self._ws.protocol.state is State.OPEN:
            return self._ws
        self._drop()  # closed by the server since the last call: reconnect quietly
        headers = auth_header(self.auth_scheme, self.api_key) if self.api_key else None
        last: BaseException | None = None
        attempts = 0
        for attempt in range(self.retries + 1):
            attempts += 1
            if attempt:
                time.sleep(0.25 * 2 ** (attempt - 1))
            try:
                ws = connect(
                    self.address,
                    compression=None,
                    max_size=None,
                    open_timeout=self.connect_timeout,
                    close_timeout=2.0,
                    additional_headers=headers,
                    **_CONNECT_EXTRA,
                )
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status in (401, 403):
                    what = "refused the API key" if self.api_key else "requires an API key (pass api_key=...)"
                    raise ProtocolError(f"policy server at {self.address} {what} (HTTP {status})") from exc
                last = exc
                if status < 500:  # a client-side problem will not go away by retrying
                    break
            except (OSError, TimeoutError, InvalidHandshake) as exc:
                last = exc
            else:
                self._ws = ws
                self._read_metadata(ws)
                return ws
        reason = f"{type(last).__name__}: {last}" if last is not None else "unknown error"
        raise ProtocolError(
            f"could not connect to the policy server at {self.address} after "
            f"{attempts} attempt(s) ({reason}); {SERVE_HINT}"
        ) from last

    def _read_metadata(self, ws: ClientConnection) -> None:
        try:
            frame = ws.recv(timeout=self.connect_timeout)
        except (TimeoutError, ConnectionClosed, OSError) as exc:
            self._drop()
            raise ProtocolError(f"policy server at {self.address} sent no metadata frame: {exc}") from exc
        if isinstance(frame, str):
            self._drop()
            raise ProtocolError(f"policy server at {self.address} failed on connect", remote_traceback=frame)
        try:
            meta = unpackb(frame)
        except ValueError as exc:
            self._drop()
            raise ProtocolError(f"policy server at {self.address} sent unreadable metadata: {exc}") from exc
        if not isinstance(meta, dict):
            self._drop()
            raise ProtocolError(f"policy server metadata must be a map, got {type(meta).__name__}")
        self._apply_metadata(meta)

    def _apply_metadata(self, meta: dict[str, Any]) -> None:
        layout = meta.get("layout")
        width = meta.get("action_dim")
        for key in ("action_dim", "chunk_size"):
            if key in meta and (isinstance(meta[key], bool) or not isinstance(meta[key], (int, np.integer))):
                self._drop()
                raise ProtocolError(
                    f"policy server at {self.address} sent {key}={meta[key]!r}; expected an integer"
                )
        if layout is None and width is not None:
            if int(width) not in LAYOUT_OF_WIDTH:
                self._drop()
                raise ProtocolError(
                    f"policy server at {self.address} announced action_dim {width}, which is no known layout; "
                    f"valid: {', '.join(f'{w} ({name})' for w, name in LAYOUT_OF_WIDTH.items())}"
                )
            layout = LAYOUT_OF_WIDTH[int(width)]
        if layout is not None and layout not in LAYOUT_WIDTH:
            self._drop()
            raise ProtocolError(
                f"policy server at {self.address} announced layout {layout!r}; valid: {list(LAYOUTS)}"
            )
        if layout is not None and width is not None and int(width) != LAYOUT_WIDTH[layout]:
            self._drop()
            raise ProtocolError(
                f"policy server at {self.address} announced layout {layout!r} with action_dim {width}; "
                f"{layout!r} is {LAYOUT_WIDTH[layout]} wide"
            )
        self.metadata = meta
        self._layout_known = layout is not None
        self.layout = layout or DEFAULT_METADATA["layout"]
        self.embodiment = str(meta.get("embodiment", DEFAULT_METADATA["embodiment"]))
        self.chunk_size = int(meta.get("chunk_size", DEFAULT_METADATA["chunk_size"]))

    # -- inference -----------------------------------------------------------------

    def get_actions(self, observation: Mapping[str, Any], instruction: str) -> ActionChunk:
        """Send one observation, wait for the action chunk (and video, if the server sends it)."""
        payload = packb(self._request(observation, instruction))
        with self._lock:
            frame, latency = self._send_recv(payload)
            if isinstance(frame, str):
                self._drop()  # the server closes with 1011 after an error frame
                last = frame.strip().splitlines()[-1] if frame.strip() else "(empty traceback)"
                raise ProtocolError(f"policy server at {self.address} failed: {last}", remote_traceback=frame)
            try:
                reply = unpackb(frame)
            except ValueError as exc:
                self._drop()
                raise ProtocolError(
                    f"policy server at {self.address} sent an unreadable reply: {exc}"
                ) from exc
        return self._to_chunk(reply, latency)

    def _request(self, observation: Mapping[str, Any], instruction: str) -> dict[str, Any]:
        """The wire request for one observation (subclasses speak other servers' contracts)."""
        return observation_to_request(observation, instruction, self.exterior_image_size)

    def _send_recv(self, payload: bytes, timeout: float | None = None) -> tuple[bytes | str, float]:
        """Send one frame and wait for the answer (up to ``timeout``, default ``receive_timeout``
        seconds): (frame, seconds taken). Call with the lock held.

        Transport failures drop the connection (the next call reconnects) and raise ProtocolError.
        """
        ws = self._ensure_connected()
        wait = self.receive_timeout if timeout is None else timeout
        start = time.perf_counter()
        try:
            ws.send(payload)
            frame = ws.recv(timeout=wait)
        except TimeoutError as exc:
            # A late reply would answer the next request: start over on a new connection.
            self._drop()
            raise ProtocolError(f"policy server at {self.address} sent no reply within {wait:g} s") from exc
        except ConnectionClosed as exc:
            self._drop()
            raise ProtocolError(
                f"connection to the policy server at {self.address} was lost ({_describe(exc)}); "
                "the next call reconnects"
            ) from exc
        except OSError as exc:
            self._drop()
            raise ProtocolError(
                f"connection to the policy server at {self.address} failed ({exc}); "
                "the next call reconnects"
            ) from exc
        return frame, time.perf_counter() - start

    def _to_chunk(self, reply: Any, latency: float) -> ActionChunk:
        if not isinstance(reply, dict):
            raise ProtocolError(f"policy server reply must be a map, got {type(reply).__name__}")
        actions = next((reply[k] for k in ACTION_KEYS if k in reply), None)
        if actions is None:
            raise ProtocolError(
                f"policy server reply has no {' or '.join(map(repr, ACTION_KEYS))}; keys: {sorted(map(str, reply))}"
            )
        actions = np.asarray(actions, dtype=np.float32)
        if actions.ndim != 2:
            raise ProtocolError(f"policy server sent actions of shape {list(actions.shape)}; expected [T, D]")
        layout = self.layout
        if not self._layout_known and actions.shape[1] in LAYOUT_OF_WIDTH:
            layout = LAYOUT_OF_WIDTH[actions.shape[1]]  # the server never said: trust the width
        video = reply.get(VIDEO_KEY) if self.return_video else None
        info: dict[str, Any] = {"latency_s": latency, "server": self.address}
        if isinstance(reply.get(TIMING_KEY), dict):
            info[TIMING_KEY] = reply[TIMING_KEY]
        return ActionChunk(
            actions=actions,
            layout=layout,
            embodiment=self.embodiment,
            predicted_video=None if video is None else np.asarray(video),
            info=info,
        )


def _describe(exc: ConnectionClosed) -> str:
    frame = exc.rcvd or exc.sent
    if frame is None:
        return "no close frame: the server went away"
    reason = f" {frame.reason}" if frame.reason else ""
    return f"close code {frame.code}{reason}"
