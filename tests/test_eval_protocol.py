"""Evaluation protocol: the Beta credible interval, adaptive sampling (RoboLab's stopping rule) and
eval_info.json in lerobot-eval's shape.

Real rollouts of the scripted expert on ``DroidReach-v0`` (it succeeds on every seed within 24
steps; with ``max_steps=20`` only some seeds succeed, measured in the tests that need it), without
video unless a test needs one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import beta as beta_dist

from robosim_cosmos.cli import main
from robosim_cosmos.errors import ConfigError, InvalidInputError
from robosim_cosmos.metrics.adaptive import rule_met, stop_after
from robosim_cosmos.policy_api import ActionChunk, Policy
from robosim_cosmos.records.eval_info import eval_info
from robosim_cosmos.rollout import RolloutConfig, beta_interval, rollout

REACH = "robosim_cosmos/DroidReach-v0"
ROOT = Path(__file__).resolve().parent.parent


def _scipy_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    tail = (1 - level) / 2
    return float(beta_dist.ppf(tail, k + 1, n - k + 1)), float(beta_dist.ppf(1 - tail, k + 1, n - k + 1))


def _expected_stop(outcomes: list[bool | None], ci_width: float, min_episodes: int, cap: int) -> int:
    """The stopping point worked out from scipy directly: the first n whose completed outcomes
    number at least min_episodes with a Beta interval at most ci_width wide, else the cap."""
    for n in range(1, min(cap, len(outcomes)) + 1):
        done = [o for o in outcomes[:n] if o is not None]
        if len(done) >= min_episodes:
            lo, hi = _scipy_interval(sum(done), len(done))
            if hi - lo <= ci_width:
                return n
    return min(cap, len(outcomes))


def _lines(out: Path) -> list[dict[str, Any]]:
    return [json.loads(t) for t in (out / "results.jsonl").read_text().splitlines()]


def _summary(out: Path) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary


# -- the Beta interval ----------------------------------------------------------------------------

@pytest.mark.parametrize("k, n", [(0, 0), (0, 1), (1, 1), (0, 10), (10, 10), (3, 10), (8, 10), (1, 2),
                                  (50, 100), (0, 200), (200, 200), (137, 250)])
def test_beta_interval_matches_scipy(k, n):
    lo, hi = beta_interval(k, n)
    if n == 0:
        assert (lo, hi) == (0.0, 1.0)
        return
    assert (lo, hi) == pytest.approx(_scipy_interval(k, n), abs=1e-12)
    assert beta_interval(k, n, level=0.8) == pytest.approx(_scipy_interval(k, n, 0.8), abs=1e-12)
    assert 0.0 < lo < hi < 1.0  # a uniform prior never reaches 0 or 1
    assert beta_interval(n - k, n) == pytest.approx((1 - hi, 1 - lo), abs=1e-12)  # symmetric in k <-> n-k


def test_beta_interval_known_values_and_bad_input():
    assert beta_interval(10, 10) == pytest.approx((0.025 ** (1 / 11), 0.975 ** (1 / 11)), abs=1e-12)  # Beta(11, 1)
    assert beta_interval(0, 3) == pytest.approx((1 - 0.975 ** 0.25, 1 - 0.025 ** 0.25), abs=1e-12)  # Beta(1, 4)
    for k, n in [(-1, 3), (4, 3), (1, -1), (True, 3), (1.5, 3), (1, 2.0)]:
        with pytest.raises(InvalidInputError):
            beta_interval(k, n)
    for level in (0.0, 1.0, 1.5):
        with pytest.raises(InvalidInputError, match="level"):
            beta_interval(1, 2, level=level)


@given(n=st.integers(1, 400), frac=st.floats(0, 1), factor=st.integers(2, 6))
def test_beta_interval_holds_the_rate_and_narrows_with_n(n, frac, factor):
    k = round(frac * n)
    lo, hi = beta_interval(k, n)
    assert 0.0 < lo < hi < 1.0
    if 0 < k < n:
        assert lo <= k / n <= hi
    else:  # equal tails leave out the edge itself: 2.5 % of the posterior lies beside 0/n (n/n)
        assert (lo > 0.0 and hi > k / n) if k == 0 else (hi < 1.0 and lo < k / n)
    # the same rate over factor times the episodes: a strictly narrower interval
    lo2, hi2 = beta_interval(k * factor, n * factor)
    assert hi2 - lo2 < hi - lo


# -- the stopping rule, as a pure function ----------------------------------------------------------

def test_stop_rule_over_sequences_of_outcomes():
    # min_episodes first: a rule any interval satisfies still waits for min_episodes completed.
    assert not rule_met(3, 3, ci_width=1.0, min_episodes=4) and rule_met(4, 4, ci_width=1.0, min_episodes=4)
    assert not rule_met(0, 0, ci_width=1.0, min_episodes=1)
    assert stop_after([True] * 10, max_episodes=10, ci_width=1.0, min_episodes=4) == 4
    # All successes, width 0.5 over >= 3: Beta(n+1, 1) is first narrow enough at n = 5.
    widths = {n: np.subtract(*reversed(_scipy_interval(n, n))) for n in range(1, 8)}
    assert widths[4] > 0.5 >= widths[5]
    assert stop_after([True] * 20, max_episodes=20, ci_width=0.5, min_episodes=3) == 5
    assert stop_after([False] * 20, max_episodes=20, ci_width=0.5, min_episodes=3) == 5  # symmetric
    # Errored episodes (None) are recorded but not completed: they push the stop back one each.
    assert stop_after([None, True, None, True, True, True, True], max_episodes=20, ci_width=0.5, min_episodes=3) == 7
    # Order matters: the rule is checked after every episode, in episode order.
    mixed = [True, False] * 15
    front = [True] * 15 + [False] * 15
    for seq in (mixed, front):
        assert stop_after(seq, max_episodes=30, ci_width=0.45, min_episodes=5) == _expected_stop(seq, 0.45, 5, 30)
    assert stop_after(front, max_episodes=30, ci_width=0.45, min_episodes=5) < stop_after(
        mixed, max_episodes=30, ci_width=0.45, min_episodes=5)
    # The cap: a rate near 1/2 needs ~190 episodes for a 0.14-wide interval; 30 stop it first.
    assert stop_after(mixed, max_episodes=30, ci_width=0.14, min_episodes=10) == 30
    assert stop_after(mixed[:7], max_episodes=30, ci_width=0.14, min_episodes=10) == 7  # ran out of outcomes
    rng = np.random.default_rng(0)
    for _ in range(50):
        seq = [None if u < 0.1 else bool(u < 0.55) for u in rng.random(60)]
        for width, least in ((0.3, 10), (0.35, 3), (0.2, 1)):
            assert stop_after(seq, max_episodes=50, ci_width=width, min_episodes=least) == _expected_stop(
                seq, width, least, 50)


# -- adaptive runs ----------------------------------------------------------------------------------

def _adaptive(out: Path, **kw: Any):
    options: dict[str, Any] = dict(out=out, video=False, quiet=True)
    return rollout(REACH, "scripted", **{**options, **kw})


def test_all_successes_stop_where_the_interval_is_first_narrow_enough(tmp_path):
    out = tmp_path / "run"
    expected = _expected_stop([True] * 20, 0.5, 3, 20)
    assert expected == 5
    result = _adaptive(out, episodes_adaptive=20, ci_width=0.5, min_episodes=3)
    lines = _lines(out)
    assert [(r["episode"], r["seed"], r["success"], r["error"]) for r in lines] == [
        (i, i, True, None) for i in range(expected)]
    summary = _summary(out)
    assert summary == result.summary
    assert summary["adaptive"] == {"max_episodes": 20, "ci_width": 0.5, "min_episodes": 3, "stopped": True,
                                   "reason": "ci_width"}
    assert summary["overall"]["ci95_beta"] == pytest.approx(list(_scipy_interval(expected, expected)), abs=1e-12)
    assert summary["per_env"][REACH]["ci95_beta"] == summary["overall"]["ci95_beta"]
    assert summary["config"]["episodes_adaptive"] == 20 and summary["config"]["ci_width"] == 0.5

    # Again: the recorded episodes satisfy the rule, so nothing runs and nothing changes.
    before = (out / "results.jsonl").read_bytes()
    again = _adaptive(out, episodes_adaptive=20, ci_width=0.5, min_episodes=3)
    assert (out / "results.jsonl").read_bytes() == before and len(again.results) == expected
    assert again.summary["adaptive"]["reason"] == "ci_width"


def test_mixed_outcomes_stop_where_the_rule_first_holds_and_a_larger_cap_resumes(tmp_path, capsys):
    # What the expert does in 20 steps, seed by seed (the fast reaches succeed, the slow ones time out).
    measured = rollout(REACH, "scripted", episodes=30, max_steps=20, out=tmp_path / "fixed", video=False, quiet=True)
    outcomes = [r["success"] for r in sorted(measured.results, key=lambda r: r["episode"])]
    expected = _expected_stop(outcomes, 0.4, 5, 30)
    assert expected < 30 and 0 < sum(outcomes[:expected]) < expected  # a mixed record, stopped by the rule

    out = tmp_path / "adaptive"
    args = ["rollout", "--env", REACH, "--policy", "scripted", "--max-steps", "20", "--no-video", "--out", str(out),
            "--ci-width", "0.4", "--min-episodes", "5", "-q"]
    # First with a cap below the stopping point: it ends at the cap with the rule unmet.
    assert main([*args, "--episodes-adaptive", "8"]) == 0
    assert [r["episode"] for r in _lines(out)] == list(range(8))
    assert _summary(out)["adaptive"] == {"max_episodes": 8, "ci_width": 0.4, "min_episodes": 5, "stopped": False,
                                         "reason": "max_episodes"}
    assert "(reached the maximum of 8 episodes)" in capsys.readouterr().out
    # A larger cap resumes from episode 8 and stops at the first n where the rule holds.
    assert main([*args, "--episodes-adaptive", "30"]) == 0
    lines = _lines(out)
    assert [r["episode"] for r in lines] == list(range(expected))
    assert [r["success"] for r in lines] == outcomes[:expected]
    summary = _summary(out)
    assert summary["adaptive"]["stopped"] is True and summary["adaptive"]["reason"] == "ci_width"
    k = sum(outcomes[:expected])
    lo, hi = _scipy_interval(k, expected)
    assert summary["overall"]["ci95_beta"] == pytest.approx([lo, hi], abs=1e-12) and hi - lo <= 0.4
    lo_before, hi_before = _scipy_interval(sum(outcomes[:expected - 1]), expected - 1)
    assert hi_before - lo_before > 0.4  # one episode earlier the rule did not hold
    out_text = capsys.readouterr().out
    assert f"{k}/{expected} successful (rate {k / expected:.3f}, 95% CI Wilson [" in out_text
    assert f"Beta [{lo:.3f}, {hi:.3f}], 0 errors)" in out_text
    assert f"adaptive: {expected} episodes, Beta interval width {hi - lo:.3f} (stopped: width <= 0.4 over >= 5" \
           in out_text


def test_each_suite_member_stops_on_its_own(tmp_path):
    out = tmp_path / "suite"
    assert main(["rollout", "--tasks", "reach,DroidCubeInBowl", "--policy", "scripted", "--episodes-adaptive", "20",
                 "--ci-width", "0.5", "--min-episodes", "3", "--max-steps", "20", "--no-video", "--out", str(out),
                 "-q"]) == 0
    stopped = {}
    for name in ("DroidReach", "DroidCubeInBowl"):
        lines = _lines(out / name / "default")
        outcomes = [r["success"] for r in lines]
        assert [r["episode"] for r in lines] == list(range(len(lines)))
        assert len(lines) == _expected_stop(outcomes, 0.5, 3, 20)  # its own record decides where it stops
        assert _summary(out / name / "default")["adaptive"]["reason"] == "ci_width"
        stopped[name] = len(lines)
    assert stopped["DroidReach"] != stopped["DroidCubeInBowl"]
    suite = json.loads((out / "suite_summary.json").read_text())
    assert suite["overall"]["episodes"] == sum(stopped.values())
    assert suite["per_task"][REACH]["ci95_beta"] == pytest.approx(
        list(beta_interval(suite["per_task"][REACH]["successes"], stopped["DroidReach"])), abs=1e-12)


def test_workers_hand_out_episodes_lazily_and_keep_those_in_flight(tmp_path):
    out = tmp_path / "run"
    result = _adaptive(out, episodes_adaptive=40, ci_width=0.5, min_episodes=3, num_envs=2)
    episodes = sorted(r["episode"] for r in result.results)
    # Stops at 5 (all successes); the one other worker's episode in flight then still finishes.
    assert episodes == list(range(len(episodes))) and 5 <= len(episodes) <= 6
    assert all(r["success"] and r["error"] is None for r in result.results)
    assert result.summary["adaptive"]["reason"] == "ci_width" and result.summary["overall"]["episodes"] == len(episodes)


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("ROBOSIM_COSMOS_DEBUG", None)
    return env


def test_a_killed_adaptive_run_resumes_without_repeating_an_episode(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["rollout", "--env", REACH, "--policy", "scripted", "--episodes-adaptive", "40", "--ci-width", "0.3",
            "--min-episodes", "3", "--out", str(out)]  # with video: a few tenths of a second per episode
    expected = _expected_stop([True] * 40, 0.3, 3, 40)
    assert expected >= 8
    with (tmp_path / "stderr").open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "robosim_cosmos.cli", *args], cwd=ROOT, env=_env(),
                                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        try:
            results = out / "results.jsonl"
            deadline = time.monotonic() + 120
            while not (results.is_file() and results.read_text().count("\n") >= 2):
                assert proc.poll() is None, (tmp_path / "stderr").read_text()
                assert time.monotonic() < deadline, "no two episodes within 120 s"
                time.sleep(0.02)
            os.kill(proc.pid, signal.SIGTERM)
            assert proc.wait(30) == 143
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    recorded = _lines(out)
    assert 2 <= len(recorded) < expected
    assert [r["episode"] for r in recorded] == list(range(len(recorded)))
    summary = _summary(out)
    assert summary["interrupted"] == "SIGTERM"
    assert summary["adaptive"]["reason"] == "interrupted" and summary["adaptive"]["stopped"] is False

    assert main([*args, "-q"]) == 0
    lines = _lines(out)
    assert [r["episode"] for r in lines] == list(range(expected))  # unique, in order, none repeated
    assert lines[: len(recorded)] == recorded  # the episodes before the kill are kept as they were
    assert all(r["success"] and r["error"] is None and (out / r["video"]).is_file() for r in lines)
    summary = _summary(out)
    assert summary["adaptive"]["reason"] == "ci_width" and summary["interrupted"] is None
    assert not list((out / "videos").glob("*.partial.mp4"))

    # Once more: the rule holds over the record, nothing runs.
    capsys.readouterr()
    assert main(args) == 0
    assert len(_lines(out)) == expected
    assert "0 to run (the adaptive rule holds" in capsys.readouterr().err


@pytest.mark.parametrize("options, match", [
    ({"episodes_adaptive": 0}, "episodes_adaptive must be a positive integer"),
    ({"episodes_adaptive": 2.5}, "episodes_adaptive must be a positive integer"),
    ({"episodes_adaptive": True}, "episodes_adaptive must be a positive integer"),
    ({"episodes_adaptive": 20, "ci_width": 0.0}, r"ci_width must be a number in \(0, 1\]"),
    ({"episodes_adaptive": 20, "ci_width": 1.5}, r"ci_width must be a number in \(0, 1\]"),
    ({"episodes_adaptive": 20, "ci_width": "0.1"}, r"ci_width must be a number in \(0, 1\]"),
    ({"episodes_adaptive": 20, "min_episodes": 0}, "min_episodes must be a positive integer"),
    ({"episodes_adaptive": 20, "episodes": 5}, "give either episodes"),
    ({"ci_width": 0.2}, "ci_width only apply with episodes_adaptive"),
    ({"min_episodes": 3}, "min_episodes only apply with episodes_adaptive"),
    ({"episodes_adaptive": 5}, r"min_episodes \(10\) exceeds episodes_adaptive \(5\)"),
])
def test_bad_adaptive_options_are_config_errors(tmp_path, options, match):
    with pytest.raises(ConfigError, match=match):
        RolloutConfig(REACH, "scripted", out=str(tmp_path / "run"), **options)
    with pytest.raises(ConfigError, match=match):
        rollout(REACH, "scripted", out=tmp_path / "run", video=False, **options)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("extra, message", [
    (["--episodes", "3", "--episodes-adaptive", "20"],
     "give --episodes N (a fixed count) or --episodes-adaptive MAX (a maximum), not both"),
    (["--ci-width", "0.2"], "--ci-width and --min-episodes only apply with --episodes-adaptive MAX"),
    (["--episodes-adaptive", "0"], "episodes_adaptive must be a positive integer"),
    (["--episodes-adaptive", "20", "--ci-width", "2"], "ci_width must be a number in (0, 1]"),
    (["--episodes-adaptive", "20", "--min-episodes", "21"], "min_episodes (21) exceeds episodes_adaptive (20)"),
    (["--episodes-adaptive", "20", "--ci-width", "wide"], "argument --ci-width: invalid float value: 'wide'"),
])
def test_bad_adaptive_flags_exit_2_with_one_line(tmp_path, capsys, monkeypatch, extra, message):
    monkeypatch.delenv("ROBOSIM_COSMOS_DEBUG", raising=False)
    out = tmp_path / "run"
    argv = ["rollout", "--env", REACH, "--policy", "scripted", "--out", str(out), "--no-video", *extra]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors exit from parse_args
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not out.exists()


# -- eval_info.json ---------------------------------------------------------------------------------

EPISODE_KEYS = {"episode_ix": int, "sum_reward": float, "max_reward": float, "success": bool, "seed": int}
AGGREGATED_KEYS = ("avg_sum_reward", "avg_max_reward", "pc_success", "eval_s", "eval_ep_s")


def _check_shape(info: dict[str, Any], video: bool) -> None:
    """The keys and types lerobot's eval_policy writes (lerobot/scripts/eval.py; newer lerobot adds
    predicted_video_paths when it saved a world model's video)."""
    keys = {"per_episode", "aggregated"} | ({"video_paths"} if video else set())
    assert set(info) - {"predicted_video_paths"} == keys
    for entry in info["per_episode"]:
        assert set(entry) == set(EPISODE_KEYS)
        assert all(type(entry[k]) is t for k, t in EPISODE_KEYS.items()), entry
    assert set(info["aggregated"]) == set(AGGREGATED_KEYS)
    assert all(type(info["aggregated"][k]) is float for k in AGGREGATED_KEYS), info["aggregated"]


