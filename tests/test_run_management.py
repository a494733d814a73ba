"""The run folder as a record you can trust: its identity (run.json), resume, --overwrite,
--retry-errors, errors counted apart from failures, secrets kept out, progress output, the
folder lock, and failed starts that leave no folder behind.

Short episodes (``DroidReach-v0``, 16 steps, mostly without video) of the shipped replay chunk,
run through the real CLI (in-process ``main`` or a subprocess where a terminal matters).
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from robosim_cosmos.cli import main
from robosim_cosmos.errors import ConfigError, ProtocolError, RunFolderError
from robosim_cosmos.metrics.success import beta_interval, wilson_interval
from robosim_cosmos.policies.replay import ReplayPolicy
from robosim_cosmos.policy_api import ActionChunk, Layout, Policy
from robosim_cosmos.records.redact import REDACTED, redact_argv
from robosim_cosmos.rollout import RolloutConfig, rollout

REACH = "robosim_cosmos/DroidReach-v0"
STEPS = 16
HINT = ("use another --out (out=) for a new run, or --overwrite (overwrite=True) to delete its results and "
        "start over")


def _args(out: Path, chunk: Path, *extra: str, episodes: int = 2) -> list[str]:
    return ["rollout", "--env", REACH, "--policy", f"replay:{chunk}", "--episodes", str(episodes),
            "--out", str(out), "--max-steps", str(STEPS), "--no-video", *extra]


def _raw_lines(out: Path) -> list[str]:
    return (out / "results.jsonl").read_text().splitlines()


def _lines(out: Path) -> list[dict[str, Any]]:
    return [json.loads(t) for t in _raw_lines(out)]


def _snapshot(out: Path) -> dict[str, bytes]:
    """Every file under the folder (the lock file aside), by relative path."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != ".lock"}


def _one_error_line(err: str) -> str:
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith("robosim-cosmos rollout: error: "), err
    return err[len("robosim-cosmos rollout: error: "):-1]


def _cli_env() -> dict[str, str]:
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("ROBOSIM_COSMOS_DEBUG", None)
    return env


# -- identity, resume, overwrite ----------------------------------------------------------------

def test_other_settings_are_refused_same_settings_resume_and_overwrite_starts_over(
        tmp_path, capsys, monkeypatch, replay_chunk):
    monkeypatch.delenv("ROBOSIM_COSMOS_DEBUG", raising=False)
    out = tmp_path / "run"
    assert main(_args(out, replay_chunk, "--seed", "5")) == 0
    first = capsys.readouterr()
    assert "resuming" not in first.err
    run = json.loads((out / "run.json").read_text())
    assert run["identity"] == {
        "env_id": REACH, "policy": f"replay:{replay_chunk}", "policy_kwargs": {}, "seed": 5, "open_loop_steps": 8,
        "instruction": None, "video": False, "robot": "embedded", "execution": "native", "max_steps": STEPS,
        "steps_after_success": 0, "render_quality": "fast", "instruction_tier": "default", "shard": None,
        "image_size": [180, 320], "camera_rig": "droid", "room": "droid", "stats": None, "version": "0.1.0",
    }
    before = _snapshot(out)
    assert set(before) == {"run.json", "results.jsonl", "summary.json", "eval_info.json"}

    # Another identity (seed and time limit) is refused, naming both fields; not a byte changes.
    assert main(_args(out, replay_chunk, "--seed", "6", "--max-steps", "24", "--episodes", "5")) == 2
    refused = capsys.readouterr()
    assert refused.out == ""
    assert _one_error_line(refused.err) == (
        f"{out} holds another run (seed: 5 in the folder, 6 now; max_steps: 16 in the folder, 24 now); "
        f"run with the folder's settings to resume it, {HINT}"
    )
    assert _snapshot(out) == before

    # The same identity with more episodes (and more workers: not part of it) resumes.
    assert main(_args(out, replay_chunk, "--seed", "5", "--episodes", "4", "--num-envs", "2")) == 0
    resumed = capsys.readouterr()
    assert f"resuming {out}: 2 episodes done, 2 to run\n" in resumed.err
    assert "[3/4] reach ep" in resumed.err and "[4/4] reach ep" in resumed.err
    assert "0/4 successful" in resumed.out
    raw = _raw_lines(out)
    assert raw[:2] == before["results.jsonl"].decode().splitlines()  # earlier lines untouched
    assert sorted((r["episode"], r["seed"]) for r in _lines(out)) == [(0, 5), (1, 6), (2, 7), (3, 8)]
    # the identity, its date and command stay; only the episodes the latest rollout set out to run follow it
    assert json.loads((out / "run.json").read_text()) == {**json.loads(before["run.json"]), "episodes": 4}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["overall"]["episodes"] == 4 and summary["config"]["num_envs"] == 2

    # Nothing left to do: says so, runs nothing.
    assert main(_args(out, replay_chunk, "--seed", "5", "--episodes", "3")) == 0
    assert f"resuming {out}: 4 episodes done, 0 to run\n" in capsys.readouterr().err
    assert len(_raw_lines(out)) == 4

    # --overwrite deletes the folder's run and starts over with the new identity.
    (out / "videos").mkdir()
    (out / "videos" / "reach_ep0_failure.mp4").write_bytes(b"old")
    (out / "notes.txt").write_text("mine")  # not the run's: kept
    assert main(_args(out, replay_chunk, "--seed", "6", "--overwrite")) == 0
    over = capsys.readouterr()
    assert f"overwrite: deleted results.jsonl, summary.json, eval_info.json, run.json, videos/ in {out}\n" in over.err
    assert "resuming" not in over.err
    assert [(r["episode"], r["seed"]) for r in _lines(out)] == [(0, 6), (1, 7)]
    assert json.loads((out / "run.json").read_text())["identity"]["seed"] == 6
    assert not (out / "videos").exists() and (out / "notes.txt").read_text() == "mine"
    assert json.loads((out / "summary.json").read_text())["overall"]["episodes"] == 2


