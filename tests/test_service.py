"""The websocket policy service: codec, server and client, over real sockets and threads."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect as ws_connect
from websockets.sync.server import serve as sync_serve

from robosim_cosmos.errors import PolicyError, ProtocolError
from robosim_cosmos.policy_api import ActionChunk, Policy
from robosim_cosmos.service import PolicyServer, packb, request_to_observation, unpackb
from robosim_cosmos.service.client import Cosmos3ServicePolicy, observation_to_request

IMAGE_KEYS = ("exterior_image_1_left", "exterior_image_2_left", "wrist_image_left")
ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------------------
# A deterministic fake policy: every answer is derived from the request, so a client
# can tell its own reply from anybody else's.


class EchoPolicy(Policy):
    """actions[t] = joint_position + t/1000 (7 columns) and the gripper (column 8).

    With layout ``cosmos_ee_delta`` it answers [16, 10] in [-1, 1] and, when
    ``return_video`` is on, a small predicted video.
    """

    embodiment = "droid"
    predicts_video = True

    def __init__(self, layout: str = "joint_pos", fail_on: str | None = None) -> None:
        self.layout = layout
        self.chunk_size = 32 if layout == "joint_pos" else 16
        self.fail_on = fail_on
        self.set_return_video(False)
        self.calls = 0
        self.in_call = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self._busy = threading.Lock()

    def get_actions(self, observation: dict[str, Any], instruction: str) -> ActionChunk:
        # The server promises serialized calls; a second concurrent caller would fail here.
        if not self._busy.acquire(blocking=False):
            raise RuntimeError("policy called concurrently")
        try:
            self.calls += 1
            self.in_call.set()
            self.release.wait(10)
            if self.fail_on is not None and instruction == self.fail_on:
                raise RuntimeError(f"boom: the policy refused {instruction!r}")
            for key in IMAGE_KEYS:
                if key in observation:
                    image = observation[key]
                    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3, key
            q = observation["joint_position"]
            g = observation["gripper_position"]
            assert q.dtype == np.float64 and q.shape == (7,), q
            assert g.shape == (1,), g
            steps = np.arange(self.chunk_size, dtype=np.float64)[:, None] / 1000.0
            if self.layout == "joint_pos":
                actions = np.concatenate([q[None, :] + steps, np.full((self.chunk_size, 1), g[0])], axis=1)
                return ActionChunk(actions, "joint_pos")
            actions = np.tanh(np.concatenate([np.tile(q, 2)[None, :10] + steps], axis=1))
            video = None
            if self.return_video:
                video = np.full((self.chunk_size + 1, 24, 40, 3), int(g[0] * 255), np.uint8)
            return ActionChunk(actions, "cosmos_ee_delta", predicted_video=video)
        finally:
            self._busy.release()

    def reset(self) -> None:
        self.calls = 0


def droid_observation(q: np.ndarray | None = None, gripper: float = 0.25, seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    obs: dict[str, Any] = {
        key: rng.integers(0, 256, (180, 320, 3), dtype=np.uint8) for key in IMAGE_KEYS
    }
    obs["joint_position"] = np.array([0, -np.pi / 5, 0, -4 * np.pi / 5, 0, 3 * np.pi / 5, 0]) if q is None else q
    obs["gripper_position"] = np.array([gripper])
    obs["cartesian_position"] = np.zeros(6)
    return obs


def robolab_request(q: np.ndarray, gripper: float = 0.25, prompt: str = "pick up the cube") -> dict[str, Any]:
    """Exactly what the RoboLab client puts on the wire."""
    rng = np.random.default_rng(1)
    request: dict[str, Any] = {
        f"observation/{key}": rng.integers(0, 256, (180, 320, 3), dtype=np.uint8) for key in IMAGE_KEYS
    }
    request["observation/joint_position"] = np.asarray(q, dtype=np.float64)
    request["observation/gripper_position"] = np.array([gripper], dtype=np.float64)
    request["prompt"] = prompt
    return request


@contextmanager
def serving(policy: Any, **kwargs: Any) -> Iterator[PolicyServer]:
    server = PolicyServer(policy, port=kwargs.pop("port", 0), **kwargs).start()
    try:
        yield server
    finally:
        server.stop()


def raw_client(server: PolicyServer, **kwargs: Any):
    return ws_connect(server.url, compression=None, max_size=None, open_timeout=5, **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def expected_actions(q: np.ndarray, gripper: float, chunk: int = 32) -> np.ndarray:
    steps = np.arange(chunk)[:, None] / 1000.0
    return np.concatenate([q[None, :] + steps, np.full((chunk, 1), gripper)], axis=1).astype(np.float32)


# --------------------------------------------------------------------------------------
# Codec

ARRAY_DTYPES = st.one_of(
    hnp.boolean_dtypes(),
    hnp.integer_dtypes(endianness="?"),
    hnp.unsigned_integer_dtypes(endianness="?"),
    hnp.floating_dtypes(endianness="?"),
    hnp.byte_string_dtypes(endianness="?", max_len=6),
    hnp.unicode_string_dtypes(endianness="?", max_len=6),
    hnp.datetime64_dtypes(endianness="?"),
    hnp.timedelta64_dtypes(endianness="?"),
)
ARRAYS = hnp.arrays(ARRAY_DTYPES, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5))


def assert_same_array(out: Any, ref: np.ndarray) -> None:
    assert isinstance(out, np.ndarray)
    assert out.dtype == ref.dtype and out.shape == ref.shape
    assert out.flags.c_contiguous and out.flags.writeable
    np.testing.assert_array_equal(out, ref)


@settings(deadline=None, max_examples=150)
@given(ARRAYS, st.sampled_from(["plain", "transposed", "strided"]))
def test_codec_round_trips_arrays(array: np.ndarray, view: str) -> None:
    if view == "transposed":
        array = array.T
    elif view == "strided" and array.ndim:
        array = array[::2]
    assert_same_array(unpackb(packb(array)), array)


def _same(out: Any, ref: Any) -> None:
    if isinstance(ref, np.ndarray):
        assert_same_array(out, ref)
    elif isinstance(ref, dict):
        assert isinstance(out, dict) and list(out) == list(ref)
        for key in ref:
            _same(out[key], ref[key])
    elif isinstance(ref, list):
        assert isinstance(out, list) and len(out) == len(ref)
        for a, b in zip(out, ref, strict=True):
            _same(a, b)
    else:
        assert type(out) is type(ref) and out == ref


LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=10),
    st.binary(max_size=10),
    hnp.arrays(hnp.scalar_dtypes().filter(lambda d: d.kind not in "cVO"), hnp.array_shapes(max_dims=2, max_side=3)),
)
NESTED = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(deadline=None, max_examples=150)
@given(NESTED)
def test_codec_round_trips_nested_structures(value: Any) -> None:
    _same(unpackb(packb(value)), value)


@pytest.mark.parametrize(
    "scalar",
    [
        np.int8(-3), np.uint16(7), np.int64(-(2**62)), np.uint64(2**64 - 1),
        np.float16(1.5), np.float32(0.1), np.bool_(True),
    ],
)
def test_codec_round_trips_numpy_scalars(scalar: np.generic) -> None:
    out = unpackb(packb(scalar))
    assert type(out) is type(scalar) and out == scalar


def test_codec_speaks_the_openpi_wire_format() -> None:
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    wire = msgpack.unpackb(packb({"a": array, "s": np.int16(4)}), raw=False)
    assert wire["a"] == {b"__ndarray__": True, b"data": array.tobytes(), b"dtype": "<f4", b"shape": [2, 3]}
    assert wire["s"] == {b"__npgeneric__": True, b"data": 4, b"dtype": "<i2"}
    # ... and reads what an openpi peer (msgpack use_bin_type=True) writes.
    foreign = msgpack.packb(
        {"video": {b"__ndarray__": True, b"data": bytes(range(12)), b"dtype": "|u1", b"shape": (1, 2, 2, 3)}},
        use_bin_type=True,
    )
    decoded = unpackb(foreign)
    assert list(decoded) == ["video"]
    assert_same_array(decoded["video"], np.arange(12, dtype=np.uint8).reshape(1, 2, 2, 3))


@pytest.mark.parametrize(
    "value", [np.zeros(2, np.complex64), np.zeros(2, "V4"), np.array([None, 1], dtype=object), np.complex128(1j)]
)
def test_codec_rejects_unsupported_dtypes(value: Any) -> None:
    with pytest.raises(ValueError, match="cannot send numpy dtype"):
        packb(value)


@pytest.mark.parametrize(
    "payload, match",
    [
        (b"\xc1", "msgpack"),
        (msgpack.packb({b"__ndarray__": True, b"data": b"\0" * 3, b"dtype": "<f4", b"shape": [1]}), "needs 4 bytes"),
        (msgpack.packb({b"__ndarray__": True, b"data": b"", b"dtype": "|O", b"shape": [0]}), "cannot send numpy dtype"),
        (msgpack.packb({b"__ndarray__": True, b"data": b""}), "missing its 'dtype'"),
    ],
)
def test_codec_rejects_malformed_input(payload: bytes, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        unpackb(payload)


# --------------------------------------------------------------------------------------
# Request conversion


def test_request_conversion_matches_the_droid_keys() -> None:
    q = np.arange(7, dtype=np.float32)
    request = robolab_request(np.stack([q - 1, q]))  # a [T, 7] history: last row wins
    request["observation/cartesian_position"] = np.ones(6)
    obs, prompt = request_to_observation(request)
    assert prompt == "pick up the cube"
    assert set(obs) == {*IMAGE_KEYS, "joint_position", "gripper_position", "cartesian_position"}
    assert obs["joint_position"].dtype == np.float64 and np.array_equal(obs["joint_position"], q)
    assert obs["gripper_position"].shape == (1,)

    single = {"observation/image": np.zeros((4, 5, 3), np.uint8), "observation/joint_position": q,
              "observation/gripper_position": 0.5, "prompt": "x"}
    obs, _ = request_to_observation(single)
    assert set(obs) == {"exterior_image_1_left", "joint_position", "gripper_position"}


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda r: r.pop("prompt"), "'prompt'"),
        (lambda r: r.pop("observation/joint_position"), "observation/joint_position"),
        (lambda r: r.update({"observation/joint_position": np.zeros(6)}), r"\[7\] or \[T, 7\]"),
        (lambda r: r.update({"observation/wrist_image_left": np.zeros((4, 4, 3))}), "uint8"),
        (lambda r: r.pop("observation/exterior_image_1_left"), "no image"),
    ],
)
def test_request_conversion_names_what_is_wrong(change: Any, match: str) -> None:
    request = robolab_request(np.zeros(7))
    change(request)
    with pytest.raises(ValueError, match=match):
        request_to_observation(request)


def test_client_request_matches_robolab_and_validates() -> None:
    request = observation_to_request(droid_observation(), "stack")
    assert set(request) == {*(f"observation/{k}" for k in IMAGE_KEYS), "observation/joint_position",
                            "observation/gripper_position", "prompt"}
    assert request["observation/joint_position"].shape == (7,)
    assert request["observation/gripper_position"].shape == (1,)
    broken = droid_observation()
    del broken["wrist_image_left"]
    with pytest.raises(ValueError, match="wrist_image_left"):
        observation_to_request(broken, "stack")
    broken = droid_observation()
    broken["wrist_image_left"] = broken["wrist_image_left"] / 255.0
    with pytest.raises(ValueError, match="uint8"):
        observation_to_request(broken, "stack")


# --------------------------------------------------------------------------------------
# Server and client over real sockets


def test_metadata_frame_is_sent_and_exposed() -> None:
    with serving(EchoPolicy(), metadata={"model": "fake-echo"}) as server:
        assert server.port != 0
        with raw_client(server) as ws:
            meta = unpackb(ws.recv(timeout=5))
        assert meta["layout"] == "joint_pos" and meta["action_dim"] == 8
        assert meta["chunk_size"] == 32 and meta["embodiment"] == "droid" and meta["model"] == "fake-echo"

        client = Cosmos3ServicePolicy(port=server.port)
        assert client.metadata == {}  # lazy: nothing happens before the first call
        assert client.connect() == meta
        assert (client.layout, client.chunk_size, client.embodiment) == ("joint_pos", 32, "droid")
        assert isinstance(client, Policy)
        client.close()

    ee = EchoPolicy("cosmos_ee_delta")
    with serving(ee) as server, Cosmos3ServicePolicy(port=server.port) as client:
        chunk = client.get_actions(droid_observation(), "push")
        assert (client.layout, client.chunk_size, client.metadata["action_dim"]) == ("cosmos_ee_delta", 16, 10)
        assert chunk.layout == "cosmos_ee_delta" and chunk.actions.shape == (16, 10)


def test_metadata_that_contradicts_the_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="contradicts the policy"):
        PolicyServer(EchoPolicy(), metadata={"layout": "cosmos_ee_delta"})


def test_robolab_style_request_gets_an_action_chunk() -> None:
    q = np.linspace(-0.5, 0.5, 7)
    with serving(EchoPolicy()) as server, raw_client(server) as ws:
        unpackb(ws.recv(timeout=5))
        ws.send(packb(robolab_request(q, gripper=0.75)))
        reply = unpackb(ws.recv(timeout=5))
    assert set(reply) == {"action", "server_timing"}
    assert reply["action"].dtype == np.float32 and reply["action"].shape == (32, 8)
    np.testing.assert_array_equal(reply["action"], expected_actions(q, 0.75))
    assert reply["server_timing"]["infer_ms"] >= 0


def test_client_returns_an_action_chunk_with_timing() -> None:
    q = np.full(7, 0.1)
    with serving(EchoPolicy()) as server, Cosmos3ServicePolicy(port=server.port) as client:
        chunk = client.get_actions(droid_observation(q, gripper=1.0), "open the drawer")
    assert chunk.layout == "joint_pos" and chunk.embodiment == "droid"
    np.testing.assert_array_equal(chunk.actions, expected_actions(q, 1.0))
    assert chunk.predicted_video is None
    assert chunk.info["latency_s"] > 0 and "infer_ms" in chunk.info["server_timing"]


@contextmanager
def tiny_server(reply: dict[str, Any], metadata: dict[str, Any]) -> Iterator[int]:
    """A minimal third-party server: fixed metadata, fixed reply."""

    def handler(ws) -> None:
        ws.send(packb(metadata))
        for _ in ws:
            ws.send(packb(reply))

    with sync_serve(handler, "127.0.0.1", 0, compression=None) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server.socket.getsockname()[1]
        finally:
            server.shutdown()
            thread.join(5)


def test_client_accepts_the_actions_key_and_infers_the_layout() -> None:
    with (
        tiny_server({"actions": np.zeros((32, 8), np.float64)}, {}) as port,
        Cosmos3ServicePolicy(port=port) as client,
    ):
        chunk = client.get_actions(droid_observation(), "x")
        assert chunk.layout == "joint_pos" and chunk.actions.dtype == np.float32
        assert chunk.actions.shape == (32, 8) and "server_timing" not in chunk.info
    # No layout in the metadata: a 10-wide reply is a cosmos_ee_delta chunk.
    video = np.zeros((17, 8, 8, 3), np.uint8)
    with (
        tiny_server({"actions": np.zeros((16, 10), np.float32), "video": video}, {}) as port,
        Cosmos3ServicePolicy(port=port) as client,
    ):
        chunk = client.get_actions(droid_observation(), "x")
        assert chunk.layout == "cosmos_ee_delta" and chunk.predicted_video.shape == (17, 8, 8, 3)
    # A reply that contradicts the announced layout is a PolicyError from ActionChunk.
    with (
        tiny_server({"action": np.zeros((16, 10), np.float32)}, {"layout": "joint_pos"}) as port,
        Cosmos3ServicePolicy(port=port) as client,
        pytest.raises(PolicyError, match=r"\[T, 8\]"),
    ):
        client.get_actions(droid_observation(), "x")


def test_healthz_answers_200() -> None:
    with serving(EchoPolicy(), api_key="sekrit") as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b"OK")
        conn.close()


def test_api_key_is_checked_at_the_handshake() -> None:
    with serving(EchoPolicy(), api_key="sekrit") as server:
        for scheme in ("Api-Key", "Bearer"):
            with Cosmos3ServicePolicy(port=server.port, api_key="sekrit", auth_scheme=scheme) as client:
                assert client.get_actions(droid_observation(), "x").actions.shape == (32, 8)
        with pytest.raises(InvalidStatus) as refused:
            raw_client(server, additional_headers={"Authorization": "Api-Key nope"})
        assert refused.value.response.status_code == 401
        with pytest.raises(ProtocolError, match=r"refused the API key \(HTTP 401\)"):
            Cosmos3ServicePolicy(port=server.port, api_key="nope").connect()
        with pytest.raises(ProtocolError, match=r"requires an API key.*HTTP 401"):
            Cosmos3ServicePolicy(port=server.port).connect()


def test_connection_refused_says_how_to_start_a_server() -> None:
    client = Cosmos3ServicePolicy(port=free_port(), retries=1, connect_timeout=2)
    with pytest.raises(ProtocolError, match=r"127\.0\.0\.1:\d+.*is the server running\?.*robosim-cosmos serve"):
        client.get_actions(droid_observation(), "x")


@pytest.mark.parametrize(
    "payload, match",
    [
        (b"\xc1\xc1 not msgpack", "msgpack"),
        (packb({"prompt": "x"}), "no image"),
        (packb({**robolab_request(np.zeros(7)), "observation/joint_position": np.zeros((2, 6))}), r"\[T, 7\]"),
        ("a text frame", "expected a binary msgpack frame"),
    ],
)
def test_malformed_request_closes_only_that_connection(payload: bytes | str, match: str) -> None:
    with serving(EchoPolicy()) as server, raw_client(server) as good, raw_client(server) as bad:
        unpackb(good.recv(timeout=5))
        unpackb(bad.recv(timeout=5))
        bad.send(payload)
        error = bad.recv(timeout=5)
        assert isinstance(error, str) and "Traceback" in error
        assert re.search(match, error)
        with pytest.raises(ConnectionClosed) as closed:
            bad.recv(timeout=5)
        assert closed.value.rcvd.code == 1011
        good.send(packb(robolab_request(np.ones(7))))
        np.testing.assert_array_equal(unpackb(good.recv(timeout=5))["action"], expected_actions(np.ones(7), 0.25))


def test_policy_exception_reaches_the_client_with_its_traceback() -> None:
    with serving(EchoPolicy(fail_on="explode")) as server, Cosmos3ServicePolicy(port=server.port) as client:
        with pytest.raises(ProtocolError, match="boom: the policy refused 'explode'") as raised:
            client.get_actions(droid_observation(), "explode")
        assert "Traceback" in raised.value.remote_traceback
        assert "RuntimeError: boom: the policy refused 'explode'" in raised.value.remote_traceback
        # The next call reconnects on its own.
        assert client.get_actions(droid_observation(), "fine").actions.shape == (32, 8)


def test_receive_timeout_drops_the_late_reply() -> None:
    policy = EchoPolicy()
    with serving(policy) as server, Cosmos3ServicePolicy(port=server.port, receive_timeout=0.3) as client:
        client.connect()
        policy.release.clear()
        with pytest.raises(ProtocolError, match=r"no reply within 0\.3 s"):
            client.get_actions(droid_observation(np.zeros(7)), "slow")
        policy.release.set()
        # The late answer went to the abandoned connection, not into this call.
        q = np.full(7, 0.7)
        np.testing.assert_array_equal(client.get_actions(droid_observation(q), "x").actions, expected_actions(q, 0.25))


def test_server_restart_mid_run_then_client_reconnects() -> None:
    policy = EchoPolicy()
    server = PolicyServer(policy, port=0).start()
    port = server.port
    client = Cosmos3ServicePolicy(port=port, retries=1, connect_timeout=2)
    try:
        assert client.get_actions(droid_observation(), "a").actions.shape == (32, 8)
        # Stop the server while a request is in flight.
        policy.in_call.clear()
        policy.release.clear()
        errors: list[BaseException] = []

        def call() -> None:
            try:
                client.get_actions(droid_observation(), "b")
            except BaseException as exc:
                errors.append(exc)

        caller = threading.Thread(target=call)
        caller.start()
        assert policy.in_call.wait(5)
        stopper = threading.Thread(target=server.stop)
        stopper.start()
        caller.join(10)
        policy.release.set()
        stopper.join(10)
        assert not stopper.is_alive() and not server.running
        assert len(errors) == 1 and isinstance(errors[0], ProtocolError)
        assert f"127.0.0.1:{port}" in str(errors[0]) and "lost" in str(errors[0])
        # While it is down, calls fail clearly.
        with pytest.raises(ProtocolError, match="could not connect"):
            client.get_actions(droid_observation(), "c")
        # Back up on the same port: the next call just works.
        with serving(policy, port=port):
            q = np.full(7, 0.3)
            np.testing.assert_array_equal(
                client.get_actions(droid_observation(q), "d").actions, expected_actions(q, 0.25)
            )
    finally:
        policy.release.set()
        client.close()
        server.stop()


def test_concurrent_clients_each_get_their_own_replies() -> None:
    n_clients, n_requests = 8, 50
    policy = EchoPolicy()
    failures: list[str] = []
    obs_template = droid_observation()

    def run(client_id: int, port: int) -> None:
        try:
            with Cosmos3ServicePolicy(port=port) as client:
                for i in range(n_requests):
                    q = np.full(7, client_id, dtype=np.float64) + np.arange(7) * 0.01 + i * 100
                    gripper = (client_id + 1) / 10
                    obs = {**obs_template, "joint_position": q, "gripper_position": np.array([gripper])}
                    chunk = client.get_actions(obs, f"client {client_id}")
                    if not np.array_equal(chunk.actions, expected_actions(q, gripper)):
                        failures.append(f"client {client_id} request {i} got someone else's reply")
        except Exception as exc:
            failures.append(f"client {client_id}: {exc!r}")

    with serving(policy) as server:
        threads = [threading.Thread(target=run, args=(c, server.port)) for c in range(n_clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert not failures, failures[:5]
    assert policy.calls == n_clients * n_requests


@pytest.mark.parametrize("decode_video", [False, True])
def test_video_is_sent_only_with_decode_video(decode_video: bool) -> None:
    policy = EchoPolicy("cosmos_ee_delta")
    with serving(policy, decode_video=decode_video) as server:
        assert policy.return_video is decode_video
        with Cosmos3ServicePolicy(port=server.port) as client:
            chunk = client.get_actions(droid_observation(gripper=1.0), "x")
            assert client.metadata["decode_video"] is decode_video
    assert chunk.actions.shape == (16, 10)
    if decode_video:
        assert chunk.predicted_video.dtype == np.uint8 and chunk.predicted_video.shape == (17, 24, 40, 3)
        assert (chunk.predicted_video == 255).all()
    else:
        assert chunk.predicted_video is None


def test_port_in_use_is_a_clear_error() -> None:
    with serving(EchoPolicy()) as server, pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{server.port}"):
        PolicyServer(EchoPolicy(), port=server.port).start()


def test_serve_forever_stops_cleanly_on_ctrl_c() -> None:
    code = (
        "import sys; sys.path.insert(0, 'tests'); from test_service import EchoPolicy;"
        "from robosim_cosmos.service import PolicyServer;"
        "PolicyServer(EchoPolicy(), port=0).serve_forever()"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ) as proc:
        try:
            line = proc.stderr.readline()
            assert "ws://127.0.0.1:" in line and "Ctrl-C" in line, line
            port = int(line.split("ws://127.0.0.1:")[1].split()[0])
            with Cosmos3ServicePolicy(port=port) as client:
                assert client.get_actions(droid_observation(), "x").actions.shape == (32, 8)
            proc.send_signal(signal.SIGINT)
            assert proc.wait(10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
