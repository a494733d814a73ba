"""Serve any Policy over the RoboLab / openpi websocket protocol.

Wire protocol: binary msgpack frames (see :mod:`.codec`), no compression. On
connect the server sends one metadata dict; then each request dict gets one reply
``{"action": float32 [T, D], "video"?: uint8 [F, H, W, 3], "server_timing": {...}}``.
A bad request or a policy exception is answered with a text frame holding the
traceback, and that connection is closed with code 1011. ``GET /healthz`` answers
200 "OK". A frame larger than ``max_frame_bytes`` (default
:data:`~.protocol.DEFAULT_MAX_FRAME_BYTES`, 16 MiB) is refused from its header, before
its payload is read: that connection is closed with code 1009, the others go on.

``dialect`` makes the server answer like another DROID policy server (for loopback tests of
the ``openpi://`` client): ``openpi`` sends the metadata ``{}`` and replies ``actions``;
``roboarena`` sends a RoboArena config as metadata, replies ``actions``, answers
``endpoint: "reset"`` with the text ``reset successful`` and resets the policy on a reset or
a new ``session_id``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import operator
import signal
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from typing import Any

import numpy as np
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from ..errors import ConfigError, InvalidInputError, InvalidTypeError, ServerStartError
from ..observations import CAMERAS, DEFAULT_CAMERA
from ..policy_api import LAYOUT_WIDTH, LAYOUTS, Layout, Policy
from .codec import packb, unpackb
from .protocol import (
    ACTION_SPACE_LAYOUT,
    API_KEY_ENV,
    AUTH_HEADER,
    AUTH_SCHEMES,
    CLOSE_INTERNAL_ERROR,
    CLOSE_MESSAGE_TOO_BIG,
    DEFAULT_MAX_FRAME_BYTES,
    DIALECTS,
    ENDPOINT_KEY,
    HEALTH_PATH,
    IMAGE_KEYS,
    OBSERVATION_PREFIX,
    PROMPT_KEY,
    RESET_REPLY,
    ROBOARENA_DEFAULTS,
    SESSION_KEY,
    SINGLE_IMAGE_KEY,
    STATE_WIDTHS,
    TIMING_KEY,
    VIDEO_KEY,
    Dialect,
    is_loopback_host,
    parse_auth,
    ws_url,
)

__all__ = ["PolicyServer", "request_to_observation"]

log = logging.getLogger(__name__)

_ACCEPTED_SCHEMES = tuple(s.lower() for s in AUTH_SCHEMES)
_SPACE_OF_LAYOUT = {layout: space for space, layout in ACTION_SPACE_LAYOUT.items()}


def roboarena_metadata(layout: Layout, extra: Mapping[str, Any]) -> dict[str, Any]:
    """The RoboArena config a server of ``layout`` rows announces: the RoboArena defaults, the
    action space of the layout, ``extra`` on top (checked; ConfigError naming what is wrong)."""
    meta = {**ROBOARENA_DEFAULTS, "action_space": _SPACE_OF_LAYOUT[layout], **extra}
    if meta["action_space"] != _SPACE_OF_LAYOUT[layout]:
        raise ConfigError(
            f"metadata action_space {meta['action_space']!r} contradicts the policy's {layout!r} rows "
            f"({_SPACE_OF_LAYOUT[layout]!r}); leave it out"
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
        image = _image(request[key], key)
        if res is not None and list(image.shape[:2]) != list(res):
            raise InvalidInputError(
                f"{key!r} is {image.shape[0]}x{image.shape[1]}; this server's image_resolution is {res[0]}x{res[1]}"
            )
    if meta["needs_session_id"] and not isinstance(request.get(SESSION_KEY), str):
        raise InvalidInputError(f"request needs a {SESSION_KEY!r} string (the metadata says needs_session_id)")


def _image(value: Any, key: str) -> np.ndarray:
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
            obs[key] = _image(obs[key], OBSERVATION_PREFIX + key)
    for key, width in STATE_WIDTHS.items():
        if key not in obs:
            raise InvalidInputError(f"request is missing {OBSERVATION_PREFIX + key!r} ([{width}] float)")
        obs[key] = _state(obs[key], OBSERVATION_PREFIX + key, width)
    return obs, prompt


class PolicyServer:
    """Websocket server around one Policy; connections are concurrent, policy calls serialized.

    ``start()`` runs the server on a background thread and returns once it is
    listening (``port=0`` picks a free port; read ``.port``). ``serve_forever()``
    blocks until Ctrl-C. Usable as a context manager.

    ``max_frame_bytes``: the largest request frame accepted (default 16 MiB; None: no
    limit, only for trusted peers). Listening on a non-loopback host without ``api_key``
    logs a warning: anyone who can reach the port can use the policy.
    """

    def __init__(
        self,
        policy: Policy,
        host: str = "127.0.0.1",
        port: int = 8000,
        api_key: str | None = None,
        decode_video: bool = False,
        metadata: Mapping[str, Any] | None = None,
        max_frame_bytes: int | None = DEFAULT_MAX_FRAME_BYTES,
        dialect: Dialect = "cosmos3",
    ) -> None:
        if not isinstance(policy, Policy):
            raise ConfigError(
                f"{type(policy).__name__} is not a robosim_cosmos Policy; subclass robosim_cosmos.policy_api.Policy"
            )
        if policy.layout not in LAYOUT_WIDTH:
            raise ConfigError(f"policy layout {policy.layout!r} is unknown; valid: {list(LAYOUTS)}")
        if dialect not in DIALECTS:
            raise ConfigError(f"unknown dialect {dialect!r}; valid: {list(DIALECTS)}")
        if dialect != "cosmos3" and policy.layout not in _SPACE_OF_LAYOUT:
            raise ConfigError(
                f"a {dialect} DROID server answers joint rows ({', '.join(map(repr, _SPACE_OF_LAYOUT))}); "
                f"this policy's layout is {policy.layout!r}"
            )
        self.dialect: Dialect = dialect
        if api_key is not None and not api_key:
            raise ConfigError("api_key must be a non-empty string or None (no auth)")
        try:
            port = operator.index(port)
        except TypeError:
            raise InvalidTypeError(f"port must be an int, got {type(port).__name__}") from None
        if not 0 <= port <= 65535:
            raise ConfigError(f"port must be 0..65535 (0 picks a free port), got {port}")
        if max_frame_bytes is not None:
            if isinstance(max_frame_bytes, bool) or not isinstance(max_frame_bytes, int):
                raise InvalidTypeError(f"max_frame_bytes must be an int or None, got {type(max_frame_bytes).__name__}")
            if max_frame_bytes <= 0:
                raise ConfigError(f"max_frame_bytes must be positive (or None: no limit), got {max_frame_bytes}")
        self.max_frame_bytes = max_frame_bytes
        self.policy = policy
        self.host = host
        self.port = int(port)
        self.api_key = api_key
        self.decode_video = bool(decode_video)
        derived = {
            "layout": policy.layout,
            "embodiment": policy.embodiment,
            "chunk_size": int(policy.chunk_size),
            "action_dim": LAYOUT_WIDTH[policy.layout],
            "decode_video": self.decode_video,
        }
        extra = dict(metadata or {})
        clashes = {k: extra[k] for k in derived if k in extra and extra[k] != derived[k]}
        if dialect == "cosmos3" and clashes:
            raise ConfigError(
                f"metadata {clashes} contradicts the policy ({ {k: derived[k] for k in clashes} }); "
                "these keys are filled in from the policy, leave them out"
            )
        if dialect == "cosmos3":
            self.metadata: dict[str, Any] = {**extra, **derived}
        elif dialect == "openpi":
            self.metadata = extra  # openpi DROID servers announce nothing: {}
        else:
            self.metadata = roboarena_metadata(policy.layout, extra)
        self._session: str | None = None  # the RoboArena session the policy's state belongs to
        self._fresh = True  # the policy's state belongs to no session yet (new, or just reset)
        self._metadata_frame = packb(self.metadata)  # fails early if not serializable
        self._policy_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Event | None = None

    # -- lifecycle -----------------------------------------------------------------

    @property
    def url(self) -> str:
        return ws_url(self.host, self.port)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 10.0) -> PolicyServer:
        """Start listening on a background thread; returns once the socket is bound."""
        if self.running:
            raise RuntimeError(f"server already running at {self.url}")
        # Video decoding can dominate a policy call; only pay for it when it is sent.
        self.policy.set_return_video(self.decode_video)
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run_loop, args=(ready, failure), name=f"PolicyServer:{self.port}", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError(f"policy server did not start listening on {self.url} within {timeout} s")
        if failure:
            self._thread.join()
            self._thread = None
            error = failure[0]
            if isinstance(error, OSError):
                raise ServerStartError(f"cannot listen on {self.host}:{self.port}: {error}") from error
            raise ServerStartError(f"policy server failed to start: {error!r}") from error
        log.info("policy server listening on %s (layout %s)", self.url, self.policy.layout)
        if self.api_key is None and not is_loopback_host(self.host):
            log.warning(
                "listening on %s without an API key: anyone who can reach port %d can use the policy; "
                "set a key (serve --api-key-file PATH, --api-key-env NAME or $%s) or listen on 127.0.0.1",
                self.url, self.port, API_KEY_ENV,
            )
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Close all connections (code 1001) and stop; waits for in-flight policy calls up to ``timeout``."""
        thread, loop, stopped = self._thread, self._loop, self._stopped
        if thread is None or loop is None or stopped is None:
            return
        if thread.is_alive():
            loop.call_soon_threadsafe(stopped.set)
            thread.join(timeout)
            if thread.is_alive():
                log.warning("policy server thread still busy after %.0f s (a policy call in flight)", timeout)
                return
        self._thread = None

    def __enter__(self) -> PolicyServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self, *, announce: bool = True) -> None:
        """Serve until Ctrl-C (or SIGTERM), then stop cleanly."""
        previous = None
        if threading.current_thread() is threading.main_thread():
            # Treat SIGTERM like Ctrl-C so that `kill` also closes connections cleanly.
            previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            self.start()
            if announce:
                http = self.url.replace("ws://", "http://", 1)
                print(
                    f"serving {type(self.policy).__name__} ({self.policy.layout}) on {self.url} "
                    f"(health: {http}/healthz); Ctrl-C to stop",
                    file=sys.stderr,
                    flush=True,
                )
            while self.running:
                self._thread.join(0.5)  # type: ignore[union-attr]  # short joins keep Ctrl-C responsive
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    # -- event loop thread ---------------------------------------------------------

    def _run_loop(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main(ready, failure))
        except BaseException as exc:  # surfaced by start() if it happens before listening
            failure.append(exc)
            log.exception("policy server event loop crashed")
        finally:
            loop.close()
            ready.set()

    async def _main(self, ready: threading.Event, failure: list[BaseException]) -> None:
        self._stopped = asyncio.Event()
        try:
            server = await serve(
                self._handle,
                self.host,
                self.port,
                process_request=self._process_request,
                compression=None,
                # Checked against each frame header's declared length: an oversized frame
                # is refused (close 1009) before its payload is buffered.
                max_size=self.max_frame_bytes,
            )
        except OSError as exc:
            failure.append(exc)
            ready.set()
            return
        self._server = server
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        await self._stopped.wait()
        server.close()
        await server.wait_closed()

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path.split("?", 1)[0] == HEALTH_PATH:
            return connection.respond(200, "OK")
        if self.api_key is None:
            return None
        scheme, token = parse_auth(request.headers.get(AUTH_HEADER, ""))
        # compare_digest: the time taken must not reveal how much of a guess was right.
        if scheme in _ACCEPTED_SCHEMES and hmac.compare_digest(token.encode(), self.api_key.encode()):
            return None
        log.warning("refused a connection from %s: missing or wrong API key", connection.remote_address)
        response = connection.respond(
            401,
            "missing or wrong API key; send 'Authorization: Api-Key <key>' "
            "or 'Authorization: Bearer <key>'\n",
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="policy"'
        return response

    async def _handle(self, ws: ServerConnection) -> None:
        peer = ws.remote_address
        try:
            await ws.send(self._metadata_frame)
            async for message in ws:
                try:
                    reply = await asyncio.to_thread(self._answer, message)
                except Exception:  # noqa: BLE001 - any policy failure goes back to the client as its traceback
                    tb = traceback.format_exc()
                    log.error("request from %s failed:\n%s", peer, tb)
                    await ws.send(tb)
                    await ws.close(CLOSE_INTERNAL_ERROR, "policy server error; traceback sent as a text frame")
                    return
                await ws.send(reply)
        except ConnectionClosed as exc:
            # The client left (or the server is stopping); nothing to answer.
            if exc.sent is not None and exc.sent.code == CLOSE_MESSAGE_TOO_BIG:
                log.warning(
                    "closed the connection from %s: %s (max_frame_bytes=%s; serve --max-frame-mb raises it)",
                    peer, exc.sent.reason or "message too big", self.max_frame_bytes,
                )

    def _answer(self, message: bytes | str) -> bytes | str:
        """Decode, run the policy, encode: runs on a worker thread."""
        if isinstance(message, str):
            raise InvalidInputError("expected a binary msgpack frame, got a text frame")
        request = unpackb(message)
        session: str | None = None
        if self.dialect == "roboarena" and isinstance(request, dict):
            endpoint = request.get(ENDPOINT_KEY, "infer")
            if endpoint == "reset":
                with self._policy_lock:
                    self.policy.reset()
                    self._session, self._fresh = None, True
                return RESET_REPLY
            if endpoint != "infer":
                raise InvalidInputError(f"unknown {ENDPOINT_KEY!r} {endpoint!r}; valid: 'infer', 'reset'")
            check_roboarena_request(request, self.metadata)
            session = request.get(SESSION_KEY)
        obs, prompt = request_to_observation(request)
        queued = time.perf_counter()
        with self._policy_lock:  # policies need not be thread-safe
            if session is not None and session != self._session:
                if not self._fresh:
                    self.policy.reset()  # a new episode without a reset: forget the last one's state
                self._session = session
            self._fresh = False
            start = time.perf_counter()
            chunk = self.policy.get_actions(obs, prompt)
            end = time.perf_counter()
        if self.dialect != "cosmos3" and chunk.layout != self.policy.layout:
            raise InvalidInputError(f"policy answered {chunk.layout!r} rows, announced {self.policy.layout!r}")
        reply: dict[str, Any] = {
            ("action" if self.dialect == "cosmos3" else "actions"): np.ascontiguousarray(chunk.actions, np.float32),
            TIMING_KEY: {"infer_ms": 1e3 * (end - start), "queue_ms": 1e3 * (start - queued)},
        }
        if self.decode_video and chunk.predicted_video is not None:
            reply[VIDEO_KEY] = np.ascontiguousarray(chunk.predicted_video, dtype=np.uint8)
        return packb(reply)