def test_folder_without_run_json_is_adopted_when_its_lines_match(tmp_path, capsys, replay_chunk):
    out = tmp_path / "run"
    assert main(_args(out, replay_chunk, "--quiet")) == 0
    (out / "run.json").unlink()  # as an older version left it
    capsys.readouterr()
    assert main(_args(out, replay_chunk, "--episodes", "3")) == 0
    err = capsys.readouterr().err
    assert f"{out} had no run.json (an older robosim_cosmos wrote it); its episodes match this run" in err
    assert f"resuming {out}: 2 episodes done, 1 to run" in err
    assert json.loads((out / "run.json").read_text())["identity"]["seed"] == 0
    (out / "run.json").unlink()
    with pytest.raises(RunFolderError, match=r"holds episode 0 of robosim_cosmos/DroidReach-v0 with seed 0, "
                                             r"this run would run robosim_cosmos/DroidReach-v0 with seed 4"):
        rollout(REACH, f"replay:{replay_chunk}", episodes=3, seed=4, out=out, max_steps=STEPS, video=False)
    assert not (out / "run.json").exists()


def test_a_run_from_before_instruction_tiers_resumes_as_the_default_tier(tmp_path, capsys, replay_chunk):
    out = tmp_path / "run"
    assert main(_args(out, replay_chunk, "--quiet")) == 0
    # As the previous version wrote it: no instruction_tier in run.json, no progress or events in the lines.
    run = json.loads((out / "run.json").read_text())
    del run["identity"]["instruction_tier"]
    (out / "run.json").write_text(json.dumps(run))
    old = [{k: v for k, v in line.items() if k not in ("instruction_tier", "progress", "events")}
           for line in _lines(out)]
    (out / "results.jsonl").write_text("".join(json.dumps(line) + "\n" for line in old))
    capsys.readouterr()

    assert main(_args(out, replay_chunk, "--episodes", "3")) == 0
    assert f"resuming {out}: 2 episodes done, 1 to run" in capsys.readouterr().err
    lines = _lines(out)
    assert lines[:2] == old and lines[2]["instruction_tier"] == "default"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["overall"]["episodes"] == 3
    assert summary["mean_progress"] == lines[2]["progress"]  # the old lines record none
    assert summary["events"]["table_hit"]["count"] == lines[2]["events"]["table_hit"]

    # Another tier is another run.
    assert main(_args(out, replay_chunk, "--episodes", "3", "--tiers", "vague")) == 2
    assert 'instruction_tier: "default" in the folder, "vague" now' in capsys.readouterr().err


