"""``steps_after_success``: an episode that goes on past the first success (for demonstrations that
settle past the success boundary), the expert that keeps a lifted object up meanwhile, and the
option's checks and place in the run identity."""

from __future__ import annotations

import json

import pytest

from robosim_cosmos import rollout
from robosim_cosmos.errors import ConfigError
from robosim_cosmos.records.folder import RunFolder
from robosim_cosmos.rollout.config import RolloutConfig

REACH, LIFT = "robosim_cosmos/DroidReach-v0", "robosim_cosmos/DroidLiftCube-v0"
FAST = {"policy": "scripted", "video": False, "world_model_scoring": "off", "image_size": (32, 32),
        "room": "plain", "camera_rig": "sim-evals", "quiet": True}


def _steps(env_id: str, out, after: int, episodes: int = 2, **extra) -> list[tuple[bool, int]]:
    result = rollout(env_id, episodes=episodes, seed=5, out=str(out), steps_after_success=after, **FAST, **extra)
    return [(bool(r["success"]), int(r["steps"])) for r in sorted(result.results, key=lambda r: r["episode"])]


@pytest.mark.parametrize("env_id", [REACH, LIFT])
def test_the_episode_runs_n_steps_past_the_first_success_and_still_succeeds(tmp_path, env_id):
    ended = _steps(env_id, tmp_path / "on_success", 0)
    went_on = _steps(env_id, tmp_path / "after", 10)
    assert all(ok for ok, _ in ended + went_on)  # a lifted cube is still held up 10 steps later
    assert [n + 10 for _, n in ended] == [n for _, n in went_on]
    assert json.loads((tmp_path / "after" / "run.json").read_text())["identity"]["steps_after_success"] == 10


def test_the_time_limit_still_ends_the_episode(tmp_path):
    (succeeded, first), = _steps(LIFT, tmp_path / "a", 0, episodes=1)
    (still, steps), = _steps(LIFT, tmp_path / "b", 100, episodes=1, max_steps=first + 4)
    assert succeeded and steps == first + 4 and still


@pytest.mark.parametrize("bad", [-1, True, 2.5, "3"])
def test_a_bad_count_is_refused(bad):
    with pytest.raises(ConfigError, match="steps_after_success must be an integer >= 0"):
        RolloutConfig(env_id=REACH, policy="scripted", steps_after_success=bad)


def test_folders_written_before_the_option_resume_as_ending_on_success(tmp_path):
    cfg = RolloutConfig(env_id=REACH, policy="scripted", out=str(tmp_path))
    identity = cfg.identity()
    assert identity["steps_after_success"] == 0
    old = {k: v for k, v in identity.items() if k != "steps_after_success"}
    (tmp_path / "run.json").write_text(json.dumps({"identity": old}))
    folder = RunFolder(tmp_path)
    assert folder.holds(identity)
    assert not folder.holds(RolloutConfig(env_id=REACH, policy="scripted", steps_after_success=3).identity())
