"""The base of every client Policy: chunks answered by a websocket policy server.

The connection (:mod:`.connection`) is shared; each subclass says what its servers announce
(``_apply_metadata``), what a request holds (``_request``) and what a reply means (``_to_chunk``).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any

from ..policy_api import ActionChunk, Layout, Policy
from .codec import packb
from .connection import ConnectionOptions, PolicyConnection
from .protocol import DEFAULT_METADATA

__all__ = ["ServicePolicy"]


class ServicePolicy(Policy):
    """Policy backed by a remote websocket policy server, reached with ``options``.

    Connects lazily on the first ``get_actions`` (or ``connect()``) and again after any
    dropped connection; every failure on the wire raises :class:`ProtocolError`.
    ``layout``, ``embodiment`` and ``chunk_size`` hold the RoboLab defaults (``joint_pos``,
    ``droid``, 32) until the server's metadata frame says otherwise.
    """

    def __init__(self, options: ConnectionOptions) -> None:
        # Lazy: nothing is sent until the first request (or connect()).
        self.connection = PolicyConnection(options, self._apply_metadata)
        self.metadata: dict[str, Any] = {}
        self.layout: Layout = DEFAULT_METADATA["layout"]
        self.embodiment: str = DEFAULT_METADATA["embodiment"]
        self.chunk_size: int = DEFAULT_METADATA["chunk_size"]

    @property
    def options(self) -> ConnectionOptions:
        return self.connection.options

    @property
    def host(self) -> str:
        return self.options.host

    @property
    def port(self) -> int:
        return self.options.port

    @property
    def api_key(self) -> str | None:
        return self.connection.api_key

    @property
    def address(self) -> str:
        return self.connection.address

    def connect(self) -> dict[str, Any]:
        """Connect now (if not connected) and return the server's metadata."""
        with self.connection.lock:
            self.connection.open()
            return dict(self.metadata)

    def close(self) -> None:
        """Close the connection; a later ``get_actions`` reconnects."""
        self.connection.drop()

    def get_actions(self, observation: Mapping[str, Any], instruction: str) -> ActionChunk:
        """Send one observation, wait for the server's chunk."""
        reply, latency = self.connection.request(packb(self._request(observation, instruction)))
        return self._to_chunk(reply, latency)

    @abc.abstractmethod
    def _apply_metadata(self, meta: dict[str, Any]) -> None:
        """Take what the server announced on connect (raise to refuse it: the connection drops)."""

    @abc.abstractmethod
    def _request(self, observation: Mapping[str, Any], instruction: str) -> dict[str, Any]:
        """The wire request for one observation."""

    @abc.abstractmethod
    def _to_chunk(self, reply: Any, latency: float) -> ActionChunk:
        """The chunk a decoded reply holds (``latency``: seconds the exchange took)."""
