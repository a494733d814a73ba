"""Error branches of the rollout runner (:mod:`robosim_cosmos.rollout`) and of its CLI.

Episodes are short (``max_steps=16``, no video) on ``DroidReach-v0``; misbehaving policies
are tiny :class:`~robosim_cosmos.policy_api.Policy` subclasses defined here.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from robosim_cosmos.cli import main
from robosim_cosmos.envs import ENV_IDS
from robosim_cosmos.errors import ConfigError, RunFolderError
from robosim_cosmos.policies.replay import ReplayPolicy
from robosim_cosmos.policy_api import ActionChunk, Layout, Policy
from robosim_cosmos.rollout import RolloutConfig, read_results, rollout
from robosim_cosmos.service.server import PolicyServer

REACH = "robosim_cosmos/DroidReach-v0"
STEPS = 16
FAST: dict[str, Any] = {"max_steps": STEPS, "video": False, "progress": False}
rollout_module: Any = importlib.import_module("robosim_cosmos.rollout")  # the package (a callable module)


# -- misbehaving policies ---------------------------------------------------------------------

class _Base(Policy):
    layout: Layout = "cosmos_ee_delta"
    chunk_size = 4
    needs_images = False

    def __init__(self) -> None:
        self.calls = 0

    def get_actions(self, observation: Mapping[str, Any], instruction: str) -> Any:
        self.calls += 1
        return self.answer()

    def answer(self) -> Any:
        return ActionChunk(np.zeros((4, 10), np.float32), "cosmos_ee_delta")


class NotAChunk(_Base):
    def answer(self) -> Any:
        return {"actions": np.zeros((4, 10), np.float32)}


class WrongLayout(_Base):
    layout: Layout = "joint_pos"  # declared, but it answers cosmos_ee_delta chunks

    def answer(self) -> Any:
        return ActionChunk(np.zeros((4, 10), np.float32), "cosmos_ee_delta")


class EmptyChunk(_Base):
    def answer(self) -> Any:
        return ActionChunk(np.zeros((0, 10), np.float32), "cosmos_ee_delta")


def _lines(out: Path) -> list[dict[str, Any]]:
    return [json.loads(t) for t in (out / "results.jsonl").read_text().splitlines()]


# -- configuration errors ---------------------------------------------------------------------

def test_unknown_rollout_option_lists_the_valid_ones(tmp_path, replay_chunk):
    with pytest.raises(ConfigError) as raised:
        rollout(REACH, f"replay:{replay_chunk}", out=tmp_path / "run", episode=2, videos=False)
    valid = list(RolloutConfig.option_names())
    assert str(raised.value) == f"unknown rollout option(s) ['episode', 'videos']; valid: {valid}"
    assert {"episodes", "seed", "out", "max_steps", "execution", "num_envs", "video"} <= set(valid)
    assert not (tmp_path / "run").exists()  # nothing was written


@pytest.mark.parametrize(
    "options, message",
    [
        ({"episodes": 0}, "episodes must be a positive integer, got 0"),
        ({"episodes": True}, "episodes must be a positive integer, got True"),
        ({"seed": "x"}, "seed must be an integer, got 'x'"),
        ({"execution": "bogus"}, "unknown execution 'bogus'; valid: ['native', 'joint_position']"),
        ({"max_steps": 0}, "max_steps must be a positive integer or None, got 0"),
        ({"open_loop_steps": -1}, "open_loop_steps must be a positive integer, got -1"),
        ({"num_envs": 1.5}, "num_envs must be a positive integer, got 1.5"),
        ({"policy": ""}, "policy must be a spec string, got ''"),
        ({"env_id": "robosim_cosmos/DroidFly-v0"}, "unknown env id 'robosim_cosmos/DroidFly-v0'; valid: ["),
    ],
    ids=["episodes-0", "episodes-bool", "seed-str", "execution", "max-steps-0", "open-loop", "num-envs",
         "policy", "env-id"],
)
def test_rollout_config_rejects_invalid_values(options: dict[str, Any], message: str):
    fields = {"env_id": REACH, "policy": "replay:x.json", **options}
    with pytest.raises(ConfigError) as raised:
        RolloutConfig(**fields)
    assert isinstance(raised.value, ValueError)
    assert str(raised.value).startswith(message)


def test_unknown_env_id_message_lists_every_id():
    with pytest.raises(ConfigError) as raised:
        RolloutConfig(env_id="nope", policy="replay:x.json")
    assert str(raised.value) == f"unknown env id 'nope'; valid: {sorted(ENV_IDS)}"
    assert "'robosim_cosmos/DroidReach-v0'" in str(raised.value)


def test_policy_object_with_several_workers_is_refused(tmp_path):
    policy = NotAChunk()
    with pytest.raises(ConfigError, match=r"^num_envs > 1 needs a policy spec string"):
        rollout(REACH, policy, out=tmp_path / "run", num_envs=2, **FAST)
    assert policy.calls == 0 and not (tmp_path / "run").exists()


# -- a misbehaving policy is recorded, and the run goes on ------------------------------------

@pytest.mark.parametrize(
    "policy_cls, error",
    [
        (NotAChunk, "PolicyError: get_actions must return an ActionChunk, got dict"),
        (WrongLayout, "PolicyError: policy declared layout 'joint_pos' but returned a 'cosmos_ee_delta' chunk"),
        (EmptyChunk, "PolicyError: policy returned an empty action chunk"),
    ],
    ids=["not-a-chunk", "wrong-layout", "empty"],
)
def test_bad_chunk_is_recorded_per_episode(tmp_path, policy_cls, error):
    policy = policy_cls()
    out = tmp_path / "run"
    result = rollout(REACH, policy, episodes=2, seed=7, out=out, **FAST)
    assert policy.calls == 2  # episode 0 failed on its first chunk, episode 1 still ran
    assert [(r["episode"], r["seed"], r["error"], r["success"], r["steps"], r["chunks"]) for r in result.results] == [
        (0, 7, error, False, 0, 0),
        (1, 8, error, False, 0, 0),
    ]
    assert _lines(out) == result.results
    overall = result.summary["overall"]
    assert (overall["episodes"], overall["successes"], overall["errors"]) == (2, 0, 2)
    assert result.summary["config"]["policy"] == f"<object {policy_cls.__name__}>"
    assert json.loads((out / "summary.json").read_text())["overall"] == overall


# -- the run folder ---------------------------------------------------------------------------

def test_resume_with_another_seed_is_refused(tmp_path, replay_chunk):
    out = tmp_path / "run"
    first = rollout(REACH, f"replay:{replay_chunk}", episodes=1, seed=0, out=out, **FAST)
    assert [r["error"] for r in first.results] == [None]
    before = (out / "results.jsonl").read_text()
    with pytest.raises(RunFolderError) as raised:
        rollout(REACH, f"replay:{replay_chunk}", episodes=2, seed=3, out=out, **FAST)
    assert isinstance(raised.value, ConfigError)
    assert str(raised.value) == (
        f"{out} holds another run (seed: 0 in the folder, 3 now); run with the folder's settings to resume it, "
        "use another --out (out=) for a new run, or --overwrite (overwrite=True) to delete its results and start over"
    )
    assert (out / "results.jsonl").read_text() == before


def test_torn_last_line_is_dropped_and_the_file_rewritten(tmp_path, replay_chunk):
    out = tmp_path / "run"
    spec = f"replay:{replay_chunk}"
    rollout(REACH, spec, episodes=1, seed=0, out=out, **FAST)
    path = out / "results.jsonl"
    good = path.read_text()
    with path.open("a") as fh:
        fh.write('{"env_id": "robosim_cosmos/DroidReach-v0", "episo')
    lines = read_results(path)
    assert lines == [json.loads(good)]
    assert path.read_text() == good  # rewritten: valid JSONL again, nothing else changed
    # A resume appends after the repaired file and runs only the missing episode.
    with path.open("a") as fh:
        fh.write('{"env_id": "robosim_cosmos/DroidReach-v0", "episo')
    result = rollout(REACH, spec, episodes=2, seed=0, out=out, **FAST)
    assert [(r["episode"], r["error"]) for r in _lines(out)] == [(0, None), (1, None)]
    assert result.results == _lines(out) and result.summary["overall"]["episodes"] == 2


def test_config_object_and_keywords_give_the_same_run(tmp_path, replay_chunk):
    spec = f"replay:{replay_chunk}"
    by_keywords = rollout(REACH, spec, episodes=2, seed=11, out=tmp_path / "kw", **FAST)
    cfg = RolloutConfig(env_id=REACH, policy=spec, episodes=2, seed=11, out=str(tmp_path / "cfg"),
                        max_steps=STEPS, video=False)
    by_config = rollout(cfg, progress=False)
    keys = ("episode", "seed", "instruction", "success", "steps", "chunks", "sim_seconds", "ik_error",
            "tracking_error", "clipped_values", "error")

    def numbers(res):
        return [{k: r[k] for k in keys} for r in res.results]

    assert numbers(by_config) == numbers(by_keywords)
    assert [r["steps"] for r in by_config.results] == [STEPS, STEPS]
    assert all(r["tracking_error"]["position_mm"]["max"] > 0 for r in by_config.results)
    expected = RolloutConfig(REACH, spec, episodes=2, seed=11, max_steps=STEPS, video=False).to_json()
    for res, out in ((by_keywords, "kw"), (by_config, "cfg")):
        assert res.summary["config"] == {**expected, "out": str(tmp_path / out)}
    # The callable module is the same entry point (a fresh folder: no resume short-cut).
    again = rollout_module(dataclasses.replace(cfg, out=str(tmp_path / "module")), progress=False)
    assert numbers(again) == numbers(by_config)


# -- the CLI ----------------------------------------------------------------------------------

def test_cli_project_error_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, replay_chunk):
    monkeypatch.delenv("ROBOSIM_COSMOS_DEBUG", raising=False)
    code = main(["rollout", "--env", "robosim_cosmos/DroidFly-v0", "--policy", f"replay:{replay_chunk}",
                 "--out", str(tmp_path / "run"), "--no-video"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(
        "robosim-cosmos rollout: error: unknown env id 'robosim_cosmos/DroidFly-v0'; valid: ['robosim_cosmos/"
    )
    assert not (tmp_path / "run").exists()


def test_cli_bad_execution_is_argparse_usage_error(tmp_path, capsys, replay_chunk):
    with pytest.raises(SystemExit) as raised:
        main(["rollout", "--env", REACH, "--policy", f"replay:{replay_chunk}", "--out", str(tmp_path),
              "--execution", "bogus"])
    assert raised.value.code == 2
    assert "argument --execution: invalid choice: 'bogus'" in capsys.readouterr().err


def test_cli_lets_a_non_project_bug_propagate(tmp_path, capsys, monkeypatch, replay_chunk):
    monkeypatch.delenv("ROBOSIM_COSMOS_DEBUG", raising=False)
    seen: list[RolloutConfig] = []

    def broken(cfg: RolloutConfig, *args: Any, **kwargs: Any):
        seen.append(cfg)
        raise RuntimeError("a bug, not a user error")

    # cli imports `from .rollout import rollout` inside the command: patch the package attribute.
    monkeypatch.setattr(rollout_module, "rollout", broken)
    with pytest.raises(RuntimeError, match=r"^a bug, not a user error$"):
        main(["rollout", "--env", REACH, "--policy", f"replay:{replay_chunk}", "--out", str(tmp_path / "run"),
              "--episodes", "3", "--seed", "4", "--no-video"])
    assert len(seen) == 1
    assert (seen[0].env_id, seen[0].episodes, seen[0].seed, seen[0].video) == (REACH, 3, 4, False)
    assert capsys.readouterr().err == ""


# -- exit codes when episodes errored -----------------------------------------------------------

class _FailsAfter(ReplayPolicy):
    """The example chunk for the first ``good`` requests, then an error for every one (a policy
    server whose model broke): the client's episodes end with an error."""

    def __init__(self, path: Path, good: int) -> None:
        super().__init__(str(path))
        self.calls, self.good = 0, good

    def get_actions(self, observation: Mapping[str, Any], instruction: str) -> ActionChunk:
        self.calls += 1
        if self.calls > self.good:
            raise RuntimeError("the model broke")
        return super().get_actions(observation, instruction)