def test_a_run_from_before_camera_rigs_resumes_with_the_sim_evals_poses_it_had(tmp_path, capsys, replay_chunk):
    out = tmp_path / "run"
    assert main(_args(out, replay_chunk, "--quiet", "--camera-rig", "sim-evals")) == 0
    lines = _lines(out)
    assert lines[0]["camera_poses"]["exterior_image_1_left"]["pos"] == [0.05, 0.57, 0.66]
    # As the previous version wrote it: no camera_rig in run.json.
    run = json.loads((out / "run.json").read_text())
    del run["identity"]["camera_rig"]
    (out / "run.json").write_text(json.dumps(run))
    capsys.readouterr()
    assert main(_args(out, replay_chunk, "--episodes", "3", "--camera-rig", "sim-evals")) == 0
    assert f"resuming {out}: 2 episodes done, 1 to run" in capsys.readouterr().err
    # The new default draws its poses: another run.
    assert main(_args(out, replay_chunk, "--episodes", "3")) == 2
    assert 'camera_rig: "sim-evals" in the folder, "droid" now' in capsys.readouterr().err
    with pytest.raises(ConfigError, match="camera_rig"):
        RolloutConfig(env_id=REACH, policy=f"replay:{replay_chunk}", camera_rig="isaac")


def test_a_run_from_before_rooms_resumes_in_the_plain_room_it_had(tmp_path, capsys, replay_chunk):
    out = tmp_path / "run"
    assert main(_args(out, replay_chunk, "--quiet", "--room", "plain")) == 0
    assert _lines(out)[0]["room"] == {"style": "plain"}
    run = json.loads((out / "run.json").read_text())
    del run["identity"]["room"]  # as the previous version wrote it
    (out / "run.json").write_text(json.dumps(run))
    capsys.readouterr()
    assert main(_args(out, replay_chunk, "--episodes", "3", "--room", "plain")) == 0
    assert f"resuming {out}: 2 episodes done, 1 to run" in capsys.readouterr().err
    assert main(_args(out, replay_chunk, "--episodes", "3")) == 2  # the drawn rooms are another run
    assert 'room: "plain" in the folder, "droid" now' in capsys.readouterr().err


# -- errors apart from failures, --retry-errors -------------------------------------------------

def test_retry_errors_reruns_exactly_the_errored_episodes_and_replaces_their_lines(
        tmp_path, capsys, monkeypatch, replay_chunk):
    out = tmp_path / "run"
    resets: list[int] = []
    original_reset = ReplayPolicy.reset

    def flaky_reset(self: ReplayPolicy) -> None:  # episodes 1 and 3 lose the connection
        resets.append(len(resets))
        if len(resets) - 1 in (1, 3):
            raise ProtocolError("connection dropped")
        original_reset(self)

    monkeypatch.setattr(ReplayPolicy, "reset", flaky_reset)
    assert main(_args(out, replay_chunk, "--episodes", "5", "--seed", "10")) == 4  # some episodes errored
    captured = capsys.readouterr()
    assert "[2/5] reach ep1 seed 11: ERROR: ProtocolError: connection dropped\n" in captured.err
    assert "[3/5] reach ep2 seed 12: failure in 16 steps (" in captured.err
    assert "0/3 successful (rate 0.000, 95% CI Wilson [0.000, 0.561], Beta [0.006, 0.602], 2 errors)" in captured.out
    overall = json.loads((out / "summary.json").read_text())["overall"]
    lo, hi = wilson_interval(0, 3)
    assert overall == {"episodes": 5, "completed": 3, "successes": 0, "errors": 2, "success_rate": 0.0,
                       "clipped_values": 0, "speed_limited_steps": 0, "action_space_mismatches": 0, "ci95": [lo, hi],
                       "ci95_beta": list(beta_interval(0, 3))}
    before = _raw_lines(out)
    assert [(r["episode"], r["error"]) for r in _lines(out)] == [
        (0, None), (1, "ProtocolError: connection dropped"), (2, None),
        (3, "ProtocolError: connection dropped"), (4, None)]

    # Without --retry-errors a resume keeps them and says how to run them again.
    monkeypatch.setattr(ReplayPolicy, "reset", original_reset)
    assert main(_args(out, replay_chunk, "--episodes", "5", "--seed", "10")) == 4  # still recorded as errored
    assert (f"resuming {out}: 5 episodes done, 0 to run; kept 2 errored episodes (a line with an error; "
            "--retry-errors runs them again)\n") in capsys.readouterr().err
    assert _raw_lines(out) == before

    # With it: exactly episodes 1 and 3 run again (same seeds), their lines replaced in place.
    ran: list[int] = []
    monkeypatch.setattr(ReplayPolicy, "reset", lambda self: (ran.append(1), original_reset(self)))
    assert main(_args(out, replay_chunk, "--episodes", "5", "--seed", "10", "--retry-errors")) == 0
    captured = capsys.readouterr()
    assert f"resuming {out}: 5 episodes done, 2 to run (2 errored to run again, 0 new)\n" in captured.err
    assert len(ran) == 2
    after = _raw_lines(out)
    assert [after[i] for i in (0, 2, 4)] == [before[i] for i in (0, 2, 4)]
    retried = [json.loads(after[i]) for i in (1, 3)]
    assert [(r["episode"], r["seed"], r["error"], r["steps"]) for r in retried] == [(1, 11, None, 16),
                                                                                    (3, 13, None, 16)]
    assert not (out / "results.jsonl.tmp").exists()
    assert json.loads((out / "summary.json").read_text())["overall"]["errors"] == 0
    assert "0/5 successful (rate 0.000" in captured.out


