"""Suite runs: one run folder per task × instruction tier, suite_summary.json over them, resume,
bad names, the CLI's --suite/--tasks/--tiers and the `envs` listing.

The scripted expert on the original tasks (DroidReach, DroidCubeInBowl: a few hundred ms an
episode), without video.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import robosim_cosmos
from robosim_cosmos.cli import main
from robosim_cosmos.envs import ENV_IDS, EVENTS, SUITES, TIERS, instruction_templates
from robosim_cosmos.errors import ConfigError, RunFolderError
from robosim_cosmos.metrics.success import beta_interval
from robosim_cosmos.policies.replay import ReplayPolicy
from robosim_cosmos.rollout import (
    RolloutInterrupted,
    format_table,
    parse_tiers,
    resolve_tasks,
    rollout_suite,
    wilson_interval,
)
from robosim_cosmos.rollout.suite import env_name

REACH = "robosim_cosmos/DroidReach-v0"
BOWL = "robosim_cosmos/DroidCubeInBowl-v0"
FOLDERS = {(REACH, "vague"): "DroidReach/vague", (REACH, "specific"): "DroidReach/specific",
           (BOWL, "vague"): "DroidCubeInBowl/vague", (BOWL, "specific"): "DroidCubeInBowl/specific"}
CELL_KEYS = {"episodes", "completed", "successes", "errors", "success_rate", "ci95", "ci95_beta", "clipped_values",
             "speed_limited_steps", "action_space_mismatches", "mean_progress", "events"}


def _lines(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(t) for t in (folder / "results.jsonl").read_text().splitlines()]


def _expected_cell(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """What a summary cell must say about these lines, computed from the lines alone."""
    k, n = sum(r["success"] for r in lines), len(lines)
    return {
        "episodes": n, "completed": n, "successes": k, "errors": 0, "success_rate": k / n,
        "ci95": list(wilson_interval(k, n)),
        "ci95_beta": list(beta_interval(k, n)),
        "mean_progress": pytest.approx(sum(r["progress"] for r in lines) / n),
        "events": {e: {"episodes": sum(r["events"][e] > 0 for r in lines), "count": sum(r["events"][e] for r in lines)}
                   for e in EVENTS},
    }


def _check_cell(cell: dict[str, Any], lines: list[dict[str, Any]]) -> None:
    assert set(cell) >= CELL_KEYS
    assert {k: cell[k] for k in _expected_cell(lines)} == _expected_cell(lines)


def _suite(out: Path, **kw: Any):
    options: dict[str, Any] = dict(tasks=["reach", "DroidCubeInBowl"], tiers="vague,specific", episodes=2,
                                   out=out, video=False, quiet=True)
    return rollout_suite("scripted", **{**options, **kw})


def test_a_suite_run_writes_a_folder_per_task_and_tier_and_sums_them_up(tmp_path, capsys):
    out = tmp_path / "suite"
    result = _suite(out, quiet=False)
    err = capsys.readouterr().err

    # One ordinary run folder per task × tier, each with its identity and two episodes.
    lines = {}
    for (env_id, tier), folder in FOLDERS.items():
        path = out / folder
        assert {p.name for p in path.iterdir()} >= {"run.json", "results.jsonl", "summary.json"}
        identity = json.loads((path / "run.json").read_text())["identity"]
        assert identity["env_id"] == env_id and identity["instruction_tier"] == tier
        lines[(env_id, tier)] = got = _lines(path)
        assert [(r["episode"], r["seed"]) for r in got] == [(0, 0), (1, 1)]
        for r in got:
            assert r["env_id"] == env_id and r["instruction_tier"] == tier and r["error"] is None
            assert 0.0 <= r["progress"] <= 1.0 and set(r["events"]) == set(EVENTS)
            assert r["progress"] == 1.0 if r["success"] else r["progress"] < 1.0
            assert json.loads((path / "summary.json").read_text())["events"].keys() == set(EVENTS)
    assert sorted(p.name for p in out.iterdir()) == ["DroidCubeInBowl", "DroidReach", "suite_summary.json"]

    # The scripted expert reads the scene only: identical runs in both tiers mean identical scenes,
    # while the instructions come from each tier's templates.
    for env_id in (REACH, BOWL):
        vague, specific = lines[(env_id, "vague")], lines[(env_id, "specific")]
        assert [(r["steps"], r["success"]) for r in vague] == [(r["steps"], r["success"]) for r in specific]
        assert all(a["instruction"] != b["instruction"] for a, b in zip(vague, specific, strict=True))
    assert {r["instruction"] for r in lines[(REACH, "vague")]} <= set(instruction_templates(REACH)["vague"])

    # suite_summary.json: every cell from its lines; tiers and tasks pool the cells, overall pools all.
    summary = json.loads((out / "suite_summary.json").read_text())
    assert summary == result.summary
    assert summary["suite"] is None and summary["tasks"] == [REACH, BOWL] and summary["tiers"] == ["vague", "specific"]
    for (env_id, tier), folder in FOLDERS.items():
        cell = summary["per_task_tier"][env_id][tier]
        _check_cell(cell, lines[(env_id, tier)])
        assert cell["folder"] == folder
    for tier in ("vague", "specific"):
        _check_cell(summary["per_tier"][tier], lines[(REACH, tier)] + lines[(BOWL, tier)])
        assert summary["per_tier"][tier]["episodes"] == sum(
            summary["per_task_tier"][e][tier]["episodes"] for e in (REACH, BOWL))
    for env_id in (REACH, BOWL):
        _check_cell(summary["per_task"][env_id], lines[(env_id, "vague")] + lines[(env_id, "specific")])
    _check_cell(summary["overall"], [r for ls in lines.values() for r in ls])
    assert summary["overall"]["episodes"] == 8
    assert summary["overall"]["successes"] == sum(c["successes"] for c in summary["per_tier"].values())
    assert summary["config"]["episodes"] == 2 and summary["config"]["out"] == str(out)
    assert "env_id" not in summary["config"] and summary["policy"]["spec"] == "scripted"
    assert summary["versions"]["robosim_cosmos"] and summary["interrupted"] is None
    assert result.runs[(BOWL, "specific")].results == lines[(BOWL, "specific")]

    # The table on stderr: task rows, tier columns, the pooled row and column.
    table = format_table(summary)
    assert table in err
    rows = table.splitlines()
    assert rows[0].split() == ["task", "vague", "specific", "all"]
    reach = summary["per_task_tier"][REACH]["vague"]
    assert rows[1].startswith("DroidReach ") and f"{reach['successes']}/2 {reach['success_rate']:.2f}" in rows[1]
    assert rows[-1].split()[0] == "all" and rows[-1].split()[-2] == f"{summary['overall']['successes']}/8"


def test_running_a_suite_again_resumes_every_member(tmp_path, capsys):
    out = tmp_path / "suite"
    _suite(out)
    before = {f: ((out / f / "results.jsonl").read_bytes(), (out / f / "results.jsonl").stat().st_mtime_ns)
              for f in FOLDERS.values()}
    again = _suite(out, quiet=False)
    err = capsys.readouterr().err
    assert err.count("2 episodes done, 0 to run") == 4
    assert "] reach ep" not in err and "] cube_in_bowl ep" not in err  # no episode ran
    for f, (data, mtime) in before.items():
        assert (out / f / "results.jsonl").read_bytes() == data
        assert (out / f / "results.jsonl").stat().st_mtime_ns == mtime
    assert again.summary["overall"]["episodes"] == 8

    # More episodes extend each member by exactly the new ones; earlier lines stay as they were.
    grown = _suite(out, episodes=3)
    for f, (data, _) in before.items():
        text = (out / f / "results.jsonl").read_bytes()
        assert text.startswith(data) and len(text.splitlines()) == 3
    assert grown.summary["overall"]["episodes"] == 12
    assert grown.summary["per_tier"]["vague"]["episodes"] == 6


def test_a_member_holding_another_run_is_refused_before_anything_runs(tmp_path):
    out = tmp_path / "suite"
    _suite(out, tiers="vague")
    snapshot = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != ".lock"}
    with pytest.raises(RunFolderError, match=r"DroidReach/vague holds another run \(seed: 0 in the folder, 3 now\)"):
        _suite(out, tiers="vague,specific", seed=3)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != ".lock"} == snapshot
    assert not (out / "DroidReach" / "specific").exists()


class _Interrupting(ReplayPolicy):
    """A replay policy that sends its own process SIGINT in the episode ``stop_at`` (counting
    every episode it starts); None never stops."""

    def __init__(self, path: Path, stop_at: int | None) -> None:
        super().__init__(path)
        self.stop_at, self.started = stop_at, 0

    def reset(self) -> None:
        super().reset()
        self.started += 1
        if self.started == self.stop_at:
            os.kill(os.getpid(), signal.SIGINT)


def test_an_interrupted_suite_sums_up_what_finished_and_resumes(tmp_path, replay_chunk):
    out = tmp_path / "suite"
    kw: dict[str, Any] = dict(tasks=[REACH], tiers="all", episodes=2, out=out, video=False, max_steps=8, quiet=True)
    with pytest.raises(RolloutInterrupted) as caught:
        rollout_suite(_Interrupting(replay_chunk, stop_at=4), **kw)  # the second episode of the default tier
    exc = caught.value
    assert exc.exit_code == 130 and "DroidReach/default" in str(exc) and "suite_summary.json" in str(exc)
    summary = json.loads((out / "suite_summary.json").read_text())
    assert exc.summary == summary and summary["interrupted"] == "SIGINT"
    cells = summary["per_task_tier"][REACH]
    assert [cells[t]["episodes"] for t in TIERS] == [2, 1, 0]
    assert summary["overall"]["episodes"] == 3

    resumed = rollout_suite(_Interrupting(replay_chunk, stop_at=None), **kw)
    assert [len(_lines(out / "DroidReach" / t)) for t in TIERS] == [2, 2, 2]
    assert resumed.summary["overall"]["episodes"] == 6 and resumed.summary["interrupted"] is None


def test_a_named_suite_runs_each_of_its_tasks(tmp_path):
    result = rollout_suite("scripted", suite="droid-basics", episodes=1, out=tmp_path, video=False, quiet=True)
    names = [p.name for p in sorted(tmp_path.iterdir()) if p.is_dir()]
    assert names == sorted(env_name(e) for e in SUITES["droid-basics"])
    assert names == ["DroidCubeInBowl", "DroidLiftCube", "DroidPushCube", "DroidReach"]
    assert all((tmp_path / n / "default" / "results.jsonl").is_file() for n in names)
    assert result.summary["suite"] == "droid-basics" and result.summary["tiers"] == ["default"]
    assert result.summary["tasks"] == list(SUITES["droid-basics"])
    assert result.summary["overall"]["episodes"] == 4
    assert result.summary["overall"]["successes"] == sum(c["successes"] for c in result.summary["per_task"].values())


def test_same_seed_same_scene_in_every_tier():
    poses = {}
    for tier in TIERS:
        env = gym.make(BOWL, obs_mode="state", instruction_tier=tier)
        try:
            _, info = env.reset(seed=7)
            state = env.unwrapped.task_state().task
            poses[tier] = (state.objects["cube"].pos.copy(), state.objects["bowl"].pos.copy(), info["instruction"])
        finally:
            env.close()
    for tier in TIERS[1:]:
        np.testing.assert_array_equal(poses[tier][0], poses["vague"][0])
        np.testing.assert_array_equal(poses[tier][1], poses["vague"][1])
    assert len({p[2] for p in poses.values()}) == 3


# -- names ------------------------------------------------------------------------------------

def test_task_names_and_tiers_resolve():
    assert resolve_tasks("reach,DroidCubeInBowl") == (REACH, BOWL)
    assert resolve_tasks([BOWL, "cube_in_bowl", " reach"]) == (BOWL, REACH)  # duplicates dropped
    assert parse_tiers("all") == TIERS == ("vague", "default", "specific")
    assert parse_tiers("specific,vague") == ("vague", "specific")
    assert parse_tiers(["default"]) == ("default",)


@pytest.mark.parametrize(("kwargs", "names"), [
    ({"suite": "nope"}, ["droid-basics", "droid-tabletop"]),
    ({"tasks": ["reach", "nope"]}, ["DroidReach", "reach", "DroidBlockInBowl", "block_in_bowl"]),
    ({"tasks": "reach", "tiers": "loud"}, ["vague", "default", "specific", "all"]),
    ({"tasks": "reach", "tiers": "vague,loud"}, ["vague", "default", "specific"]),
    ({"tasks": "reach", "bogus": 1}, ["episodes", "seed"]),
    ({"tasks": "reach", "instruction": "wave"}, ["--env"]),
    ({}, ["suite=", "tasks="]),
    ({"suite": "droid-basics", "tasks": "reach"}, ["exactly one"]),
])
def test_bad_names_are_config_errors_naming_the_valid_ones(tmp_path, kwargs, names):
    with pytest.raises(ConfigError) as caught:
        rollout_suite("scripted", out=tmp_path / "suite", **kwargs)
    assert all(name in str(caught.value) for name in names), str(caught.value)
    assert not (tmp_path / "suite").exists()


def test_a_bad_tier_in_a_single_run_config_is_a_config_error():
    tiers = r"\['vague', 'default', 'specific'\]"
    with pytest.raises(ConfigError, match=rf"unknown instruction tier 'loud'; valid: {tiers}"):
        robosim_cosmos.rollout(REACH, "scripted", instruction_tier="loud")


# -- the command line ---------------------------------------------------------------------------

def _ro(out: Path, *extra: str) -> list[str]:
    return ["rollout", "--policy", "scripted", "--episodes", "1", "--no-video", "--out", str(out), *extra]


@pytest.mark.parametrize(("extra", "says"), [
    (["--suite", "nope"], "unknown suite 'nope'; valid: ['droid-basics', 'droid-tabletop']"),
    (["--tasks", "reach,nope"], "unknown task 'nope'; valid: an env id"),
    (["--suite", "droid-tabletop", "--tiers", "loud"], "unknown instruction tier 'loud'; valid: "
                                                        "['vague', 'default', 'specific'] or 'all'"),
    (["--env", REACH, "--tiers", "vague,loud"], "unknown instruction tier 'loud'"),
    (["--env", "DroidReach", "--tiers", "all"], "unknown env id 'DroidReach'; valid:"),
    (["--suite", "droid-tabletop", "--instruction", "wave"], "a suite run takes no instruction"),
    ([], "one of the arguments --env --suite --tasks is required"),
    (["--env", REACH, "--suite", "droid-basics"], "argument --suite: not allowed with argument --env"),
])
def test_cli_bad_suite_task_or_tier_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, extra, says):
    monkeypatch.delenv("ROBOSIM_COSMOS_DEBUG", raising=False)
    out = tmp_path / "run"
    try:
        code = main(_ro(out, *extra))
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("robosim-cosmos rollout: error: "), err
    assert says in err
    assert not out.exists()


def test_cli_suite_run_prints_the_table_and_the_pooled_line(tmp_path, capsys):
    out = tmp_path / "suite"
    assert main(_ro(out, "--tasks", "reach,cube_in_bowl", "--tiers", "vague,default")) == 0
    captured = capsys.readouterr()
    summary = json.loads((out / "suite_summary.json").read_text())
    overall = summary["overall"]
    assert captured.out.startswith(f"{overall['successes']}/4 successful (rate ")
    assert captured.out.rstrip().endswith(f"-> {out / 'suite_summary.json'}")
    assert format_table(summary) in captured.err
    assert {(e, t) for e in summary["per_task_tier"] for t in summary["per_task_tier"][e]} == {
        (REACH, "vague"), (REACH, "default"), (BOWL, "vague"), (BOWL, "default")}


def test_cli_env_with_several_tiers_is_a_one_task_suite_and_one_tier_a_plain_run(tmp_path, capsys):
    suite = tmp_path / "tiers"
    assert main(_ro(suite, "--env", REACH, "--tiers", "all", "-q")) == 0
    assert sorted(p.name for p in (suite / "DroidReach").iterdir()) == sorted(TIERS)
    assert json.loads((suite / "suite_summary.json").read_text())["overall"]["episodes"] == 3
    assert capsys.readouterr().err == ""  # -q: no table, no progress

    plain = tmp_path / "plain"
    assert main(_ro(plain, "--env", REACH, "--tiers", "specific", "-q")) == 0
    assert (plain / "results.jsonl").is_file() and not (plain / "suite_summary.json").exists()
    assert _lines(plain)[0]["instruction_tier"] == "specific"


def test_cli_envs_lists_every_tier_template_and_the_suites(capsys):
    assert main(["envs"]) == 0
    out = capsys.readouterr().out
    for env_id, task in ENV_IDS.items():
        assert f"{env_id}  (task {task}, " in out
    block = out.split(f"{BOWL}  (task cube_in_bowl, ")[1].split("robosim_cosmos/")[0]
    for tier, templates in instruction_templates(BOWL).items():
        assert f"  {tier}:\n" in block
        for text in templates:
            assert f"    {text}\n" in block
    for name, members in SUITES.items():
        assert f"suite {name}  ({len(members)} tasks" in out

    assert main(["envs", "--suite", "droid-basics"]) == 0
    out = capsys.readouterr().out
    listed = [line.split()[0] for line in out.splitlines() if line.startswith("robosim_cosmos/")]
    assert listed == list(SUITES["droid-basics"])
    assert "suite droid-tabletop" not in out


def test_cli_envs_unknown_suite_is_exit_2(capsys, monkeypatch):
    monkeypatch.delenv("ROBOSIM_COSMOS_DEBUG", raising=False)
    assert main(["envs", "--suite", "nope"]) == 2
    assert capsys.readouterr().err == ("robosim-cosmos envs: error: unknown suite 'nope'; "
                                       "valid: ['droid-basics', 'droid-tabletop']\n")
