"""Error branches of the websocket client :class:`Cosmos3ServicePolicy`, against real servers.

Each server is a few lines of ``websockets.asyncio.server`` on 127.0.0.1 (port 0) run in a
background thread by the ``ws_server`` fixture (tests/conftest.py); frames are built with the
project's codec. Every wire failure must surface as :class:`ProtocolError` with a message
that says what went wrong.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import numpy as np
import pytest

from robosim_cosmos.errors import ProtocolError
from robosim_cosmos.observations import CAMERAS
from robosim_cosmos.service.client import Cosmos3ServicePolicy
from robosim_cosmos.service.codec import packb, unpackb

INSTRUCTION = "put the cube in the bowl"
NOT_MSGPACK = b"\xc1\xc1"  # 0xc1 is the one byte msgpack never uses
TRACEBACK = 'Traceback (most recent call last):\n  File "server.py", line 1\nValueError: model exploded\n'


def observation() -> dict[str, np.ndarray]:
    obs: dict[str, np.ndarray] = {cam: np.full((4, 6, 3), i, np.uint8) for i, cam in enumerate(CAMERAS)}
    obs["joint_position"] = np.arange(7, dtype=np.float64) / 10
    obs["gripper_position"] = np.array([0.25])
    return obs


def client(port: int, **kwargs: Any) -> Cosmos3ServicePolicy:
    kwargs.setdefault("connect_timeout", 2.0)
    kwargs.setdefault("receive_timeout", 3.0)
    kwargs.setdefault("retries", 0)
    return Cosmos3ServicePolicy(host="127.0.0.1", port=port, **kwargs)


class Scripted:
    """A server handler: send ``metadata`` (a frame: bytes, str, or None for nothing) on
    connect, then answer the i-th request with ``replies[i]`` (the last one repeats).

    ``connections`` counts accepted connections, ``requests`` holds the decoded requests.
    """

    def __init__(self, metadata: bytes | str | None, *replies: bytes | str) -> None:
        self.metadata = metadata
        self.replies = replies
        self.connections = 0
        self.requests: list[Any] = []

    async def __call__(self, ws) -> None:
        self.connections += 1
        if self.metadata is None:
            await ws.wait_closed()  # say nothing until the client gives up
            return
        await ws.send(self.metadata)
        async for message in ws:
            self.requests.append(unpackb(message))
            if not self.replies:  # never answer: the client's receive timeout fires
                continue
            await ws.send(self.replies[min(len(self.requests), len(self.replies)) - 1])


def url(port: int) -> str:
    return f"ws://127.0.0.1:{port}"


# -- the metadata frame -----------------------------------------------------------------------

def test_no_metadata_frame_within_connect_timeout(ws_server):
    handler = Scripted(None)
    with ws_server(handler) as port:
        policy = client(port, connect_timeout=0.3)
        with pytest.raises(ProtocolError, match=re.escape(f"policy server at {url(port)} sent no metadata frame")):
            policy.connect()
        assert handler.connections == 1
        # The client holds no half-open connection and keeps its defaults.
        assert (policy.layout, policy.chunk_size, policy.metadata) == ("joint_pos", 32, {})


def test_metadata_text_frame_exposes_the_remote_traceback(ws_server):
    with ws_server(Scripted(TRACEBACK)) as port, pytest.raises(ProtocolError) as raised:
        client(port).connect()
    assert str(raised.value) == f"policy server at {url(port)} failed on connect"
    assert raised.value.remote_traceback == TRACEBACK


@pytest.mark.parametrize(
    "frame, message",
    [
        (NOT_MSGPACK, "sent unreadable metadata: not a valid msgpack-numpy message"),
        (packb([1, 2]), "policy server metadata must be a map, got list"),
        (packb("joint_pos"), "policy server metadata must be a map, got str"),
        (packb({"action_dim": "8"}), "sent action_dim='8'; expected an integer"),
        (packb({"action_dim": 8.0}), "sent action_dim=8.0; expected an integer"),
        (packb({"layout": "joint_pos", "chunk_size": 1.5}), "sent chunk_size=1.5; expected an integer"),
        (packb({"chunk_size": None}), "sent chunk_size=None; expected an integer"),
        (packb({"layout": "ee_abs"}),
         "announced layout 'ee_abs'; valid: ['cosmos_ee_delta', 'joint_pos', 'joint_vel']"),
        (packb({"layout": "joint_pos", "action_dim": 10}),
         "announced layout 'joint_pos' with action_dim 10; 'joint_pos' is 8 wide"),
        (packb({"layout": "cosmos_ee_delta", "action_dim": np.int64(8)}),
         "announced layout 'cosmos_ee_delta' with action_dim 8; 'cosmos_ee_delta' is 10 wide"),
        (packb({"action_dim": True}), "sent action_dim=True; expected an integer"),
        (packb({"action_dim": 7}),
         "announced action_dim 7, which is no known layout; valid: 10 (cosmos_ee_delta), 8 (joint_pos)"),
    ],
    ids=["not-msgpack", "list", "str", "dim-str", "dim-float", "chunk-float", "chunk-none", "unknown-layout",
         "joint-pos-10", "ee-delta-8", "dim-bool", "dim-7"],
)
def test_bad_metadata_is_a_protocol_error(ws_server, frame: bytes, message: str):
    handler = Scripted(frame, packb({"actions": np.zeros((2, 8), np.float32)}))
    with ws_server(handler) as port:
        policy = client(port)
        with pytest.raises(ProtocolError, match=re.escape(message)) as raised:
            policy.connect()
        assert raised.value.remote_traceback is None
        # Nothing of the bad frame was applied.
        assert (policy.layout, policy.chunk_size, policy.embodiment, policy.metadata) == ("joint_pos", 32, "droid", {})
        # get_actions connects again (a fresh connection) and fails the same way.
        with pytest.raises(ProtocolError, match=re.escape(message)):
            policy.get_actions(observation(), INSTRUCTION)
        assert handler.connections == 2 and handler.requests == []


def test_good_metadata_is_applied(ws_server):
    meta = {"layout": "cosmos_ee_delta", "action_dim": 10, "chunk_size": np.int32(16), "embodiment": "bridge",
            "model": "m"}
    with ws_server(Scripted(packb(meta))) as port:
        policy = client(port)
        got = policy.connect()
    assert got == {**meta, "chunk_size": 16} and type(got["chunk_size"]) is np.int32
    assert (policy.layout, policy.chunk_size, policy.embodiment) == ("cosmos_ee_delta", 16, "bridge")


# -- the reply --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "reply, message, reconnects",
    [
        (packb([[0.0] * 8]), "policy server reply must be a map, got list", False),
        (packb({"act": np.zeros((2, 8)), "video": b""}), "policy server reply has no 'action' or 'actions'; "
                                                          "keys: ['act', 'video']", False),
        (packb({"actions": np.zeros(8, np.float32)}), "sent actions of shape [8]; expected [T, D]", False),
        (packb({"action": np.zeros((1, 2, 8))}), "sent actions of shape [1, 2, 8]; expected [T, D]", False),
        (packb({"action": 3.0}), "sent actions of shape []; expected [T, D]", False),
        (NOT_MSGPACK, "sent an unreadable reply: not a valid msgpack-numpy message", True),
    ],
    ids=["list", "no-action-key", "1d", "3d", "scalar", "not-msgpack"],
)
def test_bad_reply_is_a_protocol_error(ws_server, reply: bytes, message: str, reconnects: bool):
    good = packb({"actions": np.ones((3, 8), np.float32)})
    handler = Scripted(packb({}), reply, good)
    with ws_server(handler) as port:
        policy = client(port)
        with pytest.raises(ProtocolError, match=re.escape(message)) as raised:
            policy.get_actions(observation(), INSTRUCTION)
        assert raised.value.remote_traceback is None
        # The request arrived intact: the client's side of the wire was fine.
        request = handler.requests[0]
        assert request["prompt"] == INSTRUCTION
        np.testing.assert_array_equal(request["observation/joint_position"], np.arange(7) / 10)
        # The next call works. A well-framed but bad reply keeps the connection (the stream is still
        # in step); an unreadable frame drops it and the next call reconnects.
        chunk = policy.get_actions(observation(), INSTRUCTION)
        np.testing.assert_array_equal(chunk.actions, np.ones((3, 8), np.float32))
        assert handler.connections == (2 if reconnects else 1)
        policy.close()


def test_error_frame_reply_carries_the_traceback(ws_server):
    with ws_server(Scripted(packb({}), TRACEBACK)) as port, pytest.raises(ProtocolError) as raised:
        client(port).get_actions(observation(), INSTRUCTION)
    assert str(raised.value) == f"policy server at {url(port)} failed: ValueError: model exploded"
    assert raised.value.remote_traceback == TRACEBACK


def test_no_reply_within_receive_timeout(ws_server):
    handler = Scripted(packb({}))  # reads requests, never answers
    with ws_server(handler) as port:
        policy = client(port, receive_timeout=0.3)
        with pytest.raises(ProtocolError, match=re.escape(f"policy server at {url(port)} sent no reply within 0.3 s")):
            policy.get_actions(observation(), INSTRUCTION)
        assert len(handler.requests) == 1


def test_server_closing_mid_request_is_a_protocol_error(ws_server):
    async def close_on_request(ws) -> None:
        await ws.send(packb({}))
        await ws.recv()
        await ws.close(1011, "gpu on fire")

    lost = re.escape("was lost (close code 1011 gpu on fire); the next call reconnects")
    with ws_server(close_on_request) as port, pytest.raises(ProtocolError, match=lost):
        client(port).get_actions(observation(), INSTRUCTION)


# -- the handshake ----------------------------------------------------------------------------

def _refuse(status: HTTPStatus, seen: list[str | None]):
    """A ``process_request`` hook answering every handshake with ``status``; ``seen`` collects
    each attempt's Authorization header."""

    def process_request(connection, request):
        seen.append(request.headers.get("Authorization"))
        return connection.respond(status, f"{status.phrase}\n")

    return process_request


