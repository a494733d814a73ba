"""create_policy specs, the replay policy, Wilson intervals, CLI input errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import robosim_cosmos
from robosim_cosmos.cli import main
from robosim_cosmos.metrics.success import success_summary, wilson_interval
from robosim_cosmos.policies import ActionChunk, Policy, create_policy

ROOT = Path(__file__).resolve().parent.parent
CHUNK = ROOT / "examples" / "droid_chunk.json"


def _write(path: Path, doc) -> Path:
    path.write_text(json.dumps(doc))
    return path


def test_replay_from_example_file_cycles_and_resets(tmp_path):
    rows = np.asarray(json.loads(CHUNK.read_text())["data"], dtype=np.float32)
    second = np.clip(rows * 0.5, -1, 1)
    path = _write(tmp_path / "two.json", {"action_chunks": [rows.tolist(), second.tolist()]})
    policy = create_policy(f"replay:{path}")
    assert isinstance(policy, Policy)
    assert policy.layout == "cosmos_ee_delta" and policy.chunk_size == 16 and policy.needs_images is False
    got = [policy.get_actions({}, "x").actions for _ in range(3)]
    fourth = policy.get_actions({}, "x")  # calls 0, 1, 0 done: the fourth is the file's second chunk
    assert isinstance(fourth, ActionChunk) and fourth.info["chunk_index"] == 1 and fourth.embodiment == "droid"
    np.testing.assert_allclose(fourth.actions, second, atol=1e-6)
    np.testing.assert_allclose(got[0], rows, atol=1e-6)
    np.testing.assert_allclose(got[1], second, atol=1e-6)
    np.testing.assert_allclose(got[2], rows, atol=1e-6)  # cycles
    policy.reset()
    np.testing.assert_allclose(policy.get_actions({}, "x").actions, rows, atol=1e-6)


def test_replay_layout_from_width_and_key(tmp_path):
    joint = _write(tmp_path / "j.json", [[0.0] * 8] * 4)
    assert create_policy(f"replay:{joint}").layout == "joint_pos"
    keyed = _write(tmp_path / "k.json", {"layout": "joint_pos", "data": [[0.0] * 8]})
    assert create_policy(f"replay:{keyed}").layout == "joint_pos"
    bad_key = _write(tmp_path / "b.json", {"layout": "cosmos_ee_delta", "data": [[0.0] * 8]})
    with pytest.raises(ValueError, match="needs 10 columns"):
        create_policy(f"replay:{bad_key}")


def test_action_files_take_every_layout_and_replay_takes_a_layout_argument(tmp_path):
    from robosim_cosmos.action_files import load_action_file

    velocities = _write(tmp_path / "v.json", {"layout": "joint_vel", "data": [[0.5] * 7 + [1.0]] * 3})
    assert load_action_file(velocities).layout == "joint_vel"
    policy = create_policy(f"replay:{velocities}")
    assert policy.layout == "joint_vel" and policy.get_actions({}, "x").layout == "joint_vel"
    bare = _write(tmp_path / "bare.json", [[0.5] * 7 + [1.0]] * 3)
    assert create_policy(f"replay:{bare}").layout == "joint_pos"  # a bare width never means velocities
    assert create_policy(f"replay:{bare}", layout="joint_vel").layout == "joint_vel"
    unknown = _write(tmp_path / "u.json", {"layout": "joint_velocity", "data": [[0.0] * 8]})
    with pytest.raises(ValueError, match=r"unknown layout 'joint_velocity'; valid: cosmos_ee_delta, joint_pos, "
                                         r"joint_vel"):
        load_action_file(unknown)
    with pytest.raises(ValueError, match="layout 'joint_vel' needs 8 columns, rows are 10 wide"):
        create_policy(f"replay:{CHUNK}", layout="joint_vel")


def test_the_joint_example_files_are_plausible_droid_chunks():
    from robosim_cosmos.action_files import load_action_file
    from robosim_cosmos.kinematics.frames import DROID_HOME, JOINT_LIMITS

    positions = load_action_file(ROOT / "examples" / "droid_joint_positions.json")
    velocities = load_action_file(ROOT / "examples" / "droid_joint_velocities.json")
    assert (positions.layout, velocities.layout) == ("joint_pos", "joint_vel")
    for actions in (positions, velocities):
        (rows,) = actions.chunks
        assert rows.shape == (16, 8) and set(np.unique(rows[:, 7])) == {0.0, 1.0}
    q = positions.chunks[0][:, :7]
    assert np.all(q >= JOINT_LIMITS[:, 0]) and np.all(q <= JOINT_LIMITS[:, 1])
    np.testing.assert_allclose(q[0], DROID_HOME, atol=1e-6)  # it starts where every episode does
    assert np.max(np.abs(np.diff(q, axis=0))) < 0.05  # a smooth path: under 0.05 rad per 15 Hz step
    v = velocities.chunks[0][:, :7]
    assert np.max(np.abs(v)) <= 1.0 and np.max(np.abs(v)) > 0.5


def test_replay_wrong_width_is_a_clear_error(tmp_path):
    path = _write(tmp_path / "seven.json", [[0.0] * 7] * 3)
    with pytest.raises(ValueError, match=r"7 wide.*10.*8"):
        create_policy(f"replay:{path}")
    with pytest.raises(FileNotFoundError):
        create_policy(f"replay:{tmp_path / 'missing.json'}")


@pytest.mark.parametrize("spec", ["nope", "replay:", "cosmos4://x:1", "", "diffusers:"])
def test_unknown_spec_lists_valid_forms(spec):
    with pytest.raises(ValueError) as err:
        create_policy(spec)
    for form in ("scripted", "replay:PATH", "cosmos3://HOST:PORT", "diffusers:PATH"):
        assert form in str(err.value)


def test_scripted_needs_env():
    with pytest.raises(ValueError, match="env="):
        create_policy("scripted")


def test_cosmos3_specs_build_a_client_without_connecting():
    policy = create_policy("cosmos3://10.1.2.3:9001", api_key="k")
    assert (policy.host, policy.port, policy.api_key) == ("10.1.2.3", 9001, "k")
    policy = create_policy("cosmos3", host="example.org", port=8123)
    assert (policy.host, policy.port) == ("example.org", 8123)
    with pytest.raises(ValueError, match="HOST:PORT"):
        create_policy("cosmos3://nohost")


def test_diffusers_needs_a_model():
    with pytest.raises(ValueError, match="model"):
        create_policy("diffusers")


def test_top_level_exports_are_lazy():
    code = (
        "import sys, robosim_cosmos\n"
        "assert 'robosim_cosmos.rollout' not in sys.modules\n"
        "assert 'robosim_cosmos.policies.replay' not in sys.modules\n"
        "assert 'torch' not in sys.modules\n"
        "f = robosim_cosmos.create_policy; r = robosim_cosmos.rollout\n"
        "assert callable(f) and callable(r)\n"
        "import robosim_cosmos.rollout\n"
        "assert callable(robosim_cosmos.rollout)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_wilson_interval_known_values():
    lo, hi = wilson_interval(8, 10)
    assert (round(lo, 3), round(hi, 3)) == (0.490, 0.943)
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and round(hi, 3) == 0.278
    assert wilson_interval(0, 0) == (0.0, 1.0)
    s = success_summary([{"success": True}, {"success": False, "error": "boom"}])
    # The errored episode is counted beside the rate, not in it: 1 success of 1 completed episode.
    assert s["episodes"] == 2 and s["completed"] == 1 and s["successes"] == 1 and s["errors"] == 1
    assert s["success_rate"] == 1.0 and s["ci95"] == list(wilson_interval(1, 1))


@pytest.mark.parametrize("argv,needle", [
    (["rollout", "--env", "robosim_cosmos/Nope-v0", "--policy", f"replay:{CHUNK}", "--out", "{tmp}"], "unknown env id"),
    (["rollout", "--env", "robosim_cosmos/DroidReach-v0", "--policy", "bogus", "--out", "{tmp}"], "valid forms"),
    (["rollout", "--env", "robosim_cosmos/DroidReach-v0", "--policy", "replay:{tmp}/seven.json", "--out", "{tmp}"],
     "7 wide"),
    (["rollout", "--env", "robosim_cosmos/DroidReach-v0", "--policy", f"replay:{CHUNK}", "--episodes", "0",
      "--out", "{tmp}"], "episodes"),
    (["serve", "--policy", "scripted"], "cannot be served"),
])
def test_cli_bad_input_is_one_line_exit_2(tmp_path, capsys, argv, needle):
    _write(tmp_path / "seven.json", [[0.0] * 7])
    code = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    err = capsys.readouterr().err
    assert code == 2
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_cli_envs_lists_ids_and_instructions(capsys):
    assert main(["envs"]) == 0
    out = capsys.readouterr().out
    for env_id in robosim_cosmos.ENV_IDS:
        assert env_id in out
    assert "move the gripper to the green ball" in out
