"""The rollout runner and its CLI: results, summary, videos, resume, errors, workers."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import robosim_cosmos
from robosim_cosmos.cli import main
from robosim_cosmos.envs import EVENTS, instruction_templates
from robosim_cosmos.policies import ActionChunk, Policy
from robosim_cosmos.rollout import beta_interval, read_results, rollout

ROOT = Path(__file__).resolve().parent.parent
CHUNK = ROOT / "examples" / "droid_chunk.json"
REACH = "robosim_cosmos/DroidReach-v0"
SHORT = 24  # steps per episode: 3 chunks of 8
HAS_SCRIPTED = importlib.util.find_spec("robosim_cosmos.policies.scripted") is not None

LINE_KEYS = {"env_id", "task", "instruction", "seed", "episode", "success", "steps", "sim_seconds",
             "wall_seconds", "policy_latency_s", "ik_error", "tracking_error", "video", "error",
             "instruction_tier", "progress", "events"}


def _cli_rollout(out: Path, episodes: int, *extra: str) -> int:
    return main(["rollout", "--env", REACH, "--policy", f"replay:{CHUNK}", "--episodes", str(episodes),
                 "--seed", "5", "--out", str(out), "--max-steps", str(SHORT), *extra])


def _check_line(line: dict, episode: int, seed: int) -> None:
    assert set(line) >= LINE_KEYS
    assert line["env_id"] == REACH and line["task"] == "reach"
    assert line["episode"] == episode and line["seed"] == seed + episode
    assert line["error"] is None and line["steps"] == SHORT
    assert line["sim_seconds"] == pytest.approx(SHORT / 15, abs=1e-6)
    assert line["instruction"] and isinstance(line["success"], bool)
    assert line["instruction_tier"] == "default" and 0.0 <= line["progress"] <= 1.0
    assert set(line["events"]) == set(EVENTS) and all(isinstance(n, int) for n in line["events"].values())
    assert set(line["policy_latency_s"]) == {"mean", "max"}
    for key in ("ik_error", "tracking_error"):
        assert set(line[key]) == {"position_mm", "rotation_deg"}
        assert line[key]["position_mm"]["max"] >= line[key]["position_mm"]["mean"] >= 0


def test_cli_rollout_writes_results_summary_and_videos(tmp_path, capsys):
    import imageio.v2 as imageio

    out = tmp_path / "run"
    assert _cli_rollout(out, 3) == 0
    assert "0/3 successful" in capsys.readouterr().out
    lines = [json.loads(t) for t in (out / "results.jsonl").read_text().splitlines()]
    assert len(lines) == 3
    for i, line in enumerate(sorted(lines, key=lambda r: r["episode"])):
        _check_line(line, i, 5)
        video = out / line["video"]
        assert video.name == f"reach_ep{i}_{'success' if line['success'] else 'failure'}.mp4"
        reader = imageio.get_reader(video)
        frames = [f for f in reader]
        reader.close()
        # one frame per step, the last one held 8 more times with the outcome; camera | prediction
        # side by side above a 36-pixel caption strip
        assert len(frames) == line["steps"] + 8
        assert frames[0].shape == (180 + 36, 2 * 320, 3)
    assert not list((out / "videos").glob("*.partial.mp4"))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["overall"]["episodes"] == 3 and summary["per_env"][REACH]["episodes"] == 3
    assert summary["overall"]["ci95"][0] == 0.0
    assert summary["overall"]["ci95_beta"] == list(beta_interval(0, 3)) and summary["adaptive"] is None
    assert [e["episode_ix"] for e in json.loads((out / "eval_info.json").read_text())["per_episode"]] == [0, 1, 2]
    # unset open-loop steps: the replay policy's default, 8, which the identity records
    assert summary["config"]["episodes"] == 3 and summary["config"]["open_loop_steps"] is None
    assert json.loads((out / "run.json").read_text())["identity"]["open_loop_steps"] == 8
    for pkg in ("numpy", "mujoco", "mink", "gymnasium", "robosim_cosmos"):
        assert summary["versions"][pkg]


def test_resume_after_interruption_and_crash(tmp_path):
    out = tmp_path / "run"
    assert _cli_rollout(out, 1, "--no-video") == 0
    assert len(read_results(out / "results.jsonl")) == 1
    # Simulate a crash in the middle of episode 1: a torn line and a half-written video.
    with (out / "results.jsonl").open("a") as fh:
        fh.write('{"env_id": "robosim_cosmos/DroidReach-v0", "episo')
    (out / "videos").mkdir(exist_ok=True)
    (out / "videos" / "reach_ep1.partial.mp4").write_bytes(b"\0" * 10)
    assert _cli_rollout(out, 3, "--no-video") == 0
    lines = [json.loads(t) for t in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(r["episode"] for r in lines) == [0, 1, 2]
    for line in lines:
        _check_line(line, line["episode"], 5)
    assert _cli_rollout(out, 3, "--no-video") == 0  # nothing left to do
    assert len((out / "results.jsonl").read_text().splitlines()) == 3
    assert json.loads((out / "summary.json").read_text())["overall"]["episodes"] == 3
    with pytest.raises(ValueError, match="seed"):
        rollout(REACH, f"replay:{CHUNK}", episodes=3, seed=99, out=out, max_steps=SHORT, video=False)


class NaNOnce(Policy):
    """Returns NaN in its first episode, valid chunks afterwards."""

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
        actions[:, 3] = actions[:, 7] = 1.0  # identity rotation in rot6d (normalized ~)
        if self.episodes == 1:
            actions[2, 4] = np.nan
        return ActionChunk(actions, self.layout)


def test_nan_policy_records_error_and_continues(tmp_path):
    res = rollout(REACH, NaNOnce(), episodes=2, seed=0, out=tmp_path, max_steps=16)
    first, second = sorted(res.results, key=lambda r: r["episode"])
    assert first["success"] is False and "non-finite" in first["error"] and first["steps"] == 0
    assert first["video"] is None
    assert second["error"] is None and second["steps"] == 16
    assert (tmp_path / second["video"]).is_file()
    assert res.summary["overall"]["errors"] == 1


def test_joint_position_execution_and_joint_replay(tmp_path):
    res = rollout(REACH, f"replay:{CHUNK}", episodes=1, out=tmp_path / "a", max_steps=16,
                  execution="joint_position", video=False)
    line = res.results[0]
    assert line["error"] is None and line["steps"] == 16 and line["ik_error"]["position_mm"]["max"] < 5.0

    from robosim_cosmos.kinematics.frames import DROID_HOME

    joint = tmp_path / "joint.json"
    joint.write_text(json.dumps([[*DROID_HOME.tolist(), 0.0]] * 8))
    res = rollout(REACH, f"replay:{joint}", episodes=1, out=tmp_path / "b", max_steps=16, video=False)
    line = res.results[0]
    assert line["error"] is None and line["steps"] == 16 and line["ik_error"] is None
    assert line["tracking_error"]["position_mm"]["max"] < 5.0


def test_num_envs_2_matches_serial(tmp_path):
    kw = dict(episodes=3, seed=11, max_steps=16, video=False)
    serial = robosim_cosmos.rollout(REACH, f"replay:{CHUNK}", out=tmp_path / "s", **kw)
    parallel = robosim_cosmos.rollout(REACH, f"replay:{CHUNK}", out=tmp_path / "p", num_envs=2, **kw)

    def key(res):
        return sorted((r["episode"], r["seed"], r["instruction"], r["steps"], r["success"], r["error"])
                      for r in res.results)

    assert key(serial) == key(parallel)
    assert len(key(parallel)) == 3


def test_workers_run_the_configured_instruction_tier(tmp_path):
    res = rollout(REACH, f"replay:{CHUNK}", episodes=3, out=tmp_path, max_steps=16, video=False, num_envs=2,
                  instruction_tier="vague", quiet=True)
    assert json.loads((tmp_path / "run.json").read_text())["identity"]["instruction_tier"] == "vague"
    vague = set(instruction_templates(REACH)["vague"])  # the reach templates have no placeholders
    assert len(res.results) == 3
    assert all(r["instruction_tier"] == "vague" and r["instruction"] in vague for r in res.results)


def test_events_and_progress_reach_the_lines_and_the_summary(tmp_path):
    # Straight down (+tz is down in cosmos_ee at home) for 60 steps: the gripper lands on the
    # table once and stays there; the cube is never lifted.
    down = tmp_path / "down.json"
    down.write_text(json.dumps([[0, 0, 1, 1, 0, 0, 0, 1, 0, 1]] * 16))
    res = rollout("robosim_cosmos/DroidLiftCube-v0", f"replay:{down}", episodes=2, out=tmp_path / "run",
                  max_steps=60, video=False, quiet=True)
    for line in res.results:
        assert line["error"] is None and line["success"] is False and line["progress"] == 0.0
        assert line["events"] == {**dict.fromkeys(EVENTS, 0), "table_hit": 1}
    assert [e.events["table_hit"] for e in res.episodes] == [1, 1]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary == res.summary
    assert summary["events"] == {**{name: {"episodes": 0, "count": 0} for name in EVENTS},
                                 "table_hit": {"episodes": 2, "count": 2}}
    assert summary["mean_progress"] == 0.0


@pytest.mark.skipif(not HAS_SCRIPTED, reason="robosim_cosmos.policies.scripted not available yet")
def test_scripted_rollout_with_predicted_video(tmp_path):
    import imageio.v2 as imageio

    res = rollout("robosim_cosmos/DroidCubeInBowl-v0", "scripted", episodes=1, out=tmp_path, max_steps=24,
                  policy_kwargs={"predict_video": True})
    line = res.results[0]
    assert line["error"] is None, line["error"]
    reader = imageio.get_reader(tmp_path / line["video"])
    frame = reader.get_data(3)
    reader.close()
    assert frame.shape[1] == 640
    assert frame[:180, 320:].std() > 5  # a predicted world frame, not the flat grey panel


@pytest.mark.skipif(not HAS_SCRIPTED, reason="robosim_cosmos.policies.scripted not available yet")
def test_gym_loop_example_runs():
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "gym_loop.py"), "--episodes", "1",
                           "--steps", "24"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "success=" in proc.stdout


def test_media_export_writes_the_readme_files(tmp_path):
    import imageio.v2 as imageio

    from robosim_cosmos.rollout.demo_media import GIF_EVERY, export_media

    res = rollout(REACH, f"replay:{CHUNK}", episodes=1, out=tmp_path / "run", max_steps=SHORT, quiet=True)
    video = tmp_path / "run" / res.results[0]["video"]
    mp4, gif, still = export_media(video, tmp_path / "media")
    assert [p.name for p in (mp4, gif, still)] == ["demo.mp4", "demo.gif", "demo_still.png"]
    assert mp4.read_bytes() == video.read_bytes()
    frames = res.results[0]["steps"] + 8  # every step, then the outcome held 8 frames
    reader = imageio.get_reader(gif)
    gif_frames = [f for f in reader]
    reader.close()
    assert len(gif_frames) == -(-frames // GIF_EVERY)
    assert gif_frames[0].shape[:2] == ((180 + 36) // 2, 320)
    assert imageio.imread(still).shape == (180 + 36, 640, 3)


class NaNSecondChunk(NaNOnce):
    """A good first chunk, then NaN: the episode ends with an error after frames were recorded."""

    def reset(self) -> None:
        self.calls = 0

    def get_actions(self, observation, instruction):
        self.calls += 1
        actions = np.zeros((8, 10), dtype=np.float32)
        actions[:, 3] = actions[:, 7] = 1.0
        if self.calls == 2:
            actions[0, 0] = np.nan
        return ActionChunk(actions, self.layout)


def test_an_errored_episode_video_says_error(tmp_path):
    res = rollout(REACH, NaNSecondChunk(), episodes=1, seed=0, out=tmp_path, max_steps=16)
    (line,) = res.results
    assert line["error"] and line["steps"] == 8
    assert line["video"] == "videos/reach_ep0_error.mp4" and (tmp_path / line["video"]).is_file()


def test_captions_grow_with_the_frame_so_they_stay_readable():
    from robosim_cosmos.rollout.video import CAPTION_HEIGHT, compose_frame

    def text_rows(frame: np.ndarray, top: int) -> int:
        strip = frame[top:]
        return int(np.count_nonzero((strip > 200).all(axis=2).any(axis=1)))

    small = compose_frame(np.zeros((180, 320, 3), np.uint8), None, ["place the cube", "chunk 0"])
    large = compose_frame(np.zeros((360, 640, 3), np.uint8), None, ["place the cube", "chunk 0"])
    assert small.shape == (180 + CAPTION_HEIGHT, 640, 3) and large.shape == (360 + 2 * CAPTION_HEIGHT, 1280, 3)
    assert text_rows(large, 360) >= 1.8 * text_rows(small, 180)