def test_http_500_is_retried_then_names_the_attempts(ws_server):
    seen: list[str | None] = []
    server = ws_server(Scripted(packb({})), _refuse(HTTPStatus.INTERNAL_SERVER_ERROR, seen))
    with server as port, pytest.raises(ProtocolError) as raised:
        client(port, retries=2, connect_timeout=2).connect()
    assert len(seen) == 3
    message = str(raised.value)
    assert message.startswith(f"could not connect to the policy server at {url(port)} after 3 attempt(s) (")
    assert "InvalidStatus" in message and "HTTP 500" in message
    assert "is the server running?" in message


@pytest.mark.parametrize("api_key, auth_scheme, message", [
    (None, "Api-Key", "requires an API key (pass api_key=...) (HTTP 403)"),
    ("sekrit", "Api-Key", "refused the API key (HTTP 403)"),
    ("sekrit", "Bearer", "refused the API key (HTTP 403)"),
])
def test_http_403_is_about_the_api_key_and_not_retried(ws_server, api_key, auth_scheme, message):
    seen: list[str | None] = []
    server = ws_server(Scripted(packb({})), _refuse(HTTPStatus.FORBIDDEN, seen))
    with server as port, pytest.raises(ProtocolError) as raised:
        client(port, api_key=api_key, auth_scheme=auth_scheme, retries=3).connect()
    assert str(raised.value) == f"policy server at {url(port)} {message}"
    assert len(seen) == 1  # a refused key does not get better by retrying
    assert seen[0] == (None if api_key is None else f"{auth_scheme} {api_key}")
    assert "sekrit" not in repr(client(port, api_key="sekrit"))


