"""Rollouts past one process: a real local Ray instance (actors, dynamic hand-out, a killed actor,
Ray's own output kept in ray.log, addresses that are no Ray cluster) and shards merged into one
run, each compared with the serial run."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import robosim_cosmos
from robosim_cosmos.cli import main
from robosim_cosmos.errors import ConfigError, MissingDependencyError, RunFolderError
from robosim_cosmos.records.merge import merge as merge_with
from robosim_cosmos.records.shards import Shard, comparable
from robosim_cosmos.records.summary import write_summary
from robosim_cosmos.rollout import rollout_suite
from robosim_cosmos.rollout.config import RolloutConfig

REACH = "robosim_cosmos/DroidReach-v0"
ROOT = Path(__file__).resolve().parent.parent
CUBE = "robosim_cosmos/DroidCubeInBowl-v0"


def merge(out, shards):
    return merge_with(out, shards, RolloutConfig.from_identity)


def _lines(folder: Path) -> list[dict]:
    return [json.loads(x) for x in (folder / "results.jsonl").read_text().splitlines()]


def _by_episode(lines: list[dict]) -> dict[tuple[str, int], dict]:
    return {(r["env_id"], r["episode"]): comparable(r) for r in lines}


STATISTICS = ("overall", "per_env", "mean_progress", "events", "world_model", "trajectory")
EPISODE_LINE = re.compile(r"\[\d+/\d+\] \w+ ep\d+ seed \d+: success in \d+ steps \(\d+\.\d s\)")


@pytest.fixture(scope="module")
def serial_cube(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("serial") / "cube"
    robosim_cosmos.rollout(CUBE, "scripted", episodes=6, out=str(out), video=False, progress=False)
    return out


def test_the_summary_takes_lines_in_episode_order(serial_cube, tmp_path):
    # workers finish in any order; the means must not change in their last bits with it
    lines = _lines(serial_cube)
    cfg = RolloutConfig.from_identity(json.loads((serial_cube / "run.json").read_text())["identity"],
                                      str(tmp_path))
    inorder = write_summary(tmp_path, cfg, lines, command=[])
    for order in (lines[::-1], lines[1::2] + lines[::2], lines[3:] + lines[:3]):
        summary = write_summary(tmp_path, cfg, order, command=[])
        assert {k: summary[k] for k in STATISTICS} == {k: inorder[k] for k in STATISTICS}
    assert inorder["trajectory"]["episodes"] == 6


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
    assert merged["config"]["episodes"] == 3 and merged["partial"] is None  # what the shards ran
    # as the unsharded run ran, unset open-loop steps read as the 8 its identity records
    assert merged["config"] == {**whole.summary["config"], "out": str(tmp_path / "merged"), "open_loop_steps": 8}
    # a suite shard killed in its second member: no suite summary, that member short of episodes
    killed = tmp_path / "killed"
    shutil.copytree(shards[1], killed)
    (killed / "suite_summary.json").unlink()
    (killed / "DroidLiftCube" / "default" / "summary.json").unlink()
    lift = killed / "DroidLiftCube" / "default" / "results.jsonl"
    lift.write_text("".join(x for x in lift.read_text().splitlines(keepends=True) if json.loads(x)["episode"] != 2))
    with pytest.raises(RunFolderError, match=r"shard 1/2 \(.*killed\): 1 episode not recorded "
                                             r"\(DroidLiftCube/default: 2\)"):
        merge(tmp_path / "m2", [shards[0], killed])
    merge_with(tmp_path / "m2", [shards[0], killed], RolloutConfig.from_identity, allow_partial=True)
    partial = json.loads((tmp_path / "m2" / "suite_summary.json").read_text())
    assert partial["partial"] == {"missing_shards": [], "missing_episodes": {"DroidLiftCube/default": [2]},
                                  "missing_members": [], "episode_count_known": True}
    assert partial["config"]["episodes"] == 3 and partial["overall"]["episodes"] == 5
    # a suite shard killed before its second member: the member is missing from that shard
    shutil.rmtree(killed / "DroidLiftCube")
    with pytest.raises(RunFolderError, match=r"shard 1/2 \(.*killed\): 3 episodes not recorded "
                                             r"\(DroidLiftCube/default: 0, 1, 2\)"):
        merge(tmp_path / "m3", [shards[0], killed])
    # a member no shard holds: named when a shard's suite summary lists it, counted when none does
    first = tmp_path / "first"
    shutil.copytree(shards[0], first)
    shutil.rmtree(first / "DroidLiftCube")
    with pytest.raises(RunFolderError, match=r"suite member DroidLiftCube/default: in no shard folder"):
        merge(tmp_path / "m4", [first, killed])
    report = merge_with(tmp_path / "m4", [first, killed], RolloutConfig.from_identity, allow_partial=True)
    assert report.partial is not None and report.partial["missing_members"] == ["DroidLiftCube/default"]
    cell = json.loads((tmp_path / "m4" / "suite_summary.json").read_text())["per_task_tier"]
    assert cell["robosim_cosmos/DroidLiftCube-v0"]["default"]["episodes"] == 0
    (first / "suite_summary.json").unlink()
    with pytest.raises(RunFolderError, match=r"suite member #2 of 2 \(task and tier unknown"):
        merge(tmp_path / "m5", [first, killed])


def _reach_shard(tmp_path: Path, i: int, n: int, episodes: int, **kwargs) -> Path:
    out = tmp_path / f"s{i}"
    robosim_cosmos.rollout(REACH, "scripted", episodes=episodes, out=str(out), video=False, progress=False,
                           shard=f"{i}/{n}", **kwargs)
    return out


def test_a_missing_shard_is_refused_or_merged_marked_partial_and_resumes_whole(tmp_path, capsys):
    s0, s2 = _reach_shard(tmp_path, 0, 3, 6), _reach_shard(tmp_path, 2, 3, 6)
    assert json.loads((s0 / "run.json").read_text())["episodes"] == 6  # what the shard set out to run
    merged = tmp_path / "merged"
    assert main(["merge", str(merged), str(s0), str(s2)]) == 2
    err = capsys.readouterr().err
    assert "shard 1/3: no folder given" in err and "--allow-partial" in err and len(err.splitlines()) == 1
    assert not merged.exists()  # refused before anything was written
    assert main(["merge", str(merged), str(s0), str(s2), "--allow-partial"]) == 0
    captured = capsys.readouterr()
    assert "missing: shard 1/3: no folder given" in captured.err and "4 episodes" in captured.out
    summary = json.loads((merged / "summary.json").read_text())
    assert summary["partial"] == {"missing_shards": ["1/3"], "missing_episodes": [1, 4], "episode_count_known": True}
    assert summary["config"]["episodes"] == 6 and summary["overall"]["episodes"] == 4
    # the merged folder is the unsharded run: the same rollout runs exactly the missing episodes
    whole = robosim_cosmos.rollout(REACH, "scripted", episodes=6, out=str(merged), video=False, progress=False)
    assert sorted(r["episode"] for r in whole.results) == list(range(6))
    assert "partial" not in whole.summary and whole.summary["overall"]["episodes"] == 6


def test_a_sigkilled_shard_is_missing_episodes_until_its_command_runs_again(tmp_path, replay_chunk, sigkill_cli):
    n = 8
    s0 = tmp_path / "s0"
    robosim_cosmos.rollout(REACH, f"replay:{replay_chunk}", episodes=n, max_steps=150, out=str(s0), video=False,
                           progress=False, shard="0/2")
    s1 = tmp_path / "s1"
    cmd = ["rollout", "--env", REACH, "--policy", f"replay:{replay_chunk}", "--episodes", str(n), "--max-steps",
           "150", "--no-video", "--shard", "1/2", "--out", str(s1), "--quiet"]
    sigkill_cli(cmd, s1 / "results.jsonl")
    recorded = {r["episode"] for r in _lines(s1)}
    assert not (s1 / "summary.json").exists() and 1 <= len(recorded) < n // 2
    missing = sorted({1, 3, 5, 7} - recorded)
    with pytest.raises(RunFolderError, match=rf"shard 1/2 \({s1}\): {len(missing)} episodes? not recorded "
                                             rf"\({', '.join(map(str, missing))}\)"):
        merge(tmp_path / "m", [s0, s1])
    report = merge_with(tmp_path / "partial", [s0, s1], RolloutConfig.from_identity, allow_partial=True)
    assert report.partial is not None and report.partial["missing_episodes"] == missing
    assert main(cmd) == 0  # the killed shard's command again finishes it
    report = merge(tmp_path / "m", [s0, s1])
    assert report.episodes == n and report.partial is None and not report.missing
    assert json.loads((tmp_path / "m" / "summary.json").read_text())["partial"] is None


def test_an_empty_shard_says_so_and_merges(tmp_path, capsys):
    assert main(["rollout", "--env", REACH, "--policy", "scripted", "--episodes", "1", "--no-video", "--shard", "1/3",
                 "--out", str(tmp_path / "s1")]) == 0
    assert "nothing to run: shard 1/3 gets none of the 1 episode" in capsys.readouterr().err
    shards = [_reach_shard(tmp_path, 0, 3, 1), tmp_path / "s1", _reach_shard(tmp_path, 2, 3, 1)]
    report = merge(tmp_path / "m", shards)
    assert report.episodes == 1 and report.partial is None
    assert json.loads((tmp_path / "m" / "summary.json").read_text())["config"]["episodes"] == 1


def test_shards_of_different_splits_are_refused(tmp_path):
    a = _reach_shard(tmp_path / "a", 0, 2, 2)
    b = _reach_shard(tmp_path / "b", 1, 3, 2)
    with pytest.raises(RunFolderError, match=r"not a shard of the same run.*shard: 0/2 .* 1/3"):
        merge(tmp_path / "m", [a, b])


def test_an_identity_with_the_policys_own_open_loop_reads_back_for_merging():
    cfg = RolloutConfig(env_id=REACH, policy="openpi://127.0.0.1:8000", out="a", shard="1/2")
    assert cfg.identity()["open_loop_steps"] == "policy default"
    back = RolloutConfig.from_identity({**cfg.identity(), "episodes": 4}, "b")
    assert back.identity() == {**cfg.identity(), "shard": None} and back.episodes == 4


def test_a_negative_shard_is_the_one_line_shard_error(tmp_path, capsys):
    assert main(["rollout", "--env", REACH, "--policy", "scripted", "--no-video", "--shard", "-1/2",
                 "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("robosim-cosmos rollout: error: --shard must look like I/N") and "'-1/2'" in err
    assert not (tmp_path / "x").exists()
    with pytest.raises(SystemExit):
        main(["rollout", "--help"])
    assert "round-robinovertaskxtierxepisode" in "".join(capsys.readouterr().out.split())  # as the README says


# -- Ray --------------------------------------------------------------------------------------------

def test_a_ray_rollout_from_the_cli_prints_only_its_own_lines(tmp_path):
    """A fresh process starts its own local Ray: the notices Ray prints on every start land in
    ray.log, and stderr holds the episode lines, stdout the one summary line."""
    if os.environ.get("CI") != "true":
        pytest.importorskip("ray")
    out = tmp_path / "cli"
    done = subprocess.run([sys.executable, "-m", "robosim_cosmos.cli", "rollout", "--env", REACH, "--policy",
                           "scripted", "--episodes", "3", "--num-envs", "2", "--executor", "ray", "--no-video",
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    errs = done.stderr.splitlines()
    assert len(errs) == 3 and all(EPISODE_LINE.fullmatch(line) for line in errs), done.stderr
    assert done.stdout.splitlines() == [f"3/3 successful (rate 1.000, 95% CI Wilson [0.439, 1.000], "
                                        f"Beta [0.398, 0.994], 0 errors) -> {out / 'results.jsonl'}"]
    assert (out / "ray.log").is_file()
    assert [r["episode"] for r in _lines(out)] == [0, 1, 2]  # in episode order, whichever finished first


class _NotRay:
    """A TCP server on 127.0.0.1 that accepts connections and then says nothing or something
    that is not HTTP/2, as a port of another service would."""

    def __init__(self, reply: bytes | None) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.reply, self.held = reply, []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            if self.reply is not None:
                conn.sendall(self.reply)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.mark.parametrize("reply", [None, b"SSH-2.0-OpenSSH_9.2\r\n"], ids=["silent", "other-protocol"])
def test_a_port_that_is_no_ray_cluster_fails_at_once(tmp_path, capfd, reply):
    pytest.importorskip("ray")
    server = _NotRay(reply)
    start = time.monotonic()
    try:
        with pytest.raises(ConfigError, match=rf"cannot reach the Ray cluster at 127\.0\.0\.1:{server.port}: it "):
            robosim_cosmos.rollout(REACH, "scripted", out=str(tmp_path / "a"), video=False, progress=False,
                                   num_envs=2, executor="ray", ray_address=f"127.0.0.1:{server.port}")
    finally:
        server.close()
    assert time.monotonic() - start < 10  # ray.init would wait minutes, printing warnings
    assert capfd.readouterr() == ("", "")
    assert not (tmp_path / "a").exists()


def test_ray_address_in_the_environment_is_checked_too(tmp_path, monkeypatch):
    pytest.importorskip("ray")
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:1")  # what ray.init joins without --ray-address
    with pytest.raises(ConfigError, match=r"cannot reach the Ray cluster at 127\.0\.0\.1:1 \(RAY_ADDRESS\)"):
        robosim_cosmos.rollout(REACH, "scripted", out=str(tmp_path / "a"), video=False, progress=False,
                               num_envs=2, executor="ray")
    assert not (tmp_path / "a").exists()


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
    assert [r["episode"] for r in _lines(out)] == list(range(6))
    serial = json.loads((serial_cube / "summary.json").read_text())
    assert {k: result.summary[k] for k in STATISTICS} == {k: serial[k] for k in STATISTICS}


def test_a_killed_ray_actor_loses_and_duplicates_nothing(local_ray, tmp_path, capfd):
    out = tmp_path / "killed"
    killed: list[int] = []

    def kill_first_actor() -> None:  # its process, as the OOM killer would
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            results = out / "results.jsonl"
            if results.is_file() and results.read_text().strip():
                actor = local_ray.get_actor(f"robosim-worker-{os.getpid()}-0", namespace="robosim_cosmos")
                pid = local_ray.get(actor.pid.remote())
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.05)

    watcher = threading.Thread(target=kill_first_actor, daemon=True)
    watcher.start()
    result = robosim_cosmos.rollout(CUBE, "scripted", episodes=6, out=str(out), video=True, num_envs=2,
                                    executor="ray")  # not quiet: the driver's notes go to stderr
    watcher.join(5)
    assert killed, "the actor was never killed"
    episodes = sorted(r["episode"] for r in result.results)
    assert episodes == list(range(6)) and all(r["error"] is None and r["success"] for r in result.results)
    printed = capfd.readouterr()
    assert printed.out == ""  # Ray prints the raylet's paragraph on the driver's stdout
    notes = [line for line in printed.err.splitlines() if not EPISODE_LINE.fullmatch(line)]
    assert len(notes) == 1 and re.fullmatch(r"a Ray worker died running episode \d \(\w+\); running it again "
                                            r"on a new worker", notes[0]), printed.err
    assert "A worker died or was killed" in (out / "ray.log").read_text()
    for line in result.results:
        assert (out / line["video"]).is_file()  # videos came back from the actors to the driver


def test_ray_bad_input(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match=r"cannot reach the Ray cluster at 127\.0\.0\.1:1"):
        robosim_cosmos.rollout(REACH, "scripted", out=str(tmp_path / "a"), video=False, progress=False,
                               num_envs=2, executor="ray", ray_address="127.0.0.1:1")
    assert not (tmp_path / "a").exists()
    with pytest.raises(ConfigError, match=r"cannot reach the Ray cluster at nohost\.invalid:6379: "):
        robosim_cosmos.rollout(REACH, "scripted", out=str(tmp_path / "a"), video=False, progress=False,
                               num_envs=2, executor="ray", ray_address="nohost.invalid:6379")
    with pytest.raises(ConfigError, match="executor"):
        robosim_cosmos.rollout(REACH, "scripted", out=str(tmp_path / "b"), executor="slurm")
    monkeypatch.setitem(__import__("sys").modules, "ray", None)
    with pytest.raises(MissingDependencyError, match=r"robosim_cosmos\[ray\]"):
        robosim_cosmos.rollout(REACH, "scripted", out=str(tmp_path / "c"), video=False, progress=False,
                               num_envs=2, executor="ray")