def test_eval_info_has_lerobots_shape_and_the_results_numbers(tmp_path):
    out = tmp_path / "run"
    result = rollout(REACH, "scripted", episodes=4, max_steps=20, out=out, quiet=True)  # with video
    info = json.loads((out / "eval_info.json").read_text())
    _check_shape(info, video=True)
    lines = sorted(_lines(out), key=lambda r: r["episode"])
    assert 0 < sum(r["success"] for r in lines) < 4  # both outcomes, so the averages say something
    assert info["per_episode"] == [
        {"episode_ix": r["episode"], "sum_reward": r["progress"], "max_reward": r["progress"],
         "success": r["success"], "seed": r["seed"]} for r in lines]
    agg = info["aggregated"]
    assert agg["pc_success"] == pytest.approx(100 * sum(r["success"] for r in lines) / 4)
    assert agg["pc_success"] == pytest.approx(100 * result.summary["overall"]["success_rate"])
    assert agg["avg_sum_reward"] == agg["avg_max_reward"] == pytest.approx(np.mean([r["progress"] for r in lines]))
    assert agg["eval_s"] == pytest.approx(sum(r["wall_seconds"] for r in lines))
    assert agg["eval_ep_s"] == pytest.approx(agg["eval_s"] / 4)
    assert info["video_paths"] == [r["video"] for r in lines]
    # the scripted expert's forecast is saved as a predicted video too (videos/pred_episode_<n>.mp4)
    assert info.get("predicted_video_paths", []) == [r["pred_video"] for r in lines if r.get("pred_video")]
    assert all((out / p).is_file() for p in info["video_paths"] + info.get("predicted_video_paths", []))
    assert not (out / "eval_info.json.tmp").exists()


