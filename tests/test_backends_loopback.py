"""Real backends end to end: `serve` + the cosmos3:// client with the replay policy and the tiny
diffusers pipeline, and closed-loop rollouts driven by each backend (video panels included)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from robosim_cosmos.cli import main
from robosim_cosmos.policies import create_policy
from robosim_cosmos.policies.replay import ReplayPolicy
from robosim_cosmos.rollout import rollout
from robosim_cosmos.rollout.video import no_prediction_panel
from robosim_cosmos.service import PolicyServer, packb, unpackb
from robosim_cosmos.service.client import Cosmos3ServicePolicy

ROOT = Path(__file__).resolve().parents[1]
CHUNK_FILE = ROOT / "examples" / "droid_chunk.json"
REACH = "robosim_cosmos/DroidReach-v0"
IMAGE_KEYS = ("exterior_image_1_left", "exterior_image_2_left", "wrist_image_left")
CHUNK = 4  # tiny pipeline settings that keep one call well under a second on 2 CPU cores
FAST = dict(chunk_size=CHUNK, num_inference_steps=2, guidance_scale=1.0, resolution_tier=256, seed=0)


def droid_observation(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    obs = {key: rng.integers(0, 256, (180, 320, 3), dtype=np.uint8) for key in IMAGE_KEYS}
    obs["joint_position"] = rng.uniform(-1, 1, 7)
    obs["gripper_position"] = np.array([0.5])
    return obs


def robolab_request(prompt: str = "put the marker in the bowl") -> dict:
    """What the RoboLab client puts on the wire: three images, joint and gripper state, prompt."""
    obs = droid_observation(3)
    request = {f"observation/{key}": obs[key] for key in IMAGE_KEYS}
    request["observation/joint_position"] = obs["joint_position"]
    request["observation/gripper_position"] = obs["gripper_position"]
    request["prompt"] = prompt
    return request


@contextmanager
def serving(policy, **kwargs) -> Iterator[PolicyServer]:
    server = PolicyServer(policy, port=0, **kwargs).start()
    try:
        yield server
    finally:
        server.stop()


def right_panel_frames(video: Path, indices: list[int]) -> list[np.ndarray]:
    """The prediction half (top 180 rows, right 320 columns) of some frames of a rollout mp4."""
    import imageio.v2 as imageio

    reader = imageio.get_reader(video)
    try:
        return [reader.get_data(i)[:180, 320:640].astype(np.int16) for i in indices]
    finally:
        reader.close()


def assert_shows_a_prediction(video: Path, indices: list[int]) -> None:
    grey = no_prediction_panel(180, 320).astype(np.int16)
    for panel in right_panel_frames(video, indices):
        assert np.abs(panel - grey).mean() > 8, "right panel is the grey 'no prediction' panel"


# ------------------------------------------------------------------------------------ replay


def test_replay_policy_served_over_loopback_matches_in_process():
    local = ReplayPolicy(CHUNK_FILE)
    with serving(ReplayPolicy(CHUNK_FILE)) as server, Cosmos3ServicePolicy(port=server.port) as client:
        meta = client.connect()
        assert meta["layout"] == "cosmos_ee_delta" and meta["action_dim"] == 10
        assert (client.layout, client.chunk_size, client.embodiment) == ("cosmos_ee_delta", local.chunk_size, "droid")
        for call in range(3):  # the file's chunks in order, cycling, exactly as in-process
            remote = client.get_actions(droid_observation(call), "reach the target")
            expected = local.get_actions({}, "reach the target")
            assert remote.layout == "cosmos_ee_delta" and remote.actions.dtype == np.float32
            np.testing.assert_array_equal(remote.actions, expected.actions)
            assert remote.predicted_video is None


def test_robolab_request_gets_an_action_reply_from_replay():
    from websockets.sync.client import connect

    with (
        serving(ReplayPolicy(CHUNK_FILE)) as server,
        connect(server.url, compression=None, max_size=None, open_timeout=5) as ws,
    ):
        unpackb(ws.recv(timeout=5))
        ws.send(packb(robolab_request()))
        reply = unpackb(ws.recv(timeout=5))
    assert set(reply) == {"action", "server_timing"}
    np.testing.assert_array_equal(reply["action"], ReplayPolicy(CHUNK_FILE).get_actions({}, "x").actions)


@contextmanager
def serve_cli(*args: str, port: int = 0, timeout: float = 120.0) -> Iterator[subprocess.Popen]:
    """``robosim-cosmos serve ...`` in a subprocess; yields it with ``.port`` set to the announced port.

    stderr is drained on a thread (progress bars and logs must never fill the pipe) and
    searched for the "serving ... on ws://HOST:PORT" line.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with subprocess.Popen(
        [sys.executable, "-m", "robosim_cosmos.cli", "serve", "--port", str(port), *args],
        cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
    ) as proc:
        lines: list[str] = []
        announced = threading.Event()

        def drain() -> None:
            for line in proc.stderr:
                lines.append(line)
                if "ws://127.0.0.1:" in line:
                    announced.set()
            announced.set()  # the process exited before announcing: fail now, not at the timeout

        threading.Thread(target=drain, daemon=True).start()
        try:
            announced.wait(timeout)
            found = [text for text in lines if "ws://127.0.0.1:" in text]
            assert found, f"serve did not announce a port (exit code {proc.poll()}):\n{''.join(lines)}"
            line = found[0]
            proc.port = int(line.split("ws://127.0.0.1:")[1].split()[0])
            yield proc
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                assert proc.wait(20) == 0, "".join(lines)
        finally:
            if proc.poll() is None:
                proc.kill()


