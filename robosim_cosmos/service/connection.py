"""The client side of a websocket policy server connection, shared by every client.

:class:`ConnectionOptions` says where the server is and how to reach it (address, API key,
timeouts, retries); :class:`PolicyConnection` holds one socket: it connects lazily with retries,
reads the metadata frame sent on connect, exchanges one frame for one answer, and drops the
socket on any failure so that the next call reconnects.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.protocol import State
from websockets.sync.client import ClientConnection, connect

from ..errors import ConfigError, ProtocolError
from .codec import unpackb
from .protocol import AUTH_SCHEMES, SERVE_HINT, AuthScheme, auth_header, resolve_api_key, ws_url

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "ConnectionOptions", "PolicyConnection", "takes_connection_options"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000

# Newer websockets warn unless connect() is used as a context manager (legacy=True
# opts out) and honour proxy environment variables (a policy server is on the LAN:
# never route it through an HTTP proxy). Older releases lack both keywords.
_CONNECT_PARAMS = inspect.signature(connect).parameters
_CONNECT_EXTRA: dict[str, Any] = {}
if "legacy" in _CONNECT_PARAMS:
    _CONNECT_EXTRA["legacy"] = True
if "proxy" in _CONNECT_PARAMS:
    _CONNECT_EXTRA["proxy"] = None


@dataclass(frozen=True)
class ConnectionOptions:
    """Where a policy server listens and how a client talks to it.

    The API key comes from at most one of ``api_key``, ``api_key_env`` (a variable's name) and
    ``api_key_file``, else ``$ROBOSIM_COSMOS_API_KEY`` when set (see :func:`.protocol.resolve_api_key`).
    ``retries``: further connection attempts after the first; ``receive_timeout``: the seconds a
    reply may take.
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    api_key: str | None = field(default=None, repr=False)  # never in reprs: they end up in logs
    api_key_env: str | None = None
    api_key_file: str | None = None
    auth_scheme: AuthScheme = "Api-Key"
    connect_timeout: float = 10.0
    receive_timeout: float = 120.0
    retries: int = 2

    def __post_init__(self) -> None:
        if self.auth_scheme not in AUTH_SCHEMES:
            raise ConfigError(f"auth_scheme {self.auth_scheme!r} is not supported; valid: {list(AUTH_SCHEMES)}")
        if self.retries < 0:
            raise ConfigError(f"retries must be >= 0, got {self.retries}")
        object.__setattr__(self, "port", int(self.port))
        object.__setattr__(self, "connect_timeout", float(self.connect_timeout))
        object.__setattr__(self, "receive_timeout", float(self.receive_timeout))
        object.__setattr__(self, "retries", int(self.retries))

    @property
    def address(self) -> str:
        return ws_url(self.host, self.port)

    def resolve_key(self) -> str | None:
        """The API key to send (None: no authentication); ConfigError when its source is bad."""
        return resolve_api_key(self.api_key, self.api_key_env, self.api_key_file)


_Init = TypeVar("_Init", bound=Callable[..., None])


def takes_connection_options(init: _Init) -> _Init:
    """Mark a client's ``__init__(self, host, port, ..., **connection)``: its signature then names
    every :class:`ConnectionOptions` field in place of ``**connection``, so that ``create_policy``
    (and ``--policy-arg KEY=VALUE``) checks the real option names and lists them."""
    signature = inspect.signature(init)
    own = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    named = {p.name for p in own}
    shared = [
        inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=f.type)
        for f in fields(ConnectionOptions)
        if f.name not in named
    ]
    setattr(init, "__signature__", signature.replace(parameters=[*own, *shared]))  # noqa: B010
    return init


def describe_close(exc: ConnectionClosed) -> str:
    """What a closed connection's close frame said, in words."""
    frame = exc.rcvd or exc.sent
    if frame is None:
        return "no close frame: the server went away"
    reason = f" {frame.reason}" if frame.reason else ""
    return f"close code {frame.code}{reason}"


