"""The command line fails in one line: bad options, a MUJOCO_GL mujoco refuses, a closed pipe, and
decode results that should not be trusted."""

from __future__ import annotations

import ctypes.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from robosim_cosmos.cli import envs as cli_envs
from robosim_cosmos.cli import main
from robosim_cosmos.kinematics.frames import DROID_HOME
from robosim_cosmos.kinematics.normalization import load_stats

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "droid_chunk.json"


def run_cli(*args: str, env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "robosim_cosmos.cli", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120, **kwargs)


def one_line(text: str) -> str:
    assert "Traceback" not in text, text
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


# -- options ----------------------------------------------------------------------------------


@pytest.mark.parametrize("port", ["-1", "70000", "abc", "80.5"])
def test_invalid_port_is_a_one_line_usage_error(capsys: pytest.CaptureFixture[str], port: str) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["serve", "--policy", f"replay:{EXAMPLE}", "--port", port])
    assert raised.value.code == 2
    line = one_line(capsys.readouterr().err)
    assert line == (f"robosim-cosmos serve: error: argument --port: must be an integer 0..65535 (0 picks a free "
                    f"port), got {port!r} (see robosim-cosmos serve --help)")


@pytest.mark.parametrize("value", ["0", "-3", "nan", "inf", "lots"])
def test_invalid_max_frame_mb_is_a_one_line_usage_error(capsys: pytest.CaptureFixture[str], value: str) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["serve", "--policy", f"replay:{EXAMPLE}", "--max-frame-mb", value])
    assert raised.value.code == 2
    assert "argument --max-frame-mb: must be a positive number of MiB" in one_line(capsys.readouterr().err)


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, message in [
        ([], "robosim-cosmos: error: the following arguments are required: command"),
        (["serve", "--policy", "replay:x", "--api-key", "a", "--api-key-env", "B"],
         "argument --api-key-env: not allowed with argument --api-key"),
        (["decode"], "robosim-cosmos decode: error: the following arguments are required: action_file"),
    ]:
        with pytest.raises(SystemExit) as raised:
            main(argv)
        assert raised.value.code == 2
        assert message in one_line(capsys.readouterr().err)


def test_serve_key_sources_fail_in_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROBOSIM_COSMOS_TEST_UNSET", raising=False)
    empty = tmp_path / "empty"
    empty.write_text("\n")
    serve = ["serve", "--policy", f"replay:{EXAMPLE}", "--port", "0"]
    for extra, message in [
        (["--api-key-env", "ROBOSIM_COSMOS_TEST_UNSET"],
         "'ROBOSIM_COSMOS_TEST_UNSET' (named for the API key) is not set"),
        (["--api-key-file", str(tmp_path / "nope")], "API key file"),
        (["--api-key-file", str(empty)], "is empty"),
    ]:
        assert main(serve + extra) == 2
        line = one_line(capsys.readouterr().err)
        assert line.startswith("robosim-cosmos serve: error: ") and message in line


# -- MUJOCO_GL -------------------------------------------------------------------------------

GL_VALUES = ["bogus"] + (["osmesa"] if ctypes.util.find_library("OSMesa") is None else [])


@pytest.mark.parametrize("value", GL_VALUES)
def test_refused_mujoco_gl_only_stops_commands_that_render(tmp_path: Path, value: str) -> None:
    env = {"MUJOCO_GL": value}
    version = run_cli("--version", env=env)
    assert version.returncode == 0 and version.stdout.startswith("robosim-cosmos "), version.stderr
    assert version.stderr == ""
    helped = run_cli("--help", env=env)
    assert helped.returncode == 0 and "decode" in helped.stdout and helped.stderr == ""
    decoded = run_cli("decode", str(EXAMPLE), env=env)  # IK needs mujoco, not OpenGL
    assert decoded.returncode == 0 and len(json.loads(decoded.stdout)["gripper"]) == 16, decoded.stderr

    out = tmp_path / "run"
    rolled = run_cli("rollout", "--env", "robosim_cosmos/DroidReach-v0", "--policy", f"replay:{EXAMPLE}",
                     "--out", str(out), "--max-steps", "8", env=env)
    assert rolled.returncode == 2 and rolled.stdout == ""
    line = one_line(rolled.stderr)
    assert line.startswith(f"robosim-cosmos rollout: error: cannot render camera images: MUJOCO_GL={value!r} ")
    assert "unset MUJOCO_GL" in line and "MUJOCO_GL=egl" in line
    assert not out.exists()


def test_envs_works_with_a_bogus_mujoco_gl() -> None:
    listed = run_cli("envs", env={"MUJOCO_GL": "bogus"})
    assert listed.returncode == 0 and "robosim_cosmos/DroidReach-v0" in listed.stdout, listed.stderr


# -- closed pipes -----------------------------------------------------------------------------