def test_killed_server_gives_a_clear_error_and_a_later_call_reconnects():
    from robosim_cosmos.errors import ProtocolError

    expected = ReplayPolicy(CHUNK_FILE).get_actions({}, "x").actions
    with serve_cli("--policy", f"replay:{CHUNK_FILE}") as first:
        port = first.port
        client = Cosmos3ServicePolicy(port=port, retries=0, connect_timeout=2)
        np.testing.assert_array_equal(client.get_actions(droid_observation(), "reach").actions, expected)
        first.kill()  # SIGKILL: no close frame, the socket just dies
        first.wait(10)
        with pytest.raises(ProtocolError, match=f"127.0.0.1:{port}") as raised:
            client.get_actions(droid_observation(), "reach")
        assert "reconnect" in str(raised.value) or "could not connect" in str(raised.value)
    with serve_cli("--policy", f"replay:{CHUNK_FILE}", port=port):
        np.testing.assert_array_equal(client.get_actions(droid_observation(), "reach").actions, expected)
    client.close()


def test_serve_cli_replay_drives_a_closed_loop_rollout(tmp_path):
    with serve_cli("--policy", f"replay:{CHUNK_FILE}", "--api-key", "s3cret") as server:
        out = tmp_path / "remote"
        code = main(["rollout", "--env", REACH, "--policy", f"cosmos3://127.0.0.1:{server.port}", "--policy-arg",
                     "api_key=s3cret", "--episodes", "1", "--out", str(out), "--max-steps", "16", "--no-video"])
        assert code == 0
        remote = json.loads((out / "results.jsonl").read_text())
    local = rollout(REACH, f"replay:{CHUNK_FILE}", episodes=1, out=tmp_path / "local", max_steps=16, video=False)
    local_line = local.results[0]
    assert remote["error"] is None and remote["steps"] == 16 and remote["chunks"] == 2
    # The same chunks reach the same env: the physics matches the in-process replay exactly.
    for key in ("ik_error", "tracking_error"):
        assert remote[key] == local_line[key]
    assert remote["success"] == local_line["success"]


# ------------------------------------------------------------------------------------ tiny diffusers


@pytest.fixture(scope="module")
def tiny_policy(tiny_checkpoint):
    from robosim_cosmos.policies.diffusers_policy import DiffusersCosmos3Policy

    return DiffusersCosmos3Policy(tiny_checkpoint, **FAST)


def test_tiny_diffusers_served_over_loopback_matches_in_process(tiny_policy):
    from robosim_cosmos.policies.diffusers_policy import DiffusersCosmos3Policy

    served = DiffusersCosmos3Policy(tiny_policy.pipeline, **FAST)
    local = DiffusersCosmos3Policy(tiny_policy.pipeline, **FAST)
    obs = droid_observation(5)
    with serving(served, decode_video=True) as server, Cosmos3ServicePolicy(port=server.port) as client:
        client.connect()
        assert (client.layout, client.chunk_size) == ("cosmos_ee_delta", CHUNK)
        remote = client.get_actions(obs, "put the marker in the bowl")
    expected = local.get_actions(obs, "put the marker in the bowl")
    assert remote.actions.shape == (CHUNK, 10) and remote.actions.dtype == np.float32
    np.testing.assert_array_equal(remote.actions, expected.actions)
    assert remote.predicted_video is not None and remote.predicted_video.dtype == np.uint8
    assert remote.predicted_video.shape[0] == CHUNK + 1
    np.testing.assert_array_equal(remote.predicted_video, expected.predicted_video)


def test_serve_cli_with_tiny_diffusers_sends_actions_and_video(tiny_checkpoint):
    args = ["--policy", f"diffusers:{tiny_checkpoint}", "--decode-video"]
    for key, value in FAST.items():
        args += ["--policy-arg", f"{key}={value}"]
    with serve_cli(*args) as server, Cosmos3ServicePolicy(port=server.port) as client:
        meta = client.connect()
        assert meta["layout"] == "cosmos_ee_delta" and meta["chunk_size"] == CHUNK and meta["decode_video"] is True
        chunk = client.get_actions(droid_observation(), "put the marker in the bowl")
    assert chunk.actions.shape == (CHUNK, 10) and np.all(np.isfinite(chunk.actions))
    assert chunk.predicted_video.dtype == np.uint8 and chunk.predicted_video.shape[0] == CHUNK + 1
    assert chunk.info["server_timing"]["infer_ms"] > 0