class PolicyConnection:
    """One websocket to a policy server, opened on first use and again after any drop.

    ``on_metadata`` receives the metadata map sent on connect; whatever it raises drops the
    socket and propagates. Every failure on the wire raises :class:`ProtocolError`. Methods
    are thread-safe; hold ``lock`` (reentrant) to make several calls one step.
    """

    def __init__(self, options: ConnectionOptions, on_metadata: Callable[[dict[str, Any]], None]) -> None:
        self.options = options
        self.api_key = options.resolve_key()
        self.lock = threading.RLock()  # one sync websocket cannot interleave requests
        self._on_metadata = on_metadata
        self._ws: ClientConnection | None = None

    @property
    def address(self) -> str:
        return self.options.address

    @property
    def is_open(self) -> bool:
        return self._ws is not None and self._ws.protocol.state is State.OPEN

    def drop(self) -> None:
        """Close the socket (best effort); the next call reconnects."""
        with self.lock:
            ws, self._ws = self._ws, None
            if ws is not None:
                with contextlib.suppress(Exception):  # already broken; closing is best effort
                    ws.close()

    def open(self) -> ClientConnection:
        """The open socket, connecting (with retries) and reading the metadata frame if needed."""
        with self.lock:
            if self._ws is not None and self.is_open:
                return self._ws
            self.drop()  # closed by the server since the last call: reconnect quietly
            ws = self._connect()
            self._ws = ws
            try:
                self._on_metadata(self._read_metadata(ws))
            except Exception:
                self.drop()
                raise
            return ws

    def _connect(self) -> ClientConnection:
        options = self.options
        headers = auth_header(options.auth_scheme, self.api_key) if self.api_key else None
        last: BaseException | None = None
        attempts = 0
        for attempt in range(options.retries + 1):
            attempts += 1
            if attempt:
                time.sleep(0.25 * 2 ** (attempt - 1))
            try:
                return connect(
                    self.address,
                    compression=None,
                    max_size=None,
                    open_timeout=options.connect_timeout,
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
        reason = f"{type(last).__name__}: {last}" if last is not None else "unknown error"
        raise ProtocolError(
            f"could not connect to the policy server at {self.address} after "
            f"{attempts} attempt(s) ({reason}); {SERVE_HINT}"
        ) from last

    def _read_metadata(self, ws: ClientConnection) -> dict[str, Any]:
        try:
            frame = ws.recv(timeout=self.options.connect_timeout)
        except (TimeoutError, ConnectionClosed, OSError) as exc:
            raise ProtocolError(f"policy server at {self.address} sent no metadata frame: {exc}") from exc
        if isinstance(frame, str):
            raise ProtocolError(f"policy server at {self.address} failed on connect", remote_traceback=frame)
        try:
            meta = unpackb(frame)
        except ValueError as exc:
            raise ProtocolError(f"policy server at {self.address} sent unreadable metadata: {exc}") from exc
        if not isinstance(meta, dict):
            raise ProtocolError(f"policy server metadata must be a map, got {type(meta).__name__}")
        return meta

    def exchange(self, payload: bytes, timeout: float | None = None) -> tuple[bytes | str, float]:
        """Send one frame and wait for the answer (up to ``timeout``, default ``receive_timeout``
        seconds): (frame, seconds taken). Transport failures drop the socket and raise ProtocolError."""
        with self.lock:
            ws = self.open()
            wait = self.options.receive_timeout if timeout is None else timeout
            start = time.perf_counter()
            try:
                ws.send(payload)
                frame = ws.recv(timeout=wait)
            except TimeoutError as exc:
                # A late reply would answer the next request: start over on a new connection.
                self.drop()
                raise ProtocolError(f"policy server at {self.address} sent no reply within {wait:g} s") from exc
            except ConnectionClosed as exc:
                self.drop()
                raise ProtocolError(
                    f"connection to the policy server at {self.address} was lost ({describe_close(exc)}); "
                    "the next call reconnects"
                ) from exc
            except OSError as exc:
                self.drop()
                raise ProtocolError(
                    f"connection to the policy server at {self.address} failed ({exc}); the next call reconnects"
                ) from exc
            return frame, time.perf_counter() - start

    def request(self, payload: bytes) -> tuple[Any, float]:
        """Send one request and decode its reply: (reply, seconds taken). An error frame (the
        server's traceback, then close 1011) or an unreadable reply raises ProtocolError."""
        with self.lock:
            frame, latency = self.exchange(payload)
            if isinstance(frame, str):
                self.drop()  # the server closes with 1011 after an error frame
                last = frame.strip().splitlines()[-1] if frame.strip() else "(empty traceback)"
                raise ProtocolError(f"policy server at {self.address} failed: {last}", remote_traceback=frame)
            try:
                return unpackb(frame), latency
            except ValueError as exc:
                self.drop()
                raise ProtocolError(f"policy server at {self.address} sent an unreadable reply: {exc}") from exc