def test_decode_into_a_closed_pipe_ends_quietly() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # The reader is gone before the command writes a byte: EPIPE for certain.
    with subprocess.Popen([sys.executable, "-m", "robosim_cosmos.cli", "decode", str(EXAMPLE)], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read().decode()
        assert proc.wait(120) == 141
    assert err == ""
    # ... and the everyday form of it.
    shell = subprocess.run(["bash", "-c", f"{sys.executable} -m robosim_cosmos.cli decode {EXAMPLE} | head -c 10"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert shell.returncode == 0 and shell.stdout == '{"joint_po'
    for noise in ("Traceback", "Exception ignored", "BrokenPipe"):
        assert noise not in shell.stderr, shell.stderr


def test_a_broken_pipe_that_is_not_stdout_still_propagates(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(args: Any) -> int:
        raise BrokenPipeError(32, "Broken pipe (a socket, say)")

    monkeypatch.setattr(cli_envs, "run", broken)
    with pytest.raises(BrokenPipeError):
        main(["envs"])


# -- decode checks ------------------------------------------------------------------------------

REACH_LIMIT_Q = [0.0, 0.442, 0.0, -0.467, 0.0, 2.665, 0.0]
"""A configuration at the Franka's full reach (cosmos_ee 0.858 m from the shoulder)."""


HOLD = None
"""A row that stays put: raw translation 0 (normalized, that is not 0)."""


def rows(translations: list[tuple[float, float, float] | None]) -> np.ndarray:
    """Normalized droid rows: the given normalized translations (HOLD: none), no rotation, gripper open."""
    raw = np.zeros((len(translations), 10))
    raw[:, 3] = raw[:, 7] = 1.0  # identity rot6d
    normalized = load_stats("droid").normalize(raw)
    for row, translation in zip(normalized, translations, strict=True):
        if translation is not HOLD:
            row[:3] = translation
    return normalized


def write(tmp_path: Path, data: np.ndarray) -> str:
    path = tmp_path / "chunk.json"
    path.write_text(json.dumps(np.asarray(data).tolist()))
    return str(path)


def test_q_init_outside_the_joint_limits_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    q = DROID_HOME.copy()
    q[3] = 0.5  # joint 4 must stay in [-3.0718, -0.0698]
    assert main(["decode", str(EXAMPLE), "--q-init", json.dumps(q.tolist())]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert one_line(captured.err) == ("robosim-cosmos decode: error: --q-init is not a Franka configuration: "
                                      "joint 4 is 0.5000 rad, outside its limits [-3.0718, -0.0698]")
    q[0] = -3.0
    assert main(["decode", str(EXAMPLE), "--q-init", json.dumps(q.tolist())]) == 2
    line = one_line(capsys.readouterr().err)
    assert "joint 1 is -3.0000 rad, outside its limits [-2.8973, 2.8973]; joint 4 is 0.5000 rad" in line


def test_clipped_values_are_counted_on_stderr(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = np.array(json.loads(EXAMPLE.read_text())["data"])
    data[0, 9] = 1.5  # grasp, beyond [-1, 1]
    data[3, 9] = -2.0
    assert main(["decode", write(tmp_path, data)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["normalized_values_clipped"] == 2
    assert one_line(captured.err) == ("robosim-cosmos decode: warning: 2 normalized value(s) lay outside [-1, 1] "
                                      "and were clipped before de-normalizing")


def test_some_steps_not_converging_is_a_warning(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Eight steps holding the start pose, then eight reaching past the arm's full extension.
    chunk = rows([HOLD] * 8 + [(0.0, -1.0, 1.0)] * 8)
    assert main(["decode", write(tmp_path, chunk), "--q-init", json.dumps(REACH_LIMIT_Q)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["ik"]["converged"] == [True] * 8 + [False] * 8
    line = one_line(captured.err)
    assert line.startswith("robosim-cosmos decode: warning: IK did not converge on 8 of 16 steps (first: step 8; "
                           "position error up to ")


def test_no_step_converging_exits_3_and_still_writes_the_json(capsys: pytest.CaptureFixture[str],
                                                             tmp_path: Path) -> None:
    # Every target lies 2 cm or more beyond the farthest point the Franka can reach: no IK can converge.
    chunk = rows([(0.0, -1.0, 1.0)] * 16)
    out = tmp_path / "out.json"
    assert main(["decode", write(tmp_path, chunk), "--q-init", json.dumps(REACH_LIMIT_Q), "--out", str(out)]) == 3
    decoded = json.loads(out.read_text())
    assert decoded["ik"]["converged"] == [False] * 16
    shoulder = np.array([0.0, 0.0, 0.333])
    reach = np.linalg.norm(np.array(decoded["ee_poses"])[:, :3, 3] - shoulder, axis=1)
    assert reach.min() > 0.875  # the sampled maximum over the joint box is 0.858 m
    line = one_line(capsys.readouterr().err)
    assert line.startswith("robosim-cosmos decode: error: IK converged on none of the 16 steps (position error up to ")
    assert line.endswith("the joint targets do not reach the poses")


def test_a_clean_decode_prints_nothing_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", str(EXAMPLE)]) == 0
    assert capsys.readouterr().err == ""