def test_tiny_diffusers_server_without_decode_video_sends_actions_only(tiny_policy):
    from robosim_cosmos.policies.diffusers_policy import DiffusersCosmos3Policy

    served = DiffusersCosmos3Policy(tiny_policy.pipeline, **FAST)
    with serving(served) as server:
        assert served.return_video is False  # the server turns the video decode off
        from websockets.sync.client import connect

        with connect(server.url, compression=None, max_size=None, open_timeout=5) as ws:
            assert unpackb(ws.recv(timeout=5))["decode_video"] is False
            ws.send(packb(robolab_request()))
            reply = unpackb(ws.recv(timeout=30))
    assert set(reply) == {"action", "server_timing"}
    assert reply["action"].shape == (CHUNK, 10) and np.all(np.isfinite(reply["action"]))


def test_rollout_with_tiny_diffusers_shows_its_predicted_video(tiny_checkpoint, tmp_path):
    out = tmp_path / "run"
    args = ["rollout", "--env", REACH, "--policy", f"diffusers:{tiny_checkpoint}", "--episodes", "1",
            "--out", str(out), "--max-steps", "8", "--open-loop-steps", str(CHUNK)]
    for key, value in FAST.items():
        args += ["--policy-arg", f"{key}={value}"]
    assert main(args) == 0
    line = json.loads((out / "results.jsonl").read_text())
    assert line["error"] is None and line["steps"] == 8 and line["chunks"] == 2
    assert line["ik_error"]["position_mm"]["max"] < 1.0  # random but finite chunks, decoded and tracked
    assert line["policy_latency_s"]["mean"] > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["policy_kwargs"]["num_inference_steps"] == 2
    assert_shows_a_prediction(out / line["video"], [0, 3, 5])


def test_rollout_over_cosmos3_shows_the_servers_predicted_video(tiny_policy, tmp_path):
    from robosim_cosmos.policies.diffusers_policy import DiffusersCosmos3Policy

    served = DiffusersCosmos3Policy(tiny_policy.pipeline, **FAST)
    with serving(served, decode_video=True) as server:
        res = rollout(REACH, f"cosmos3://127.0.0.1:{server.port}", episodes=1, out=tmp_path, max_steps=8,
                      open_loop_steps=CHUNK)
    line = res.results[0]
    assert line["error"] is None and line["steps"] == 8 and line["chunks"] == 2
    assert_shows_a_prediction(tmp_path / line["video"], [0, 3, 5])


def test_no_video_rollout_skips_the_pipelines_video_decode(tiny_checkpoint, tmp_path):
    from robosim_cosmos.rollout import RolloutConfig
    from robosim_cosmos.rollout.setup import build

    env, policy = build(RolloutConfig(REACH, f"diffusers:{tiny_checkpoint}", video=False, policy_kwargs=FAST))
    env.close()
    assert policy.return_video is False
    env, policy = build(RolloutConfig(REACH, f"diffusers:{tiny_checkpoint}", video=True, policy_kwargs=FAST))
    env.close()
    assert policy.return_video is True


def test_gym_loop_example_runs_with_the_diffusers_backend(tiny_checkpoint):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    args = [sys.executable, str(ROOT / "examples" / "gym_loop.py"), "--policy", f"diffusers:{tiny_checkpoint}",
            "--steps", "4", "--open-loop-steps", str(CHUNK)]
    for key, value in FAST.items():
        args += ["--policy-arg", f"{key}={value}"]
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "success=" in proc.stdout and "steps=4" in proc.stdout


def test_policy_arg_parsing(tmp_path, capsys):
    from robosim_cosmos.policies.registry import parse_policy_args

    assert parse_policy_args(["num_inference_steps=4", "device=cuda", "seed=null", "guidance_scale=1.5"]) == {
        "num_inference_steps": 4, "device": "cuda", "seed": None, "guidance_scale": 1.5}
    for bad, match in (["steps"], "KEY=VALUE"), (["=4"], "KEY=VALUE"), (["a=1", "a=2"], "twice"):
        with pytest.raises(ValueError, match=match):
            parse_policy_args(bad)
    assert main(["rollout", "--env", REACH, "--policy", f"replay:{CHUNK_FILE}", "--out", str(tmp_path),
                 "--policy-arg", "colour=blue"]) == 2
    assert "colour" in capsys.readouterr().err  # the backend names the unknown keyword


def test_create_policy_reaches_both_backends(tiny_checkpoint):
    policy = create_policy("diffusers", model=tiny_checkpoint, **FAST)
    assert policy.chunk_size == CHUNK and policy.layout == "cosmos_ee_delta"
    client = create_policy("cosmos3", host="127.0.0.1", port=9, api_key="k")
    assert client.address.endswith("127.0.0.1:9")
