"""Recorded episodes as LeRobot v3.0 datasets (cosmos3-droid schema): the files, the features as
DESIGN §11 lists them, lerobot-doctor, the project's reader, the statistics, the action statistics.

The dataset is recorded once per session by ``robosim-cosmos record`` (``recorded_dataset`` in
conftest.py): DroidReach (3 successes) and DroidCubeInBowl (3 failures at the 24-step limit).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from robosim_cosmos.datasets import layout
from robosim_cosmos.datasets.action_stats import (
    WINDOW,
    compare,
    compute_action_stats,
    cosmos_ee_poses,
    format_comparison,
    stats_document,
)
from robosim_cosmos.datasets.feature_stats import STAT_NAMES
from robosim_cosmos.datasets.reader import DatasetReader
from robosim_cosmos.datasets.schemas import SCHEMAS, get_schema
from robosim_cosmos.datasets.signals import flange_cartesian
from robosim_cosmos.errors import ConfigError, DatasetError
from robosim_cosmos.kinematics.deltas import encode_backward_framewise
from robosim_cosmos.kinematics.frames import JOINT_LIMITS
from robosim_cosmos.kinematics.normalization import load_stats

pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("av")

INDEX = {"timestamp": ("float32", [1]), "frame_index": ("int64", [1]), "episode_index": ("int64", [1]),
         "index": ("int64", [1]), "task_index": ("int64", [1])}
# DESIGN §11, written out by hand: the exact names, dtypes and shapes of each schema's features.
DESIGN_FEATURES = {
    "cosmos3-droid": {
        "observation.state.cartesian_position": ("float32", [6]),
        "observation.state.joint_positions": ("float32", [7]),
        "observation.state.gripper_position": ("float32", [1]),
        "action.joint_position": ("float32", [7]),
        "action.gripper_position": ("float32", [1]),
        "observation.image.wrist_image_left": ("video", [360, 640, 3]),
        "observation.image.exterior_image_1_left": ("video", [360, 640, 3]),
        "observation.image.exterior_image_2_left": ("video", [360, 640, 3]),
    },
    "openpi-droid": {
        "exterior_image_1_left": ("video", [180, 320, 3]), "exterior_image_2_left": ("video", [180, 320, 3]),
        "wrist_image_left": ("video", [180, 320, 3]), "joint_position": ("float32", [7]),
        "gripper_position": ("float32", [1]), "actions": ("float32", [8]),
    },
    "lerobot-droid": {
        "observation.images.wrist_left": ("video", [180, 320, 3]),
        "observation.images.exterior_1_left": ("video", [180, 320, 3]),
        "observation.images.exterior_2_left": ("video", [180, 320, 3]),
        "observation.state": ("float32", [8]), "observation.state.joint_position": ("float32", [7]),
        "observation.state.cartesian_position": ("float32", [6]),
        "observation.state.gripper_position": ("float32", [1]),
        "action": ("float32", [8]), "action.joint_position": ("float32", [7]),
        "action.joint_velocity": ("float32", [7]), "action.cartesian_position": ("float32", [6]),
        "action.cartesian_velocity": ("float32", [6]), "action.gripper_position": ("float32", [1]),
        "action.gripper_velocity": ("float32", [1]), "language_instruction": ("string", [1]),
        "is_first": ("bool", [1]), "is_last": ("bool", [1]), "is_terminal": ("bool", [1]),
        "is_episode_successful": ("bool", [1]),
    },
}
ROBOT_TYPES = {"cosmos3-droid": "panda", "openpi-droid": "panda", "lerobot-droid": "Franka"}


def _roots(folder: Path) -> dict[str, Path]:
    return {split: folder / split for split in layout.SPLITS}


def _wrapped(delta: np.ndarray) -> np.ndarray:
    return (delta + np.pi) % (2 * np.pi) - np.pi


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_every_schema_lists_the_features_design_names(name):
    schema = get_schema(name)
    assert {f.key: (f.dtype, list(f.shape)) for f in schema.all_features} == {**DESIGN_FEATURES[name], **INDEX}
    assert (schema.robot_type, schema.fps) == (ROBOT_TYPES[name], 15)
    assert schema.split_by_outcome == (name == "cosmos3-droid")


def test_unknown_schema_names_the_valid_ones():
    with pytest.raises(ConfigError, match=r"unknown dataset schema 'droid'; valid: \['cosmos3-droid', "
                                          r"'openpi-droid', 'lerobot-droid'\]"):
        get_schema("droid")


def test_recording_writes_success_and_failure_side_by_side(recorded_dataset):
    assert sorted(p.name for p in recorded_dataset.iterdir()) == ["failure", "recording.json", "success"]
    recording = json.loads((recorded_dataset / layout.RECORDING_FILE).read_text())
    assert recording["status"] == "complete" and recording["schema"] == "cosmos3-droid"
    assert recording["video"] == {"codec": "av1", "height": 360, "width": 640, "fps": 15, "pix_fmt": "yuv420p"}
    assert {k: v["episodes"] for k, v in recording["datasets"].items()} == {"success": 3, "failure": 3}
    for split, root in _roots(recorded_dataset).items():
        reader = DatasetReader(root)
        scenes = [reader.scene(i) for i in range(len(reader))]
        assert all(s["success"] == (split == "success") for s in scenes)
        env = "robosim_cosmos/DroidReach-v0" if split == "success" else "robosim_cosmos/DroidCubeInBowl-v0"
        assert [(s["env_id"], s["seed"], s["episode"]) for s in scenes] == [(env, i, i) for i in range(3)]
        assert all(s["camera_rig"] == "droid" and set(s["camera_poses"]) == {"exterior_image_1_left",
                                                                          "exterior_image_2_left"} for s in scenes)
        assert {s["instruction_tier"] for s in scenes} == {"default"}


@pytest.mark.parametrize("split", layout.SPLITS)
def test_info_json_is_lerobot_v3_with_designs_features(recorded_dataset, split):
    root = recorded_dataset / split
    info = json.loads((root / layout.INFO_PATH).read_text())
    assert {k: (f["dtype"], f["shape"]) for k, f in info["features"].items()} == {
        **DESIGN_FEATURES["cosmos3-droid"], **INDEX}
    frames = 24 * 3 if split == "failure" else None
    reader = DatasetReader(root)
    lengths = [int(reader.episode_meta(i)["length"]) for i in range(len(reader))]
    assert (info["codebase_version"], info["robot_type"], info["fps"]) == ("v3.0", "panda", 15)
    assert (info["total_episodes"], info["total_frames"]) == (3, sum(lengths))
    assert frames is None or sum(lengths) == frames
    assert info["splits"] == {"train": "0:3"} and info["chunks_size"] == 1000
    assert info["data_path"] == "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
    assert info["video_path"] == "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
    for key in reader.video_keys:
        assert info["features"][key]["info"] == {
            "video.height": 360, "video.width": 640, "video.codec": "av1", "video.pix_fmt": "yuv420p",
            "video.is_depth_map": False, "video.fps": 15, "video.channels": 3, "has_audio": False}
    # many episodes per file: one parquet file and one mp4 per camera hold all three
    assert len(list((root / "data").rglob("*.parquet"))) == 1
    assert all(len(list((root / "videos" / key).rglob("*.mp4"))) == 1 for key in reader.video_keys)
    tasks = pq.read_table(root / layout.TASKS_PATH).to_pylist()
    assert [t["task_index"] for t in tasks] == list(range(info["total_tasks"]))
    assert {t["task"] for t in tasks} == {reader.episode_meta(i)["tasks"][0] for i in range(3)}


@pytest.mark.parametrize("split", layout.SPLITS)
def test_lerobot_doctor_passes(recorded_dataset, split):
    proc = subprocess.run([sys.executable, "-m", "lerobot_doctor.cli", str(recorded_dataset / split), "--json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert (report["format_version"], report["total_episodes"]) == ("v3", 3)
    failed = [(c["name"], m["message"]) for c in report["checks"] for m in c["messages"] if m["severity"] == "FAIL"]
    assert failed == []
    assert report["overall_severity"] in ("PASS", "WARN")
    severities = {c["name"]: c["severity"] for c in report["checks"]}
    for check in ("Metadata & Format Compliance", "Temporal Consistency", "Video Integrity", "Feature Consistency"):
        assert severities[check] == "PASS", check


@pytest.mark.parametrize("split", layout.SPLITS)
def test_reader_decodes_every_frame_at_its_timestamp(recorded_dataset, split):
    reader = DatasetReader(recorded_dataset / split)
    assert reader.schema_name == "cosmos3-droid"
    first = 0
    for i in range(len(reader)):
        meta, columns = reader.episode_meta(i), reader.columns(i)
        n = int(meta["length"])
        assert (meta["dataset_from_index"], meta["dataset_to_index"]) == (first, first + n)
        assert columns["index"].tolist() == list(range(first, first + n))
        assert columns["frame_index"].tolist() == list(range(n))
        np.testing.assert_allclose(columns["timestamp"], np.arange(n) / 15, atol=1e-6)
        first += n
        for key in reader.video_keys:
            images, times = reader.frames(i, key)
            assert images.shape == (n, 360, 640, 3) and images.dtype == np.uint8
            np.testing.assert_allclose(times, np.arange(n) / 15, atol=1e-4)
            assert float(images.std()) > 5.0  # a rendered scene, not a blank frame
            # consecutive episodes share the file: this episode's span starts where the last ended
            start = float(meta[f"videos/{key}/from_timestamp"])
            assert start == pytest.approx((first - n) / 15, abs=1e-9)


def test_cartesian_position_is_the_flange_pose_of_the_joints(recorded_dataset):
    for root in _roots(recorded_dataset).values():
        reader = DatasetReader(root)
        for i in range(len(reader)):
            columns = reader.columns(i)
            joints = columns["observation.state.joint_positions"].astype(np.float64)
            cartesian = columns["observation.state.cartesian_position"].astype(np.float64)
            fk = np.stack([flange_cartesian(q) for q in joints])
            assert np.abs(fk[:, :3] - cartesian[:, :3]).max() < 1e-5
            assert np.abs(_wrapped(fk[:, 3:] - cartesian[:, 3:])).max() < 1e-5


def test_actions_are_commanded_joint_targets_and_the_gripper(recorded_dataset):
    failure = DatasetReader(recorded_dataset / "failure")
    for i in range(len(failure)):
        columns = failure.columns(i)
        targets = columns["action.joint_position"].astype(np.float64)
        assert np.all(targets >= JOINT_LIMITS[:, 0]) and np.all(targets <= JOINT_LIMITS[:, 1])
        # the commanded target leads the measured joints by about one servo lag, never a leap
        lead = np.abs(targets - columns["observation.state.joint_positions"]).max()
        assert 1e-4 < lead < 0.35
        gripper = columns["action.gripper_position"]
        assert set(np.unique(np.round(gripper, 6))) <= {0.0, 1.0}


def test_stats_json_and_episode_stats(recorded_dataset):
    root = recorded_dataset / "failure"
    stats = json.loads((root / layout.STATS_PATH).read_text())
    reader = DatasetReader(root)
    assert set(stats) == set(reader.features)
    for key, values in stats.items():
        assert set(values) == set(STAT_NAMES), key
        assert values["count"] == [72], key  # frames, for the videos too
        lo, mid, hi = (np.asarray(values[q]) for q in ("q01", "q50", "q99"))
        assert np.all(lo <= mid) and np.all(mid <= hi)
        assert np.all(np.asarray(values["min"]) <= lo) and np.all(hi <= np.asarray(values["max"]))
    joints = np.concatenate([reader.columns(i)["observation.state.joint_positions"] for i in range(3)])
    np.testing.assert_allclose(stats["observation.state.joint_positions"]["mean"], joints.mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(stats["observation.state.joint_positions"]["q99"],
                               np.quantile(joints.astype(np.float64), 0.99, axis=0), atol=1e-6)
    image = stats["observation.image.wrist_image_left"]
    assert np.asarray(image["mean"]).shape == (3, 1, 1)
    assert np.asarray(image["min"]).min() >= 0.0 and np.asarray(image["max"]).max() <= 1.0
    table = pq.read_table(layout.episodes_file(root, 0, 0))
    assert table.column("stats/action.joint_position/count").to_pylist() == [[24], [24], [24]]
    per_episode = table.column("stats/observation.image.wrist_image_left/mean").to_pylist()
    assert np.asarray(per_episode).shape == (3, 3, 1, 1)


def test_action_stats_are_the_windowed_cosmos_rows(recorded_dataset, tmp_path):
    readers = [DatasetReader(root) for root in _roots(recorded_dataset).values()]
    window = 8
    result = compute_action_stats(readers, window, source="test")
    # the same rows computed here from the recorded flange poses and gripper commands
    rows = []
    for reader in readers:
        for i in range(len(reader)):
            columns = reader.columns(i)
            poses = cosmos_ee_poses(columns["observation.state.cartesian_position"])
            raw = np.concatenate([encode_backward_framewise(poses),
                                  1.0 - columns["action.gripper_position"][:-1, None].astype(np.float64)], axis=1)
            rows += [raw[s:s + window] for s in range(len(raw) - window + 1)]
    pooled = np.concatenate(rows)
    np.testing.assert_allclose(result.stats.values["q01"], np.quantile(pooled, 0.01, axis=0), atol=1e-9)
    np.testing.assert_allclose(result.stats.values["q99"], np.quantile(pooled, 0.99, axis=0), atol=1e-9)
    assert result.windows == len(rows) and result.episodes == 6 and result.skipped_short == 0
    # one DROID-rate step moves the scripted arm at most a few cm; rot6d of a small turn stays near identity
    assert np.all(np.abs(result.stats.values["q99"][:3]) < 0.03)
    assert result.stats.values["q99"][3] == pytest.approx(1.0, abs=1e-3)
    path = tmp_path / "sim_stats.json"
    path.write_text(json.dumps(stats_document(result, "test")))
    loaded = load_stats(path, embodiment="droid")  # loadable with --stats PATH
    np.testing.assert_allclose(loaded.values["q01"], result.stats.values["q01"])
    assert loaded.domain_name == "droid_lerobot" and loaded.kind == "quantile"
    table = compare(result.stats)
    assert [row["column"] for row in table] == ["tx", "ty", "tz", "r0", "r1", "r2", "r3", "r4", "r5", "grasp"]
    droid = load_stats("droid_lerobot")
    for i, row in enumerate(table):
        span = droid.values["q99"][i] - droid.values["q01"][i]
        assert row["span_ratio"] == pytest.approx((row["q99"] - row["q01"]) / span)
    assert format_comparison(table).splitlines()[0].split()[:3] == ["column", "q01", "q99"]


def test_action_stats_need_a_long_enough_episode(recorded_dataset):
    with pytest.raises(DatasetError, match=f"no episode has {WINDOW * 4} steps"):
        compute_action_stats([DatasetReader(recorded_dataset / "success")], WINDOW * 4)


def test_reader_refuses_what_is_not_a_dataset(recorded_dataset, tmp_path):
    with pytest.raises(DatasetError, match=r"is not a LeRobot dataset \(no meta/info.json\); it holds the datasets "
                                           r"success/, failure/: name one"):
        DatasetReader(recorded_dataset)
    with pytest.raises(DatasetError, match="is not a LeRobot dataset"):
        DatasetReader(tmp_path)
    reader = DatasetReader(recorded_dataset / "success")
    with pytest.raises(DatasetError, match=r"has episodes 0..2; there is no episode 7"):
        reader.droid(7)