def test_http_404_is_not_retried(ws_server):
    seen: list[str | None] = []
    server = ws_server(Scripted(packb({})), _refuse(HTTPStatus.NOT_FOUND, seen))
    with server as port, pytest.raises(ProtocolError, match=r"HTTP 404"):
        client(port, retries=3).connect()
    assert len(seen) == 1


def test_http_404_message_counts_only_the_attempt_made(ws_server):
    seen: list[str | None] = []
    server = ws_server(Scripted(packb({})), _refuse(HTTPStatus.NOT_FOUND, seen))
    with server as port, pytest.raises(ProtocolError) as raised:
        client(port, retries=3).connect()
    assert len(seen) == 1
    assert "after 4 attempt(s)" not in str(raised.value), f"only 1 attempt was made: {raised.value}"


# -- layout inference and video ---------------------------------------------------------------

@pytest.mark.parametrize("width, layout", [(8, "joint_pos"), (10, "cosmos_ee_delta")])
def test_layout_is_inferred_from_the_reply_width_without_metadata_layout(ws_server, width, layout):
    actions = np.arange(5 * width, dtype=np.float64).reshape(5, width) / 100
    with ws_server(Scripted(packb({"chunk_size": 5}), packb({"actions": actions}))) as port, client(port) as policy:
        assert policy.connect() == {"chunk_size": 5}
        chunk = policy.get_actions(observation(), INSTRUCTION)
        # The announced (default) layout is untouched; each chunk carries the inferred one.
        assert (policy.layout, policy.chunk_size) == ("joint_pos", 5)
    assert chunk.layout == layout and chunk.embodiment == "droid"
    assert chunk.actions.dtype == np.float32 and chunk.actions.shape == (5, width)
    np.testing.assert_array_equal(chunk.actions, actions.astype(np.float32))
    assert chunk.predicted_video is None and chunk.info["server"] == url(port)


