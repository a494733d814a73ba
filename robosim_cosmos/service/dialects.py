"""How a :class:`~.server.PolicyServer` answers, in each dialect (:data:`~.protocol.DIALECTS`).

``cosmos3`` (the RoboLab server) announces the policy's layout, chunk size and action width and
replies ``action``; ``openpi`` announces the extra metadata alone (``{}`` by default, as openpi's
DROID servers do: an openpi server sends its policy's metadata dict) and replies ``actions``;
``roboarena`` announces a
RoboArena config, replies ``actions``, answers ``endpoint: "reset"`` with the text
``reset successful`` and resets the policy on a reset or a new ``session_id``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ConfigError, InvalidInputError
from ..policy_api import LAYOUT_WIDTH, ActionChunk, Policy
from .codec import packb, unpackb
from .protocol import ENDPOINT_KEY, RESET_REPLY, ROBOARENA_DEFAULTS, SESSION_KEY, TIMING_KEY, VIDEO_KEY, Dialect
from .request import request_to_observation
from .roboarena import SPACE_OF_LAYOUT, check_roboarena_request, roboarena_metadata

__all__ = ["PolicyAnswerer", "announced_metadata"]


def announced_metadata(
    policy: Policy, dialect: Dialect, extra: Mapping[str, Any] | None, decode_video: bool
) -> dict[str, Any]:
    """The metadata a ``dialect`` server of ``policy`` sends on connect, ``extra`` included
    (ConfigError when ``extra`` contradicts the policy or the dialect cannot serve it)."""
    if dialect != "cosmos3" and policy.layout not in SPACE_OF_LAYOUT:
        article = "an" if dialect == "openpi" else "a"
        raise ConfigError(
            f"{article} {dialect} DROID server answers joint rows ({', '.join(map(repr, SPACE_OF_LAYOUT))}); "
            f"this policy's layout is {policy.layout!r}"
        )
    extra = dict(extra or {})
    if dialect == "openpi":
        arena = sorted(key for key in extra if key in ROBOARENA_DEFAULTS)
        if arena:  # a client would take the server for a RoboArena one, which it does not answer as
            raise ConfigError(
                f"metadata {arena} are RoboArena config keys: an openpi server announcing them would be "
                "taken for a RoboArena server; serve with --dialect roboarena to announce them"
            )
        return extra
    if dialect == "roboarena":
        return roboarena_metadata(policy.layout, extra)
    derived = {
        "layout": policy.layout,
        "embodiment": policy.embodiment,
        "chunk_size": int(policy.chunk_size),
        "action_dim": LAYOUT_WIDTH[policy.layout],
        "decode_video": decode_video,
    }
    clashes = {k: extra[k] for k in derived if k in extra and extra[k] != derived[k]}
    if clashes:
        raise ConfigError(
            f"metadata {clashes} contradicts the policy ({ {k: derived[k] for k in clashes} }); "
            "these keys are filled in from the policy, leave them out"
        )
    return {**extra, **derived}


class PolicyAnswerer:
    """Answers one server's request frames from its policy, as a ``dialect`` server would.

    Thread-safe: policy calls are serialized (policies need not be thread-safe). A bad request
    or a policy failure raises; the server sends the traceback back.
    """

    def __init__(
        self,
        policy: Policy,
        dialect: Dialect,
        metadata: Mapping[str, Any] | None = None,
        decode_video: bool = False,
    ) -> None:
        self.policy = policy
        self.dialect: Dialect = dialect
        self.decode_video = decode_video
        self.metadata = announced_metadata(policy, dialect, metadata, decode_video)
        self.metadata_frame = packb(self.metadata)  # fails early if not serializable
        self._lock = threading.Lock()
        self._session: str | None = None  # the RoboArena session the policy's state belongs to
        self._fresh = True  # the policy's state belongs to no session yet (new, or just reset)

    def answer(self, message: bytes | str) -> bytes | str:
        """Decode one request frame, run the policy, encode the reply."""
        if isinstance(message, str):
            raise InvalidInputError("expected a binary msgpack frame, got a text frame")
        request = unpackb(message)
        session: str | None = None
        if self.dialect == "roboarena" and isinstance(request, dict):
            endpoint = request.get(ENDPOINT_KEY, "infer")
            if endpoint == "reset":
                with self._lock:
                    self.policy.reset()
                    self._session, self._fresh = None, True
                return RESET_REPLY
            if endpoint != "infer":
                raise InvalidInputError(f"unknown {ENDPOINT_KEY!r} {endpoint!r}; valid: 'infer', 'reset'")
            check_roboarena_request(request, self.metadata)
            session = request.get(SESSION_KEY)
        obs, prompt = request_to_observation(request)
        chunk, timing = self._infer(obs, prompt, session)
        return self._reply(chunk, timing)

    def _infer(
        self, obs: dict[str, Any], prompt: str, session: str | None
    ) -> tuple[ActionChunk, dict[str, float]]:
        queued = time.perf_counter()
        with self._lock:
            if session is not None and session != self._session:
                if not self._fresh:
                    self.policy.reset()  # a new episode without a reset: forget the last one's state
                self._session = session
            self._fresh = False
            start = time.perf_counter()
            chunk = self.policy.get_actions(obs, prompt)
            end = time.perf_counter()
        return chunk, {"infer_ms": 1e3 * (end - start), "queue_ms": 1e3 * (start - queued)}

    def _reply(self, chunk: ActionChunk, timing: dict[str, float]) -> bytes:
        if self.dialect != "cosmos3" and chunk.layout != self.policy.layout:
            raise InvalidInputError(f"policy answered {chunk.layout!r} rows, announced {self.policy.layout!r}")
        reply: dict[str, Any] = {
            ("action" if self.dialect == "cosmos3" else "actions"): np.ascontiguousarray(chunk.actions, np.float32),
            TIMING_KEY: timing,
        }
        if self.decode_video and chunk.predicted_video is not None:
            reply[VIDEO_KEY] = np.ascontiguousarray(chunk.predicted_video, dtype=np.uint8)
        return packb(reply)