class _FailsInEpisodes(Policy):
    """Raises ProtocolError in the listed episodes (counted by its own resets, from 0)."""

    layout: Layout = "cosmos_ee_delta"
    chunk_size = 8
    needs_images = False

    def __init__(self, fail_episodes: set[int]) -> None:
        self.fail_episodes = fail_episodes
        self.episode = -1
        self.episodes_run: list[int] = []

    def reset(self) -> None:
        self.episode += 1

    def get_actions(self, observation: Mapping[str, Any], instruction: str) -> ActionChunk:
        if self.episode in self.fail_episodes:
            raise ProtocolError("server went away")
        if not self.episodes_run or self.episodes_run[-1] != self.episode:
            self.episodes_run.append(self.episode)
        actions = np.zeros((8, 10), np.float32)
        actions[:, 3] = actions[:, 7] = 1.0
        return ActionChunk(actions, self.layout)


def test_retry_errors_from_python_with_a_policy_object(tmp_path):
    out = tmp_path / "run"
    kw: dict[str, Any] = dict(episodes=4, seed=0, out=out, max_steps=STEPS, video=False, progress=False)
    first = rollout(REACH, _FailsInEpisodes({0, 2}), **kw)
    assert [(r["episode"], r["error"]) for r in first.results] == [
        (0, "ProtocolError: server went away"), (1, None), (2, "ProtocolError: server went away"), (3, None)]
    assert first.summary["overall"]["completed"] == 2 and first.summary["overall"]["errors"] == 2
    # No memory address anywhere: the class names the object (its default repr is left out).
    assert first.summary["policy"] == {"spec": "<object _FailsInEpisodes>", "args": {},
                                       "class": f"{__name__}._FailsInEpisodes"}
    again = _FailsInEpisodes(set())
    second = rollout(REACH, again, retry_errors=True, **kw)
    assert again.episodes_run == [0, 1]  # the policy saw two episodes: the runner's 0 and 2
    assert [(r["episode"], r["seed"], r["error"]) for r in second.results] == [
        (0, 0, None), (1, 1, None), (2, 2, None), (3, 3, None)]
    assert [second.results[i] for i in (1, 3)] == [first.results[i] for i in (1, 3)]  # not run again
    assert second.summary["overall"]["completed"] == 4
    assert second.summary["config"]["retry_errors"] is True


# -- failed starts leave nothing behind -----------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("case", ["bad-replay-file", "bad-replay-file-workers", "unknown-policy-arg", "bad-robot",
                                  "dead-server", "negative-seed"])
