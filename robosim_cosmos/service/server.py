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
the ``openpi://`` client): ``openpi`` or ``roboarena``, see :mod:`.dialects`.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import operator
import signal
import sys
import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from ..errors import ConfigError, InvalidTypeError, ServerStartError
from ..policy_api import LAYOUT_WIDTH, LAYOUTS, Policy
from .dialects import PolicyAnswerer
from .protocol import (
    API_KEY_ENV,
    AUTH_HEADER,
    AUTH_SCHEMES,
    CLOSE_INTERNAL_ERROR,
    CLOSE_MESSAGE_TOO_BIG,
    DEFAULT_MAX_FRAME_BYTES,
    DIALECTS,
    HEALTH_PATH,
    Dialect,
    is_loopback_host,
    parse_auth,
    ws_url,
)

__all__ = ["PolicyServer", "ServerOptions"]

log = logging.getLogger(__name__)

_ACCEPTED_SCHEMES = tuple(s.lower() for s in AUTH_SCHEMES)


@dataclass(frozen=True)
class ServerOptions:
    """Where a :class:`PolicyServer` listens and how it answers, checked.

    ``port=0`` picks a free port; ``api_key`` None: no authentication; ``max_frame_bytes``: the
    largest request frame accepted (None: no limit, only for trusted peers); ``decode_video``:
    ask the policy for its predicted video and send it.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    api_key: str | None = None
    decode_video: bool = False
    max_frame_bytes: int | None = DEFAULT_MAX_FRAME_BYTES
    dialect: Dialect = "cosmos3"

    def __post_init__(self) -> None:
        if self.dialect not in DIALECTS:
            raise ConfigError(f"unknown dialect {self.dialect!r}; valid: {list(DIALECTS)}")
        if self.api_key is not None and not self.api_key:
            raise ConfigError("api_key must be a non-empty string or None (no auth)")
        try:
            port = operator.index(self.port)
        except TypeError:
            raise InvalidTypeError(f"port must be an int, got {type(self.port).__name__}") from None
        if not 0 <= port <= 65535:
            raise ConfigError(f"port must be 0..65535 (0 picks a free port), got {port}")
        limit = self.max_frame_bytes
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int):
                raise InvalidTypeError(f"max_frame_bytes must be an int or None, got {type(limit).__name__}")
            if limit <= 0:
                raise ConfigError(f"max_frame_bytes must be positive (or None: no limit), got {limit}")
        object.__setattr__(self, "port", int(port))
        object.__setattr__(self, "decode_video", bool(self.decode_video))

    def __repr__(self) -> str:
        # Never the api key itself: reprs end up in logs.
        auth = "api_key=<set>" if self.api_key else "api_key=None"
        return (f"ServerOptions({ws_url(self.host, self.port)!r}, {auth}, dialect={self.dialect!r}, "
                f"decode_video={self.decode_video}, max_frame_bytes={self.max_frame_bytes})")


class PolicyServer:
    """Websocket server around one Policy; connections are concurrent, policy calls serialized.

    ``start()`` runs the server on a background thread and returns once it is
    listening (``port=0`` picks a free port; read ``.port``). ``serve_forever()``
    blocks until Ctrl-C. Usable as a context manager.

    The keyword options are :class:`ServerOptions`'s (``max_frame_bytes`` defaults to 16 MiB);
    ``metadata`` adds to what the dialect announces (:mod:`.dialects`). Listening on a
    non-loopback host without ``api_key`` logs a warning: anyone who can reach the port can use
    the policy.
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
        self.options = ServerOptions(host=host, port=port, api_key=api_key, decode_video=decode_video,
                                     max_frame_bytes=max_frame_bytes, dialect=dialect)
        self.policy = policy
        self.port = self.options.port  # the bound port once listening (port=0 picks one)
        self._answerer = PolicyAnswerer(policy, dialect, metadata, self.options.decode_video)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Event | None = None

    @property
    def host(self) -> str:
        return self.options.host

    @property
    def api_key(self) -> str | None:
        return self.options.api_key

    @property
    def decode_video(self) -> bool:
        return self.options.decode_video

    @property
    def max_frame_bytes(self) -> int | None:
        return self.options.max_frame_bytes

    @property
    def dialect(self) -> Dialect:
        return self.options.dialect

    @property
    def metadata(self) -> dict[str, Any]:
        """What the server sends on connect."""
        return self._answerer.metadata

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
            await ws.send(self._answerer.metadata_frame)
            async for message in ws:
                try:
                    reply = await asyncio.to_thread(self._answerer.answer, message)
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