def test_action_dim_alone_sets_the_layout(ws_server):
    handler = Scripted(packb({"action_dim": 10}), packb({"action": np.zeros((4, 10))}))
    with ws_server(handler) as port, client(port) as policy:
        policy.connect()
        assert policy.layout == "cosmos_ee_delta"
        assert policy.get_actions(observation(), INSTRUCTION).layout == "cosmos_ee_delta"


def test_set_return_video_false_drops_the_video(ws_server):
    video = np.arange(3 * 2 * 2 * 3, dtype=np.uint8).reshape(3, 2, 2, 3)
    timing = {"infer_ms": 12.5}
    reply = packb({"action": np.ones((2, 10), np.float32), "video": video, "server_timing": timing})
    with ws_server(Scripted(packb({"layout": "cosmos_ee_delta"}), reply)) as port, client(port) as policy:
        assert policy.return_video is True
        with_video = policy.get_actions(observation(), INSTRUCTION)
        policy.set_return_video(False)
        assert policy.return_video is False
        without = policy.get_actions(observation(), INSTRUCTION)
    np.testing.assert_array_equal(with_video.predicted_video, video)
    assert without.predicted_video is None
    np.testing.assert_array_equal(without.actions, np.ones((2, 10), np.float32))
    assert with_video.info["server_timing"] == without.info["server_timing"] == timing


def test_the_api_key_can_come_from_an_environment_variable_or_a_file(ws_server, tmp_path, monkeypatch):
    from robosim_cosmos.errors import ConfigError

    seen: list[str | None] = []

    def check(connection, request):
        seen.append(request.headers.get("Authorization"))

    monkeypatch.delenv("ROBOSIM_COSMOS_API_KEY", raising=False)
    with ws_server(Scripted(packb({"layout": "joint_pos"})), process_request=check) as port:
        monkeypatch.setenv("MY_POLICY_KEY", "from-env")
        Cosmos3ServicePolicy(port=port, api_key_env="MY_POLICY_KEY").connect()
        key_file = tmp_path / "key.txt"
        key_file.write_text("from-file\n")
        Cosmos3ServicePolicy(port=port, api_key_file=str(key_file), auth_scheme="Bearer").connect()
        monkeypatch.setenv("ROBOSIM_COSMOS_API_KEY", "from-default")
        Cosmos3ServicePolicy(port=port).connect()
    assert seen == ["Api-Key from-env", "Bearer from-file", "Api-Key from-default"]
    with pytest.raises(ConfigError, match="one way only"):
        Cosmos3ServicePolicy(port=port, api_key="x", api_key_env="MY_POLICY_KEY")