def test_a_failed_start_leaves_no_folder(tmp_path, capsys, monkeypatch, replay_chunk, case):
    monkeypatch.delenv("ROBOSIM_COSMOS_DEBUG", raising=False)
    bad = tmp_path / "bad.json"
    bad.write_text('{"action_chunks": [[[0.1, 0.2, 0.3]]]}')  # rows 3 wide
    out = tmp_path / "deep" / "run"
    chunk_args = ["--policy", f"replay:{replay_chunk}"]
    extra, expected = {
        "bad-replay-file": (["--policy", f"replay:{bad}"], f"{bad}: rows are 3 wide; a replay file needs 10"),
        "bad-replay-file-workers": (["--policy", f"replay:{bad}", "--num-envs", "2", "--episodes", "3"],
                                    f"{bad}: rows are 3 wide; a replay file needs 10"),
        "unknown-policy-arg": ([*chunk_args, "--policy-arg", "speed=2"],
                               "ReplayPolicy: got an unexpected keyword argument 'speed'; its options: path, layout"),
        "bad-robot": ([*chunk_args, "--robot", str(tmp_path / "nope.xml")], f"robot path {tmp_path / 'nope.xml'} "
                                                                             "does not exist"),
        "dead-server": (["--policy", f"cosmos3://127.0.0.1:{_free_port()}", "--policy-arg", "retries=0",
                         "--policy-arg", "connect_timeout=1"], "could not connect to the policy server at ws://"),
        "negative-seed": ([*chunk_args, "--seed", "-1"], "seed must be >= 0 (episode i uses seed + i; gymnasium "
                                                         "rejects negative seeds), got -1"),
    }[case]
    args = ["rollout", "--env", REACH, "--out", str(out), "--max-steps", str(STEPS), "--no-video", *extra]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert _one_error_line(captured.err).startswith(expected)
    assert not (tmp_path / "deep").exists()


def test_a_failed_start_into_an_existing_run_changes_nothing(tmp_path, capsys, monkeypatch, replay_chunk):
    monkeypatch.delenv("ROBOSIM_COSMOS_DEBUG", raising=False)
    out = tmp_path / "run"
    chunk = tmp_path / "chunk.json"
    chunk.write_bytes(replay_chunk.read_bytes())
    assert main(_args(out, chunk, "--quiet")) == 0
    before = _snapshot(out)
    # The same identity (the spec names the path), but the file no longer loads: nothing runs.
    chunk.write_text("not json")
    assert main(_args(out, chunk, "--episodes", "4")) == 2
    assert _one_error_line(capsys.readouterr().err).startswith(f"{chunk}")
    assert main(_args(out, chunk, "--episodes", "4", "--overwrite")) == 2
    capsys.readouterr()
    assert _snapshot(out) == before  # --overwrite deletes only once the run can start


def test_out_naming_a_file_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, replay_chunk):
    monkeypatch.delenv("ROBOSIM_COSMOS_DEBUG", raising=False)
    target = tmp_path / "results.txt"
    target.write_text("keep me")
    assert main(_args(target, replay_chunk)) == 2
    captured = capsys.readouterr()
    assert _one_error_line(captured.err) == f"--out {target} is a file; name a folder (it is created when missing)"
    assert captured.out == "" and target.read_text() == "keep me"
    with pytest.raises(RunFolderError):
        rollout(REACH, f"replay:{replay_chunk}", out=target, progress=False)


# -- secrets --------------------------------------------------------------------------------------

def test_api_key_is_in_no_file_and_no_output(tmp_path, capsys, monkeypatch, replay_chunk):
    from robosim_cosmos.service import PolicyServer

    secret = "SEKRIT123"
    server = PolicyServer(ReplayPolicy(replay_chunk), port=0, api_key=secret).start()
    try:
        out = tmp_path / "run"
        spec = f"cosmos3://127.0.0.1:{server.port}"
        argv = ["rollout", "--env", REACH, "--policy", spec, "--policy-arg", f"api_key={secret}",
                "--policy-arg", "retries=0", "--out", str(out), "--max-steps", "8"]
        monkeypatch.setattr(sys, "argv", ["robosim-cosmos", *argv])  # summary.json records the command line
        assert main([*argv, "--episodes", "2"]) == 0
    finally:
        server.stop()
    # A later run whose server is gone: its error line must not carry the key either.
    assert main([*argv, "--episodes", "3"]) == 2
    captured = capsys.readouterr()
    assert "0/2 successful" in captured.out
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"run.json", "results.jsonl", "summary.json", "reach_ep0_failure.mp4"}
    for path in files:
        assert secret.encode() not in path.read_bytes(), path
    assert secret not in captured.out and secret not in captured.err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["policy_kwargs"] == {"api_key": REDACTED, "retries": 0}
    assert summary["policy"]["args"] == {"api_key": REDACTED, "retries": 0}
    assert summary["policy"]["class"] == "robosim_cosmos.service.client.Cosmos3ServicePolicy"
    assert summary["command"][summary["command"].index("--policy-arg") + 1] == f"api_key={REDACTED}"
    run = json.loads((out / "run.json").read_text())
    assert run["identity"]["policy_kwargs"] == {"api_key": REDACTED, "retries": 0}


