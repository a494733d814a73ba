"""Rollouts past one process: a real local Ray instance (actors, dynamic hand-out, a killed actor)
and shards merged into one run, each compared with the serial run."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

import robosim_cosmos
from robosim_cosmos.cli import main
from robosim_cosmos.errors import ConfigError, MissingDependencyError, RunFolderError
from robosim_cosmos.records.merge import merge as merge_with
from robosim_cosmos.records.shards import Shard, comparable
from robosim_cosmos.rollout import rollout_suite
from robosim_cosmos.rollout.config import RolloutConfig

REACH = "robosim_cosmos/DroidReach-v0"
CUBE = "robosim_cosmos/DroidCubeInBowl-v0"


def merge(out, shards):
    return merge_with(out, shards, RolloutConfig.from_identity)


def _lines(folder: Path) -> list[dict]:
    return [json.loads(x) for x in (folder / "results.jsonl").read_text().splitlines()]


def _by_episode(lines: list[dict]) -> dict[tuple[str, int], dict]:
    return {(r["env_id"], r["episode"]): comparable(r) for r in lines}


@pytest.fixture(scope="module")
def serial_cube(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("serial") / "cube"
    robosim_cosmos.rollout(CUBE, "scripted", episodes=6, out=str(out), video=False, progress=False)
    return out


# -- shards ---------------------------------------------------------------------------------------

def test_shards_deal_task_by_episode_round_robin():
    assert Shard.parse("1/3").episodes(7) == [1, 4]
    assert Shard.parse(" 0 / 1 ").episodes(3) == [0, 1, 2]
    # a suite of 2 members: (episode, member) -> e * 2 + m
    shards = [Shard.parse(f"{i}/3") for i in range(3)]
    dealt = sorted((e, m) for s in shards for m in range(2) for e in s.member(m, 2).episodes(4))
    assert dealt == [(e, m) for e in range(4) for m in range(2)]  # each pair exactly once
    for text in ("3/3", "1", "-1/2", "a/b", "0/0"):
        with pytest.raises(ConfigError, match="shard"):
            Shard.parse(text)


def test_three_shards_merged_equal_the_unsharded_run(serial_cube, tmp_path, capsys):
    shards = []
    for i in range(3):
        out = tmp_path / f"shard{i}"
        result = robosim_cosmos.rollout(CUBE, "scripted", episodes=6, out=str(out), video=False, progress=False,
                                        shard=f"{i}/3")
        assert sorted(r["episode"] for r in result.results) == [i, i + 3]
        shards.append(out)
    merged = tmp_path / "merged"
    assert main(["merge", str(merged), *map(str, shards)]) == 0
    assert "6 episodes" in capsys.readouterr().out
    assert _by_episode(_lines(merged)) == _by_episode(_lines(serial_cube))
    summary, serial = (json.loads((f / "summary.json").read_text()) for f in (merged, serial_cube))
    assert summary["overall"] == serial["overall"] and summary["events"] == serial["events"]
    assert json.loads((merged / "run.json").read_text())["identity"] == \
        json.loads((serial_cube / "run.json").read_text())["identity"]
    # the merged folder is an ordinary run: the same command resumes it with nothing to do
    again = robosim_cosmos.rollout(CUBE, "scripted", episodes=6, out=str(merged), video=False, progress=False)
    assert len(again.results) == 6


def test_merge_reports_conflicting_duplicates_and_refuses_other_runs(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    robosim_cosmos.rollout(REACH, "scripted", episodes=2, out=str(a), video=False, progress=False, shard="0/1")
    robosim_cosmos.rollout(REACH, "scripted", episodes=2, out=str(b), video=False, progress=False, shard="0/1")
    lines = _lines(b)
    lines[1]["steps"] += 1  # the same episode, another outcome
    (b / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    report = merge(tmp_path / "m", [a, b])
    assert report.episodes == 2 and report.duplicates == 1 and len(report.conflicts) == 1
    assert "episode 1" in report.conflicts[0]
    other = tmp_path / "other"
    robosim_cosmos.rollout(REACH, "scripted", episodes=2, seed=5, out=str(other), video=False, progress=False)
    with pytest.raises(RunFolderError, match="not a shard of the same run"):
        merge(tmp_path / "m2", [a, other])
    assert main(["merge", str(tmp_path / "m3"), str(tmp_path / "missing")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_a_shard_folder_refuses_another_shard(tmp_path):
    out = tmp_path / "s"
    robosim_cosmos.rollout(REACH, "scripted", episodes=2, out=str(out), video=False, progress=False, shard="0/2")
    with pytest.raises(RunFolderError, match="shard"):
        robosim_cosmos.rollout(REACH, "scripted", episodes=2, out=str(out), video=False, progress=False,
                               shard="1/2")


def test_suite_shards_merge_into_the_suite(tmp_path):
    kwargs = dict(tasks="reach,lift_cube", tiers="default", episodes=3, video=False, quiet=True)
    whole = rollout_suite("scripted", out=str(tmp_path / "whole"), **kwargs)
    shards = [tmp_path / f"s{i}" for i in range(2)]
    for i, out in enumerate(shards):
        rollout_suite("scripted", out=str(out), shard=f"{i}/2", **kwargs)
    merge(tmp_path / "merged", shards)
    merged = json.loads((tmp_path / "merged" / "suite_summary.json").read_text())
    for key in ("overall", "per_task", "per_tier", "per_task_tier"):
        assert merged[key] == whole.summary[key], key


# -- Ray --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def local_ray():
    if os.environ.get("CI") != "true":
        pytest.importorskip("ray")
    import ray

    ray.init(num_cpus=2, include_dashboard=False, namespace="robosim_cosmos", log_to_driver=False,
             configure_logging=False)
    yield ray
    ray.shutdown()


def test_ray_runs_the_serial_episodes(local_ray, serial_cube, tmp_path):
    out = tmp_path / "ray"
    result = robosim_cosmos.rollout(CUBE, "scripted", episodes=6, out=str(out), video=False, progress=False,
                                    num_envs=2, executor="ray")
    assert _by_episode(result.results) == _by_episode(_lines(serial_cube))
    assert result.summary["config"]["executor"] == "ray"


def test_a_killed_ray_actor_loses_and_duplicates_nothing(local_ray, tmp_path, capfd):
    out = tmp_path / "killed"
    killed: list[str] = []

    def kill_first_actor() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            results = out / "results.jsonl"
            if results.is_file() and results.read_text().strip():
                name = f"robosim-worker-{os.getpid()}-0"
                local_ray.kill(local_ray.get_actor(name, namespace="robosim_cosmos"))
                killed.append(name)
            time.sleep(0.05)

    watcher = threading.Thread(target=kill_first_actor, daemon=True)
    watcher.start()
    result = robosim_cosmos.rollout(CUBE, "scripted", episodes=6, out=str(out), video=True, num_envs=2,
                                    executor="ray")  # not quiet: the driver's notes go to stderr
    watcher.join(5)
    assert killed, "the actor was never killed"
    episodes = sorted(r["episode"] for r in result.results)
    assert episodes == list(range(6)) and all(r["error"] is None and r["success"] for r in result.results)
    assert "died" in capfd.readouterr().err  # the driver said it ran an episode again
    for line in result.results:
        assert (out / line["video"]).is_file()  # videos came back from the actors to the driver


def test_ray_bad_input(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match=r"cannot reach the Ray cluster at 127\.0\.0\.1:1"):
        robosim_cosmos.rollout(REACH, "scripted", out=str(tmp_path / "a"), video=False, progress=False,
                               num_envs=2, executor="ray", ray_address="127.0.0.1:1")
    assert not (tmp_path / "a").exists()
    with pytest.raises(ConfigError, match="executor"):
        robosim_cosmos.rollout(REACH, "scripted", out=str(tmp_path / "b"), executor="slurm")
    monkeypatch.setitem(__import__("sys").modules, "ray", None)
    with pytest.raises(MissingDependencyError, match=r"robosim_cosmos\[ray\]"):
        robosim_cosmos.rollout(REACH, "scripted", out=str(tmp_path / "c"), video=False, progress=False,
                               num_envs=2, executor="ray")
