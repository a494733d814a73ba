"""Client for a Cosmos 3 policy behind the RoboLab / openpi websocket server.

The server may be cosmos-framework's ``action_policy_server_robolab`` on a GPU box
or our own :class:`robosim_cosmos.service.server.PolicyServer`; both speak the
same protocol (binary msgpack frames, one metadata frame on connect, errors as a
text frame holding the traceback).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ProtocolError
from ..policy_api import LAYOUT_OF_WIDTH, LAYOUT_WIDTH, LAYOUTS, ActionChunk
from .connection import DEFAULT_HOST, DEFAULT_PORT, ConnectionOptions, takes_connection_options
from .images import image_size_option
from .protocol import ACTION_KEYS, DEFAULT_METADATA, TIMING_KEY, VIDEO_KEY
from .request import observation_to_request
from .service_policy import ServicePolicy

__all__ = ["DEFAULT_METADATA", "Cosmos3ServicePolicy", "observation_to_request"]


class Cosmos3ServicePolicy(ServicePolicy):
    """Policy backed by a RoboLab-style websocket policy server (``cosmos3://HOST:PORT``).

    Connects lazily on the first ``get_actions`` (or ``connect()``) and again after
    any dropped connection. ``layout``, ``embodiment`` and ``chunk_size`` hold the
    RoboLab defaults (``joint_pos``, ``droid``, 32) until the server's metadata
    frame arrives; call ``connect()`` to read them before the first request.
    The connection options (API key, timeouts, retries) are :class:`.connection.ConnectionOptions`'s.
    Every failure on the wire raises :class:`ProtocolError`; a reply whose actions do not fit
    the announced layout raises :class:`PolicyError` like any policy's would. Chunks carry the
    server's predicted video when it sends one (``set_return_video(False)`` drops it).
    Images are sent at the env's size; ``exterior_image_size=(180, 320)`` shrinks the two exterior
    views, which with a 360×640 env gives exactly the RoboLab client's sizes (wrist 360×640).
    """

    predicts_video = True

    @takes_connection_options
    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        exterior_image_size: tuple[int, int] | list[int] | None = None,
        **connection: Any,
    ) -> None:
        super().__init__(ConnectionOptions(host, port, **connection))
        self.exterior_image_size = image_size_option(exterior_image_size, "exterior_image_size")
        self._layout_known = False  # False: infer the layout from the reply's width

    def __repr__(self) -> str:
        # Never the api key: reprs end up in logs and summary.json.
        return f"Cosmos3ServicePolicy({self.address!r}, layout={self.layout!r}, chunk_size={self.chunk_size})"

    def reset(self) -> None:
        """Nothing to reset: the protocol is stateless per request."""

    def _apply_metadata(self, meta: dict[str, Any]) -> None:
        """Take the layout, embodiment and chunk size the server announced (ProtocolError if
        they do not fit together; the connection then drops)."""
        layout = meta.get("layout")
        width = meta.get("action_dim")
        for key in ("action_dim", "chunk_size"):
            if key in meta and (isinstance(meta[key], bool) or not isinstance(meta[key], (int, np.integer))):
                raise ProtocolError(
                    f"policy server at {self.address} sent {key}={meta[key]!r}; expected an integer"
                )
        if layout is None and width is not None:
            if int(width) not in LAYOUT_OF_WIDTH:
                raise ProtocolError(
                    f"policy server at {self.address} announced action_dim {width}, which is no known layout; "
                    f"valid: {', '.join(f'{w} ({name})' for w, name in LAYOUT_OF_WIDTH.items())}"
                )
            layout = LAYOUT_OF_WIDTH[int(width)]
        if layout is not None and layout not in LAYOUT_WIDTH:
            raise ProtocolError(
                f"policy server at {self.address} announced layout {layout!r}; valid: {list(LAYOUTS)}"
            )
        if layout is not None and width is not None and int(width) != LAYOUT_WIDTH[layout]:
            raise ProtocolError(
                f"policy server at {self.address} announced layout {layout!r} with action_dim {width}; "
                f"{layout!r} is {LAYOUT_WIDTH[layout]} wide"
            )
        self.metadata = meta
        self._layout_known = layout is not None
        self.layout = layout or DEFAULT_METADATA["layout"]
        self.embodiment = str(meta.get("embodiment", DEFAULT_METADATA["embodiment"]))
        self.chunk_size = int(meta.get("chunk_size", DEFAULT_METADATA["chunk_size"]))

    def _request(self, observation: Mapping[str, Any], instruction: str) -> dict[str, Any]:
        return observation_to_request(observation, instruction, self.exterior_image_size)

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
