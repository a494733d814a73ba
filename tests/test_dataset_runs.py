"""Recording as a run: a kill and the same command again (no episode lost or doubled), shards
merged into one dataset, the other two schemas built from the same staged episodes (lerobot-doctor
passes), and the folders a recording refuses to write into."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from robosim_cosmos.cli.main import main
from robosim_cosmos.datasets import layout
from robosim_cosmos.datasets.reader import DatasetReader
from robosim_cosmos.records.results import read_results

pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("av")

REACH = "robosim_cosmos/DroidReach-v0"
SMALL = ["--dataset-schema", "openpi-droid"]  # 180x320 cameras: the cheap schema


def _episodes(root: Path) -> list[tuple[str, int, int]]:
    reader = DatasetReader(root)
    return [(s["env_id"], s["seed"], s["episode"]) for s in (reader.scene(i) for i in range(len(reader)))]


def _doctor_failures(root: Path) -> list[str]:
    proc = subprocess.run([sys.executable, "-m", "lerobot_doctor.cli", str(root), "--json"], capture_output=True,
                          text=True, timeout=300)
    report = json.loads(proc.stdout)
    return [m["message"] for c in report["checks"] for m in c["messages"] if m["severity"] == "FAIL"]


def test_a_killed_record_resumes_without_duplicates_or_losses(tmp_path, sigkill_cli):
    data, runs = tmp_path / "data", tmp_path / "runs"
    args = ["record", str(data), "--env", REACH, "--episodes", "4", "--seed", "3", "--out", str(runs), *SMALL, "-q"]
    sigkill_cli(args, runs / "results.jsonl")
    killed = read_results(runs / "results.jsonl")
    assert 1 <= len(killed) < 4  # killed mid-run: some episodes recorded, none built into a dataset yet
    assert not (data / layout.INFO_PATH).exists()
    assert main(args) == 0
    assert _episodes(data) == [(REACH, 3 + i, i) for i in range(4)]
    lines = read_results(runs / "results.jsonl")
    assert sorted(int(line["episode"]) for line in lines) == [0, 1, 2, 3]
    staged = sorted(p.name for p in (runs / "dataset_episodes").iterdir())
    assert staged == [f"episode_{i}" for i in range(4)]  # the killed episode's .partial folder is gone
    info = json.loads((data / layout.INFO_PATH).read_text())
    assert info["total_episodes"] == 4 and info["total_frames"] == sum(int(line["steps"]) for line in lines)
    assert main(args) == 0  # nothing left to run: the dataset is rebuilt the same
    assert _episodes(data) == [(REACH, 3 + i, i) for i in range(4)]


def test_shards_merge_into_one_dataset_and_the_other_schemas_build_from_it(tmp_path, capsys):
    common = ["--env", REACH, "--episodes", "3", *SMALL]
    for i in range(2):
        assert main(["record", str(tmp_path / "unused"), *common, "--shard", f"{i}/2",
                     "--out", str(tmp_path / f"shard{i}")]) == 0
    assert "merge the shards" in capsys.readouterr().err
    assert not (tmp_path / "unused").exists()  # a shard builds no dataset
    assert main(["merge", str(tmp_path / "merged"), str(tmp_path / "shard0"), str(tmp_path / "shard1")]) == 0
    assert main(["record", str(tmp_path / "openpi"), *common, "--out", str(tmp_path / "merged")]) == 0
    assert _episodes(tmp_path / "openpi") == [(REACH, i, i) for i in range(3)]
    assert "0 to run" in capsys.readouterr().err  # every episode came from the shards
    # the staged episodes (180x320 AV1) make a lerobot-droid dataset as well, without running anything
    assert main(["record", str(tmp_path / "lerobot"), "--env", REACH, "--episodes", "3", "--dataset-schema",
                 "lerobot-droid", "--out", str(tmp_path / "merged")]) == 0
    for name, root in (("openpi-droid", tmp_path / "openpi"), ("lerobot-droid", tmp_path / "lerobot")):
        reader = DatasetReader(root)
        assert reader.schema_name == name and len(reader) == 3
        assert _doctor_failures(root) == []
    lerobot = DatasetReader(tmp_path / "lerobot")
    columns = lerobot.columns(0)
    assert columns["is_first"].tolist()[:2] == [True, False] and columns["is_last"].tolist()[-1] is True
    assert set(columns["is_episode_successful"].tolist()) == {True}
    assert columns["language_instruction"][0] == lerobot.episode_meta(0)["tasks"][0]
    openpi = DatasetReader(tmp_path / "openpi").droid(0)
    lerobot_ep = lerobot.droid(0)
    # openpi's velocities (target − measured) / 0.2 give back LeRobot's joint targets
    assert abs(openpi.action_joint_position - lerobot_ep.action_joint_position).max() < 1e-5


def test_a_run_without_staged_episodes_cannot_become_a_dataset(tmp_path, capsys):
    run = ["rollout", "--env", REACH, "--policy", "scripted", "--episodes", "1", "--no-video", "-q",
           "--out", str(tmp_path / "run")]
    assert main(run) == 0
    assert main([*run, "--record-dataset", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err
    assert "holds 1 completed episode(s) that were not staged for a dataset (0)" in err
    assert not (tmp_path / "data").exists()


def test_a_recording_refuses_folders_it_did_not_write(tmp_path, capsys):
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    args = ["record", str(other), "--env", REACH, "--episodes", "1", "--out", str(tmp_path / "runs"), *SMALL]
    assert main(args) == 2
    assert "is not empty and holds no recording.json" in capsys.readouterr().err
    assert (other / "notes.txt").read_text() == "mine"
    data = tmp_path / "data"
    assert main(["record", str(data), "--env", REACH, "--episodes", "1", "--out", str(tmp_path / "runs"), *SMALL]) == 0
    second = ["record", str(data), "--env", REACH, "--episodes", "1", "--seed", "5", "--out",
              str(tmp_path / "runs5"), *SMALL]
    assert main(second) == 2
    assert "holds the dataset of other runs" in capsys.readouterr().err
    assert _episodes(data) == [(REACH, 0, 0)]
    assert main([*second, "--overwrite"]) == 0
    assert _episodes(data) == [(REACH, 5, 0)]
    # the same runs in another encoding would mix codecs in one dataset: refused before running
    assert main(["record", str(tmp_path / "h264"), "--env", REACH, "--episodes", "2", "--dataset-codec", "h264",
                 "--out", str(tmp_path / "runs"), *SMALL]) == 2
    assert "staged its episodes in another encoding than h264" in capsys.readouterr().err


def test_rollout_takes_action_stats_from_a_file(tmp_path, repo_root):
    stats = tmp_path / "stats.json"
    shutil.copy(repo_root / "stats" / "droid_lerobot.json", stats)
    args = ["rollout", "--env", REACH, "--policy", "scripted", "--episodes", "1", "--no-video", "-q",
            "--stats", str(stats), "--out", str(tmp_path / "run")]
    assert main(args) == 0
    identity = json.loads((tmp_path / "run" / "run.json").read_text())["identity"]
    assert identity["stats"] == str(stats)
    assert read_results(tmp_path / "run" / "results.jsonl")[0]["success"] is True
    assert main([*args[:-4], "--out", str(tmp_path / "run")]) == 2  # without --stats: another run
