"""A safe policy server: a frame limit enforced before buffering, API keys from the environment
or a file, and a warning when it listens beyond loopback without a key."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from robosim_cosmos.errors import ConfigError, InvalidTypeError, ResourceNotFoundError
from robosim_cosmos.policies.replay import ReplayPolicy
from robosim_cosmos.service import PolicyServer, packb, unpackb
from robosim_cosmos.service.protocol import (
    API_KEY_ENV,
    DEFAULT_MAX_FRAME_BYTES,
    is_loopback_host,
    resolve_api_key,
)

ROOT = Path(__file__).resolve().parents[1]
CHUNK_FILE = ROOT / "examples" / "droid_chunk.json"
CAMERAS = ("exterior_image_1_left", "exterior_image_2_left", "wrist_image_left")
MiB = 2**20


def request(height: int = 180, width: int = 320) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    out: dict[str, Any] = {f"observation/{c}": rng.integers(0, 256, (height, width, 3), np.uint8) for c in CAMERAS}
    out["observation/joint_position"] = np.zeros(7)
    out["observation/gripper_position"] = np.array([0.0])
    out["prompt"] = "reach the ball"
    return out


def ask(port: int, payload: dict[str, Any], **headers: str) -> dict[str, Any]:
    """One request on a fresh connection to 127.0.0.1:port; the decoded reply."""
    with connect(f"ws://127.0.0.1:{port}", compression=None, max_size=None, open_timeout=5,
                 additional_headers=headers or None) as ws:
        unpackb(ws.recv(timeout=5))
        ws.send(packb(payload))
        return unpackb(ws.recv(timeout=10))


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident set) of a process, KiB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


@contextmanager
def serve_cli(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen, int, list[str]]]:
    """``robosim-cosmos serve --port 0 ...`` in its own process; yields (process, port, stderr lines so far)."""
    environment = {k: v for k, v in os.environ.items() if k != API_KEY_ENV}
    environment.update(env or {}, PYTHONPATH=str(ROOT))
    with subprocess.Popen(
        [sys.executable, "-m", "robosim_cosmos.cli", "serve", "--policy", f"replay:{CHUNK_FILE}", "--port", "0", *args],
        cwd=ROOT, env=environment, stderr=subprocess.PIPE, text=True,
    ) as proc:
        lines: list[str] = []
        announced = threading.Event()

        def drain() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                lines.append(line)
                if line.startswith("serving "):
                    announced.set()
            announced.set()

        threading.Thread(target=drain, daemon=True).start()
        try:
            announced.wait(60)
            found = [m for line in lines if (m := re.search(r"^serving .* on ws://[^ ]+:(\d+) ", line))]
            assert found, f"serve did not start (exit code {proc.poll()}):\n{''.join(lines)}"
            yield proc, int(found[0].group(1)), lines
            proc.send_signal(signal.SIGINT)
            assert proc.wait(20) == 0, "".join(lines)
        finally:
            if proc.poll() is None:
                proc.kill()


# -- frame limit -------------------------------------------------------------------------------


def test_oversized_frame_is_refused_before_the_server_buffers_it() -> None:
    """A 64 MiB frame against a 4 MiB limit: close 1009, a warning naming the peer, the server's
    peak memory grows by less than the limit, and other clients keep being served."""
    expected = ReplayPolicy(CHUNK_FILE).get_actions({}, "x").actions
    with serve_cli("--max-frame-mb", "4") as (proc, port, lines):
        # Warm up with a normal request so that the baseline includes its buffers.
        np.testing.assert_array_equal(ask(port, request())["action"], expected)
        before = memory_kib(proc.pid)

        huge = bytes(64 * MiB)
        with connect(f"ws://127.0.0.1:{port}", compression=None, max_size=None, open_timeout=5,
                     close_timeout=5) as ws:
            unpackb(ws.recv(timeout=5))
            peer = ws.local_address
            with contextlib.suppress(ConnectionClosed, OSError):
                ws.send(huge)  # the server may hang up while this is still being written
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        after = memory_kib(proc.pid)
        grown_mib = (after["VmHWM"] - before["VmHWM"]) / 1024
        assert grown_mib < 4, f"server peak memory grew by {grown_mib:.1f} MiB for a refused frame"

        # The server goes on: a second, normal client gets a valid reply.
        np.testing.assert_array_equal(ask(port, request())["action"], expected)
        warned = [line for line in lines if "closed the connection from" in line]
        assert warned and f"'127.0.0.1', {peer[1]}" in warned[0], "".join(lines)
        assert "67108864 bytes exceeds limit of 4194304 bytes" in warned[0]
        assert warned[0].startswith("robosim-cosmos serve: warning: ")


def test_default_limit_admits_the_largest_legitimate_request() -> None:
    """Three 360x640 cameras (about 2.1 MB packed) pass the default 16 MiB limit with room to spare."""
    big = request(360, 640)
    size = len(packb(big))
    assert 2.0e6 < size < 2.2e6
    assert DEFAULT_MAX_FRAME_BYTES == 16 * MiB  # noqa: SIM300
    assert 4 * size < DEFAULT_MAX_FRAME_BYTES
    policy = ReplayPolicy(CHUNK_FILE)
    server = PolicyServer(policy, port=0)
    assert server.max_frame_bytes == DEFAULT_MAX_FRAME_BYTES
    with server:
        assert ask(server.port, big)["action"].shape == policy.get_actions({}, "x").actions.shape


def test_small_limit_refuses_in_process_and_keeps_serving(caplog: pytest.LogCaptureFixture) -> None:
    with PolicyServer(ReplayPolicy(CHUNK_FILE), port=0, max_frame_bytes=MiB) as server:
        with connect(server.url, compression=None, max_size=None, open_timeout=5) as ws:
            unpackb(ws.recv(timeout=5))
            with caplog.at_level(logging.WARNING, logger="robosim_cosmos"):
                ws.send(packb(request(360, 640)))  # 2.1 MB > 1 MiB
                with pytest.raises(ConnectionClosed) as closed:
                    ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        assert ask(server.port, request(60, 80))["action"].ndim == 2
    assert any("exceeds limit of 1048576 bytes" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"max_frame_bytes": 0}, ConfigError, "max_frame_bytes must be positive"),
        ({"max_frame_bytes": "16M"}, InvalidTypeError, "max_frame_bytes must be an int"),
        ({"port": 70000}, ConfigError, r"port must be 0\.\.65535"),
        ({"port": -1}, ConfigError, r"port must be 0\.\.65535"),
        ({"port": "8000"}, InvalidTypeError, "port must be an int"),
    ],
)
def test_server_options_are_checked(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        PolicyServer(ReplayPolicy(CHUNK_FILE), **kwargs)


# -- API keys ----------------------------------------------------------------------------------


def test_api_key_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    assert resolve_api_key() is None  # nothing anywhere: no authentication
    monkeypatch.setenv(API_KEY_ENV, "  from-default-env \n")
    assert resolve_api_key() == "from-default-env"  # the default variable, stripped
    monkeypatch.setenv("MY_KEY", "from-named-env")
    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    # Any explicit source beats the default variable.
    assert resolve_api_key("from-value") == "from-value"
    assert resolve_api_key(env="MY_KEY") == "from-named-env"
    assert resolve_api_key(file=key_file) == "from-file"
    monkeypatch.setenv(API_KEY_ENV, "   ")
    assert resolve_api_key() is None  # an empty default variable counts as unset


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"value": "a", "env": "MY_KEY"}, ConfigError, "one way only, got a key and env"),
        ({"env": "ROBOSIM_COSMOS_TEST_UNSET"}, ConfigError, r"'ROBOSIM_COSMOS_TEST_UNSET' .* is not set"),
        ({"env": "EMPTY_KEY"}, ConfigError, r"API key in \$EMPTY_KEY is empty"),
        ({"file": "missing.txt"}, ResourceNotFoundError, "API key file .*missing.txt' not found"),
        ({"file": "empty.txt"}, ConfigError, "API key in file .*empty.txt' is empty"),
        ({"value": " "}, ConfigError, "API key given is empty"),
        ({"value": "two\nlines"}, ConfigError, "printable ASCII on one line"),
    ],
)
def test_api_key_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kwargs: dict[str, str],
                        error: type[Exception], match: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMPTY_KEY", "")
    monkeypatch.delenv("ROBOSIM_COSMOS_TEST_UNSET", raising=False)
    (tmp_path / "empty.txt").write_text(" \n")
    with pytest.raises(error, match=match):
        resolve_api_key(**kwargs)


@pytest.mark.parametrize(
    "host, loopback",
    [("127.0.0.1", True), ("127.3.2.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("LOCALHOST", True), ("::ffff:127.0.0.1", True), ("0.0.0.0", False), ("::", False), ("", False),
     ("192.168.1.20", False), ("gpu-box.lan", False)],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_public_address_without_key_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    policy = ReplayPolicy(CHUNK_FILE)
    for host, api_key, warns in [("0.0.0.0", None, True), ("0.0.0.0", "k", False), ("127.0.0.1", None, False)]:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="robosim_cosmos"), PolicyServer(
            policy, host=host, port=0, api_key=api_key
        ) as server:
            port = server.port
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        if warns:
            assert len(warnings) == 1, warnings
            assert f"listening on ws://0.0.0.0:{port} without an API key" in warnings[0]
            assert f"anyone who can reach port {port} can use the policy" in warnings[0]
            assert "--api-key-file" in warnings[0] and API_KEY_ENV in warnings[0]
        else:
            assert warnings == [], (host, api_key, warnings)


def test_serve_cli_warns_on_a_public_address_and_takes_the_key_from_the_environment(tmp_path: Path) -> None:
    with serve_cli("--host", "0.0.0.0") as (_, port, lines):
        warned = [line for line in lines if "without an API key" in line]
        assert len(warned) == 1 and warned[0].startswith("robosim-cosmos serve: warning: listening on ws://0.0.0.0:")
        assert "anyone who can reach port" in warned[0]
    # The default variable sets the key: no warning, and the key is enforced (talking to loopback only).
    with serve_cli("--host", "0.0.0.0", env={API_KEY_ENV: "s3cret"}) as (_, port, lines):
        assert not [line for line in lines if "warning" in line], lines
        with pytest.raises(InvalidStatus) as refused:
            ask(port, request(60, 80))
        assert refused.value.response.status_code == 401
        assert ask(port, request(60, 80), Authorization="Bearer s3cret")["action"].ndim == 2
    # A key file on the command line wins over the variable.
    key_file = tmp_path / "key.txt"
    key_file.write_text("from-file\n")
    with serve_cli("--api-key-file", str(key_file), env={API_KEY_ENV: "s3cret"}) as (_, port, _lines):
        assert ask(port, request(60, 80), Authorization="Api-Key from-file")["action"].ndim == 2
        with pytest.raises(InvalidStatus):
            ask(port, request(60, 80), Authorization="Api-Key s3cret")