def _rollout_args(port: int, out: Path, *extra: str) -> list[str]:
    return ["rollout", "--policy", f"cosmos3://127.0.0.1:{port}", "--out", str(out), "--max-steps", "8",
            "--no-video", "-q", *extra]


def test_cli_exits_4_when_some_episodes_errored_and_5_when_none_completed(tmp_path, capsys, replay_chunk):
    with PolicyServer(_FailsAfter(replay_chunk, good=1), port=0) as server:
        assert main(_rollout_args(server.port, tmp_path / "some", "--env", REACH, "--episodes", "2")) == 4
        out, err = capsys.readouterr()
        assert "/1 successful" in out and "1 errors" in out
        assert "1 of 2 episodes ended with an error (exit 4" in err
    with PolicyServer(_FailsAfter(replay_chunk, good=0), port=0) as server:
        assert main(_rollout_args(server.port, tmp_path / "none", "--env", REACH, "--episodes", "2")) == 5
        out, err = capsys.readouterr()
        assert "0/0 successful" in out and "2 errors" in out
        assert "every episode ended with an error (exit 5" in err
        lines = read_results(tmp_path / "none" / "results.jsonl")
        assert [bool(r["error"]) for r in lines] == [True, True]


def test_suite_exit_code_counts_every_member(tmp_path, capsys, replay_chunk):
    with PolicyServer(_FailsAfter(replay_chunk, good=1), port=0) as server:
        args = _rollout_args(server.port, tmp_path / "suite", "--tasks", "reach", "--tiers", "vague,default")
        assert main(args) == 4  # the first member's episode completed, the second member's errored
    assert "1 of 2 episodes ended with an error (exit 4" in capsys.readouterr().err


def test_score_exits_5_when_nothing_could_be_scored(monkeypatch, tmp_path, capsys):
    import robosim_cosmos.cli.score as score_command

    def nothing(*args: Any, **kwargs: Any) -> dict[str, Any]:
        return {"overall": None, "path": str(tmp_path / "score_forward_dynamics.json")}

    monkeypatch.setattr(score_command, "score_run", nothing)
    assert main(["score", str(tmp_path), "--policy", "diffusers:x", "--mode", "forward_dynamics"]) == 5
    assert "no frame or step could be scored (exit 5)" in capsys.readouterr().err
