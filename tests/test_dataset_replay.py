"""Replaying LeRobot DROID datasets in the station: episodes robosim-cosmos recorded (seeded scene:
outcome, joint trajectory and frames reproduced) and datasets written elsewhere, in two schemas'
names (tracking error against the recorded state)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from robosim_cosmos.cli.main import main
from robosim_cosmos.datasets.reader import DatasetReader
from robosim_cosmos.errors import DatasetError
from robosim_cosmos.kinematics.frames import DROID_HOME
from robosim_cosmos.rollout.dataset_replay import replay_episode

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("av")


@pytest.mark.parametrize(("split", "episode"), [("success", 0), ("failure", 2)])
def test_replay_of_a_recorded_episode_reproduces_it(recorded_dataset, split, episode):
    report = replay_episode(recorded_dataset / split, episode)
    reader = DatasetReader(recorded_dataset / split)
    length = int(reader.episode_meta(episode)["length"])
    assert report.seeded and report.steps == length and report.action_kind == "joint_position"
    assert report.recorded_success is (split == "success") and report.reproduced is True
    assert len(report.joint_error_rad) == length - 1
    assert max(report.joint_error_rad) < 1e-3  # the recorded joint trajectory, within float32 rounding
    assert max(report.flange_position_mm) < 0.01
    assert report.clipped_values == 0
    assert report.frames is not None and set(report.frames) == set(reader.video_keys)
    for key, frames in report.frames.items():
        assert frames["frames"] == length, key
        assert frames["psnr_min"] > 30.0, key  # the same views, through AV1 at CRF 30


def test_replay_command_prints_and_writes_the_report(recorded_dataset, tmp_path, capsys):
    out = tmp_path / "replay.json"
    assert main(["replay", str(recorded_dataset / "success"), "--episode", "1", "--no-frames", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "episode 1 in robosim_cosmos/DroidReach-v0 (seeded scene)" in text
    assert "outcome: recorded success, replayed success (reproduced)" in text
    doc = json.loads(out.read_text())
    assert doc["reproduced"] is True and doc["frames"] is None
    assert doc["summary"]["joint_error_rad"]["max"] < 1e-3


def test_replay_refuses_an_episode_that_is_not_there(recorded_dataset, capsys):
    assert main(["replay", str(recorded_dataset / "failure"), "--episode", "5", "--no-frames"]) == 2
    assert "has episodes 0..2; there is no episode 5" in capsys.readouterr().err
    with pytest.raises(DatasetError, match="was recorded in robosim_cosmos/DroidCubeInBowl-v0, not"):
        replay_episode(recorded_dataset / "failure", 0, env_id="robosim_cosmos/DroidReach-v0")


# -- a dataset written elsewhere ------------------------------------------------------------------

STEPS = 30


def _trajectory() -> tuple[np.ndarray, np.ndarray]:
    """Joint states [T, 7] of a smooth swing starting away from DROID home (at most 0.05 rad a
    step, well within the Franka's velocity limits) and a gripper closing half way."""
    t = np.arange(STEPS + 1)
    swing = 0.25 * np.sin(2 * np.pi * t / STEPS)[:, None] * np.array([1.0, 0.6, 0.0, 0.8, 0.0, -0.7, 0.5])
    q = DROID_HOME + np.array([0.1, 0.05, 0.0, 0.1, 0.0, -0.05, 0.2]) + swing
    gripper = np.clip((t - STEPS / 2) / 5.0, 0.0, 1.0)
    return q, gripper


def _write_foreign(root: Path, columns: dict[str, tuple[np.ndarray, str]]) -> None:
    """A minimal LeRobot v3.0 dataset as another tool writes it: one episode, no videos, none of
    robosim-cosmos' columns."""
    n = len(next(iter(columns.values()))[0])
    table: dict[str, object] = {}
    features: dict[str, object] = {}
    for key, (values, dtype) in columns.items():
        array = np.asarray(values, dtype=dtype)
        if array.ndim == 1:
            table[key], features[key] = pa.array(array), {"dtype": dtype, "shape": [1], "names": None}
        else:
            table[key] = pa.FixedSizeListArray.from_arrays(pa.array(array.reshape(-1)), array.shape[1])
            features[key] = {"dtype": dtype, "shape": [array.shape[1]], "names": None}
    index = {"timestamp": (np.arange(n) / 15).astype(np.float32), "frame_index": np.arange(n),
             "episode_index": np.zeros(n, np.int64), "index": np.arange(n), "task_index": np.zeros(n, np.int64)}
    for key, values in index.items():
        table[key] = pa.array(values)
        features[key] = {"dtype": str(values.dtype), "shape": [1], "names": None}
    (root / "data" / "chunk-000").mkdir(parents=True)
    (root / "meta" / "episodes" / "chunk-000").mkdir(parents=True)
    pq.write_table(pa.table(table), root / "data" / "chunk-000" / "file-000.parquet")
    pq.write_table(pa.table({"episode_index": [0], "tasks": [["wave the arm"]], "length": [n],
                             "data/chunk_index": [0], "data/file_index": [0], "dataset_from_index": [0],
                             "dataset_to_index": [n]}), root / "meta" / "episodes" / "chunk-000" / "file-000.parquet")
    info = {"codebase_version": "v3.0", "robot_type": "Franka", "fps": 15, "total_episodes": 1, "total_frames": n,
            "total_tasks": 1, "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
            "features": features}
    (root / "meta" / "info.json").write_text(json.dumps(info))


def test_replay_of_datasets_written_elsewhere_in_two_schemas(tmp_path):
    q, gripper = _trajectory()
    states, targets = q[:-1], q[1:]  # each frame commands the next recorded state
    lerobot = tmp_path / "lerobot"
    _write_foreign(lerobot, {"observation.state.joint_position": (states, "float32"),
                             "observation.state.gripper_position": (gripper[:-1], "float32"),
                             "action.joint_position": (targets, "float32"),
                             "action.gripper_position": (gripper[1:], "float32")})
    openpi = tmp_path / "openpi"
    velocities = (targets - states) / 0.2
    _write_foreign(openpi, {"joint_position": (states, "float32"), "gripper_position": (gripper[:-1], "float32"),
                            "actions": (np.concatenate([velocities, gripper[1:, None]], axis=1), "float32")})
    reports = [replay_episode(root, 0) for root in (lerobot, openpi)]
    for report, kind in zip(reports, ("joint_position", "joint_velocity"), strict=True):
        assert (report.seeded, report.reproduced, report.frames) == (False, None, None)
        assert report.action_kind == kind and report.env_id == "robosim_cosmos/DroidReach-v0"
        assert report.steps == STEPS and len(report.joint_error_rad) == STEPS - 1
        # the position servos follow the swing a little behind (measured: ~2e-3 rad, ~1 mm), never exactly
        assert 1e-4 < max(report.joint_error_rad) < 0.01
        assert 0.01 < max(report.flange_position_mm) < 5.0
    # joint velocities are turned back into the same targets (q + 0.2 v): the same replay
    np.testing.assert_allclose(reports[0].joint_error_rad, reports[1].joint_error_rad, atol=1e-5)


def test_a_dataset_without_joint_actions_is_refused(tmp_path):
    q, gripper = _trajectory()
    _write_foreign(tmp_path / "d", {"observation.state.joint_position": (q, "float32"),
                                    "observation.state.gripper_position": (gripper, "float32")})
    with pytest.raises(DatasetError, match=r"no joint actions found \(looked for action.joint_position"):
        replay_episode(tmp_path / "d", 0)


def test_place_robot_holds_the_arm_where_asked_and_refuses_impossible_joints():
    import gymnasium as gym

    from robosim_cosmos.errors import InvalidActionError

    env = gym.make("robosim_cosmos/DroidReach-v0", obs_mode="state")
    try:
        env.reset(seed=0)
        base = env.unwrapped
        q = DROID_HOME + 0.2
        obs = base.place_robot(q, 0.5)
        np.testing.assert_allclose(obs["joint_position"], q, atol=1e-9)
        for _ in range(5):  # the servos and the controller hold it there
            obs, *_ = env.step(np.append(q, 0.5).astype(np.float32))
        assert np.abs(obs["joint_position"] - q).max() < 1e-3
        with pytest.raises(InvalidActionError, match=r"joint 3 = 0.5000 rad is outside the Franka's limits"):
            base.place_robot(np.array([0, 0, 0, 0.5, 0, 1.5, 0]), 0.0)
        with pytest.raises(InvalidActionError, match=r"gripper_position must lie in \[0, 1\]"):
            base.place_robot(q, 1.5)
    finally:
        env.close()