class _NaNInSecond(Policy):
    """Holds still, except for a NaN in its second episode's first chunk (that episode errors)."""

    layout = "cosmos_ee_delta"
    embodiment = "droid"
    chunk_size = 8
    needs_images = False

    def __init__(self) -> None:
        self.episodes = 0

    def reset(self) -> None:
        self.episodes += 1

    def get_actions(self, observation, instruction):
        actions = np.zeros((8, 10), dtype=np.float32)
        actions[:, 3] = actions[:, 7] = 1.0
        if self.episodes == 2:
            actions[0, 0] = np.nan
        return ActionChunk(actions, self.layout)


def test_eval_info_leaves_errored_episodes_out(tmp_path):
    out = tmp_path / "run"
    rollout(REACH, _NaNInSecond(), episodes=3, max_steps=16, out=out, video=False, quiet=True)
    lines = sorted(_lines(out), key=lambda r: r["episode"])
    assert [r["error"] is not None for r in lines] == [False, True, False]
    info = json.loads((out / "eval_info.json").read_text())
    _check_shape(info, video=False)
    assert [e["episode_ix"] for e in info["per_episode"]] == [0, 2]
    assert info["aggregated"]["pc_success"] == 0.0
    assert info["aggregated"]["eval_s"] == pytest.approx(lines[0]["wall_seconds"] + lines[2]["wall_seconds"])
    # No completed episode at all: nothing to average (lerobot's NaN is not JSON).
    empty = eval_info([{**lines[1]}], video=False)
    assert empty == {"per_episode": [], "aggregated": {"avg_sum_reward": None, "avg_max_reward": None,
                                                       "pc_success": None, "eval_s": 0.0, "eval_ep_s": None}}