def test_redaction_of_config_and_command_lines():
    cfg = RolloutConfig(REACH, "cosmos3://h:1", policy_kwargs={"api_key": "k1234", "Auth_Token": "t5678",
                                                                "nested": {"password": "p999"}, "steps": 4})
    redacted = {"api_key": REDACTED, "Auth_Token": REDACTED, "nested": {"password": REDACTED}, "steps": 4}
    assert cfg.to_json()["policy_kwargs"] == redacted
    assert cfg.redacted().policy_kwargs == redacted and cfg.policy_kwargs["api_key"] == "k1234"
    assert cfg.identity()["policy_kwargs"] == redacted
    argv = ["x", "--policy-arg", "api_key=k1234", "--policy-arg=token=abc", "--policy-arg", "steps=4",
            "--api-key", "k1234", "--api-key=k1234", "--note", "uses k1234 inline"]
    assert redact_argv(argv, ["k1234"]) == [
        "x", "--policy-arg", "api_key=***", "--policy-arg=token=***", "--policy-arg", "steps=4",
        "--api-key", "***", "--api-key=***", "--note", "uses *** inline"]


# -- progress -------------------------------------------------------------------------------------

def _run_cli(args: list[str], tty: bool) -> tuple[int, str, str]:
    """Run the CLI in a subprocess, stderr on a pseudo-terminal (80 columns) or a pipe."""
    cmd = [sys.executable, "-m", "robosim_cosmos.cli", *args]
    if not tty:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=_cli_env(), timeout=60)
        return proc.returncode, proc.stdout, proc.stderr
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    proc_ = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=slave, env=_cli_env())
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer has closed the terminal
                data = b""
            if not data:
                break
            chunks.append(data)
        elif proc_.poll() is not None:
            break
    os.close(master)
    stdout = proc_.stdout.read().decode() if proc_.stdout else ""
    return proc_.wait(10), stdout, b"".join(chunks).decode().replace("\r\n", "\n")


@pytest.mark.parametrize("tty", [True, False], ids=["terminal", "pipe"])
def test_progress_bar_on_a_terminal_only_episode_lines_always_quiet_silences_both(tmp_path, replay_chunk, tty):
    code, out, err = _run_cli(_args(tmp_path / "run", replay_chunk, episodes=3), tty)
    assert code == 0 and "0/3 successful" in out
    for i in range(3):
        assert f"[{i + 1}/3] reach ep{i} seed {i}: failure in 16 steps (" in err
    bar = "DroidReach-v0: 100%|" in err and "3/3 [" in err and "ep/s" in err
    assert bar is tty, err
    code, out, err = _run_cli(_args(tmp_path / "run", replay_chunk, "--quiet", episodes=4), tty)
    assert code == 0 and "0/4 successful" in out
    assert err == ""


# -- the folder lock ------------------------------------------------------------------------------

_HOLD_LOCK = """
import sys, time
from pathlib import Path
from robosim_cosmos.records.folder import RunLock
Path(sys.argv[1]).mkdir(parents=True, exist_ok=True)
lock = RunLock(Path(sys.argv[1]))
lock.acquire()
print("locked", flush=True)
time.sleep(120)
"""


def test_a_second_run_into_a_locked_folder_is_refused_and_a_dead_holders_lock_is_taken_over(
        tmp_path, capsys, monkeypatch, replay_chunk):
    monkeypatch.delenv("ROBOSIM_COSMOS_DEBUG", raising=False)
    out = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(out)], stdout=subprocess.PIPE, text=True,
                              env=_cli_env())
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        t0 = time.monotonic()
        assert main(_args(out, replay_chunk)) == 2
        assert time.monotonic() - t0 < 5  # refused at once, not after waiting
        message = _one_error_line(capsys.readouterr().err)
        assert message.startswith(f"{out} is in use by another rollout (pid {holder.pid} on {socket.gethostname()}, "
                                  "started ")
        assert message.endswith("); wait for it to finish or stop it, or use another --out")
        assert sorted(p.name for p in out.iterdir()) == [".lock"]
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    # The holder died without unlocking: its lock file is left, the kernel lock is not.
    assert json.loads((out / ".lock").read_text())["pid"] == holder.pid
    assert main(_args(out, replay_chunk)) == 0
    assert len(_lines(out)) == 2
    assert json.loads((out / ".lock").read_text())["pid"] == os.getpid()
