"""World-model scoring: frame metrics on known pairs, the three sanity properties (a perfect
predictor, a delayed one, an oracle inverse model), closed loop with the tiny Cosmos 3 pipeline,
offline scoring of saved chunks, trajectory metrics, and bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import robosim_cosmos
from robosim_cosmos.analysis.score import score_run
from robosim_cosmos.cli import main
from robosim_cosmos.envs import register_envs
from robosim_cosmos.errors import ConfigError, RunFolderError
from robosim_cosmos.metrics.images import PSNR_CAP_DB, score_frame
from robosim_cosmos.metrics.trajectory import sparc, trajectory_metrics
from robosim_cosmos.metrics.world_model import View
from robosim_cosmos.observations import CAMERAS
from robosim_cosmos.policies.conditioning import conditioning_image
from robosim_cosmos.policies.scripted import ScriptedPolicy
from robosim_cosmos.policy_api import ActionChunk, Policy
from robosim_cosmos.records.chunks import load_episode, saved_episodes
from robosim_cosmos.rollout import RolloutConfig, run_episode

CUBE = "robosim_cosmos/DroidCubeInBowl-v0"
C1 = (0.01 * 255) ** 2  # SSIM's luminance constant for 8-bit data


# -- frame metrics on known pairs --------------------------------------------------------------

def _flat(value: int, shape=(24, 32, 3)) -> np.ndarray:
    return np.full(shape, value, dtype=np.uint8)


def test_identical_frames_score_the_cap_and_ssim_one():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    mask = np.zeros((40, 60), bool)
    mask[10:20, 5:25] = True
    score = score_frame(frame, frame.copy(), mask)
    assert score.psnr == PSNR_CAP_DB and score.robot_psnr == PSNR_CAP_DB
    assert score.ssim == pytest.approx(1.0, abs=1e-9) and score.robot_ssim == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("offset", [1, 5, 40])
def test_psnr_of_a_constant_offset_is_20_log10_of_range_over_offset(offset):
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 200, (30, 30, 3), dtype=np.uint8)
    score = score_frame(frame, frame + np.uint8(offset))
    assert score.psnr == pytest.approx(20 * math.log10(255 / offset), abs=1e-9)


@pytest.mark.parametrize(("a", "b"), [(100, 100), (100, 120), (30, 200), (0, 255)])
def test_ssim_of_flat_frames_is_the_luminance_term(a, b):
    expected = (2 * a * b + C1) / (a * a + b * b + C1)
    assert score_frame(_flat(a), _flat(b)).ssim == pytest.approx(expected, rel=1e-5)


def test_robot_scores_look_only_at_the_masked_pixels():
    reference = _flat(100, (30, 40, 3))
    predicted = reference.copy()
    predicted[:, 20:] = 160  # the right half is wrong
    left = np.zeros((30, 40), bool)
    left[:, :10] = True  # a robot far from the wrong half
    right = np.zeros((30, 40), bool)
    right[:, 25:] = True
    good, bad = score_frame(reference, predicted, left), score_frame(reference, predicted, right)
    assert good.robot_psnr == PSNR_CAP_DB and bad.robot_psnr == pytest.approx(20 * math.log10(255 / 60))
    flat_pair = (2 * 100 * 160 + C1) / (100**2 + 160**2 + C1)  # both halves flat: the luminance term alone
    assert good.robot_ssim == pytest.approx(1.0) and bad.robot_ssim == pytest.approx(flat_pair, rel=1e-5)
    assert good.psnr == bad.psnr  # the whole-frame scores do not depend on the mask
    empty = score_frame(reference, predicted, np.zeros((30, 40), bool))
    assert empty.robot_psnr is None and empty.robot_ssim is None


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 60))
def test_more_noise_never_scores_better(seed, amplitude):
    rng = np.random.default_rng(seed)
    frame = rng.integers(60, 190, (24, 24, 3)).astype(np.uint8)
    noise = rng.integers(-amplitude, amplitude + 1, frame.shape)
    small = np.clip(frame + noise // 2, 0, 255).astype(np.uint8)
    large = np.clip(frame + noise, 0, 255).astype(np.uint8)
    assert score_frame(frame, small).psnr >= score_frame(frame, large).psnr - 1e-9


def test_bad_frames_are_refused():
    with pytest.raises(ValueError, match="differ in size"):
        score_frame(_flat(1), _flat(1, (24, 30, 3)))
    with pytest.raises(ValueError, match="uint8"):
        score_frame(_flat(1).astype(np.float32), _flat(1))


# -- views --------------------------------------------------------------------------------------

def test_views_compose_with_the_policies_own_code():
    rng = np.random.default_rng(2)
    images = {cam: rng.integers(0, 256, (18, 32, 3), dtype=np.uint8) for cam in CAMERAS}
    concat = View("concat_view", CAMERAS[0])
    assert np.array_equal(concat.compose(images), conditioning_image(images, "concat_view"))
    assert concat.label == "concat_view" and concat.cameras == CAMERAS
    masks = {cam: np.zeros((18, 32), bool) for cam in CAMERAS}
    masks["wrist_image_left"][:] = True
    composite = concat.compose_mask(masks)
    assert composite.shape == (27, 32) and composite[:18].all() and not composite[18:].any()
    ego = View("ego_view", "exterior_image_2_left")
    assert np.array_equal(ego.compose(images), images["exterior_image_2_left"])
    assert ego.label == "ego_view:exterior_image_2_left"


# -- sanity: perfect and delayed predictors in closed loop -------------------------------------

class _Delayed(Policy):
    """The scripted expert whose predicted video lags ``delay`` steps behind the simulator's."""

    layout = "cosmos_ee_delta"
    needs_images = False
    predicts_video = True

    def __init__(self, expert: ScriptedPolicy, delay: int) -> None:
        self.expert, self.delay = expert, delay
        self.chunk_size = expert.chunk_size

    def reset(self) -> None:
        self.expert.reset()

    def set_execution_horizon(self, steps: int) -> None:
        self.expert.set_execution_horizon(steps)

    def get_actions(self, observation, instruction):
        chunk = self.expert.get_actions(observation, instruction)
        video = chunk.predicted_video
        assert video is not None
        lagged = video[np.maximum(np.arange(len(video)) - self.delay, 0)]
        return ActionChunk(chunk.actions, chunk.layout, chunk.embodiment, lagged, chunk.info)


@pytest.fixture(scope="module")
def cube_env():
    register_envs()
    env = gym.make(CUBE, action_mode="cosmos", obs_mode="state")
    yield env
    env.close()


def _episode(env, policy, tmp_path, scoring="full"):
    cfg = RolloutConfig(CUBE, "scripted", out=str(tmp_path), video=False, world_model_scoring=scoring)
    return run_episode(env, policy, cfg, 0, tmp_path)


def test_the_simulator_prediction_is_a_perfect_world_model(cube_env, tmp_path):
    result = _episode(cube_env, ScriptedPolicy(cube_env, predict_video=True), tmp_path)
    wm = result.world_model
    assert result.success and wm is not None and wm["view"] == "ego_view:exterior_image_1_left"
    assert wm["frames"] == result.steps  # every executed step was scored
    for name in ("psnr", "robot_psnr"):
        assert wm[name] == {"mean": PSNR_CAP_DB, "min": PSNR_CAP_DB}
    for name in ("ssim", "robot_ssim"):
        assert wm[name]["min"] == pytest.approx(1.0, abs=1e-9)
    assert wm["per_step"]["step"] == list(range(1, 9)) and sum(wm["per_step"]["frames"]) == result.steps
    assert len(wm["per_chunk"]) == result.chunks


def test_a_delayed_predictor_scores_monotonically_worse(cube_env, tmp_path):
    expert = ScriptedPolicy(cube_env, predict_video=True)
    expert.set_execution_horizon(8)
    scores = []
    for delay in (0, 1, 2, 4):
        wm = _episode(cube_env, _Delayed(expert, delay), tmp_path / str(delay)).world_model
        assert wm is not None
        scores.append((wm["psnr"]["mean"], wm["ssim"]["mean"], wm["robot_psnr"]["mean"], wm["robot_ssim"]["mean"]))
    assert scores[0] == pytest.approx((PSNR_CAP_DB, 1.0, PSNR_CAP_DB, 1.0))
    for worse, better in zip(scores[1:], scores[:-1], strict=True):
        assert all(w < b for w, b in zip(worse, better, strict=True)), (worse, better)


def test_frames_scoring_skips_the_robot_pixels_and_off_skips_everything(cube_env, tmp_path):
    frames = _episode(cube_env, ScriptedPolicy(cube_env, predict_video=True), tmp_path / "f", "frames").world_model
    assert frames is not None and frames["robot_psnr"] is None and frames["psnr"]["mean"] == PSNR_CAP_DB
    off = _episode(cube_env, ScriptedPolicy(cube_env, predict_video=True), tmp_path / "o", "off")
    assert off.world_model is None


# -- rollouts: results, summary, prediction video, saved chunks ---------------------------------

@pytest.fixture(scope="module")
def scripted_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "cube"
    robosim_cosmos.rollout(CUBE, "scripted", episodes=1, out=str(out), progress=False, save_chunks=True,
                           open_loop_steps=6)
    return out


def test_a_rollout_records_scores_trajectory_prediction_video_and_chunks(scripted_run):
    line = json.loads((scripted_run / "results.jsonl").read_text().splitlines()[0])
    summary = json.loads((scripted_run / "summary.json").read_text())
    assert line["success"] and line["world_model"]["psnr"]["mean"] == PSNR_CAP_DB
    assert summary["world_model"]["per_step"]["step"] == [1, 2, 3, 4, 5, 6]
    assert summary["world_model"]["frames"] == line["steps"]
    assert line["pred_video"] == "videos/pred_episode_0.mp4" and (scripted_run / line["pred_video"]).is_file()
    traj = line["trajectory"]
    assert 0.3 < traj["path_length_m"] < 3.0 and 0 < traj["mean_speed_m_s"] <= traj["max_speed_m_s"] < 2.0
    assert traj["time_to_success_s"] == pytest.approx(line["sim_seconds"]) and traj["sparc"] < 0
    assert summary["trajectory"]["path_length_m"] == pytest.approx(traj["path_length_m"])
    import imageio.v2 as imageio

    pred = imageio.mimread(scripted_run / line["pred_video"], memtest=False)
    assert len(pred) == line["steps"] and pred[0].shape == (180, 320, 3)

    ep = load_episode(saved_episodes(scripted_run)[0])
    assert line["saved_chunks"] == "chunks/episode_0.npz"
    assert ep.layout == "cosmos_ee_delta" and ep.embodiment == "droid" and ep.cameras == CAMERAS
    assert int(ep.rows.sum()) == line["steps"] and ep.rows.max() == 6
    assert ep.images.shape[1:] == (7, 3, 180, 320, 3) and ep.robot_masks.shape[1:] == (7, 3, 180, 320)
    assert 0.02 < ep.robot_masks[0, 0, 0].mean() < 0.5  # the arm covers part of the exterior view
    # a chunk starts where the last one ended
    last = int(ep.rows[0])
    assert np.array_equal(ep.images[1, 0], ep.images[0, last])
    assert np.allclose(ep.ee_start[1], ep.ee_after[0, last - 1])


# -- offline scoring of saved chunks ------------------------------------------------------------

class _Oracle(Policy):
    """Answers forward dynamics with the saved frames and inverse dynamics with the executed rows."""

    layout = "cosmos_ee_delta"
    chunk_size = 16

    def __init__(self, run: Path, embodiment: str = "droid", shift: float = 0.0) -> None:
        self.ep = load_episode(saved_episodes(run)[0])
        self.embodiment, self.shift = embodiment, shift
        self.calls = 0

    def get_actions(self, observation, instruction):
        raise AssertionError("not used")

    def forward_dynamics(self, observation, instruction, actions):
        c = self.calls
        self.calls += 1
        assert np.array_equal(observation["exterior_image_1_left"], self.ep.images[c, 0, 0])
        assert np.array_equal(actions, self.ep.actions[c, : len(actions)])
        video = self.ep.images[c, : len(actions) + 1, 0]
        return ActionChunk(np.zeros((0, 10), np.float32), "cosmos_ee_delta", predicted_video=video)

    def inverse_dynamics(self, video, instruction):
        c = self.calls
        self.calls += 1
        assert video.shape == (self.chunk_size + 1, 180, 320, 3)
        actions = np.zeros((self.chunk_size, 10), np.float32)
        rows = int(self.ep.rows[c])
        actions[:rows] = self.ep.actions[c, :rows]
        actions[:rows, 0] += self.shift  # a biased model
        return ActionChunk(np.clip(actions, -1, 1), "cosmos_ee_delta")


def test_oracle_inverse_dynamics_scores_zero(scripted_run):
    doc = score_run(scripted_run, _Oracle(scripted_run), "inverse_dynamics")
    overall = doc["overall"]
    assert overall["position_mm"] == 0.0 and overall["rotation_deg"] == pytest.approx(0.0, abs=1e-6)
    assert overall["gripper_agreement"] == 1.0 and overall["steps"] == int(load_episode(
        saved_episodes(scripted_run)[0]).rows.sum())
    assert Path(doc["path"]) == scripted_run / "score_inverse_dynamics.json"
    biased = score_run(scripted_run, _Oracle(scripted_run, shift=0.3), "inverse_dynamics",
                       out=scripted_run / "biased.json")["overall"]
    assert biased["position_mm"] > 1.0
    per_step = biased_steps = score_run(scripted_run, _Oracle(scripted_run, shift=0.3), "inverse_dynamics",
                                        out=scripted_run / "b2.json")["episodes"][0]["per_step"]["position_mm"]
    assert biased_steps == sorted(per_step)  # a constant bias accumulates along the chunk


def test_oracle_forward_dynamics_is_a_perfect_world_model(scripted_run):
    overall = score_run(scripted_run, _Oracle(scripted_run), "forward_dynamics")["overall"]
    assert overall["psnr"] == PSNR_CAP_DB and overall["robot_psnr"] == PSNR_CAP_DB
    assert overall["ssim"] == pytest.approx(1.0)


def test_score_refuses_bad_input_with_one_line(scripted_run, tmp_path, capsys, replay_chunk):
    with pytest.raises(RunFolderError, match=r"no saved chunks.*--save-chunks"):
        score_run(tmp_path, _Oracle(scripted_run), "forward_dynamics")
    with pytest.raises(ConfigError, match=r"embodiment 'droid'.*'bridge'"):
        score_run(scripted_run, _Oracle(scripted_run, embodiment="bridge"), "forward_dynamics")
    with pytest.raises(ConfigError, match="unknown score mode"):
        score_run(scripted_run, _Oracle(scripted_run), "policy")  # type: ignore[arg-type]
    code = main(["score", str(scripted_run), "--policy", f"replay:{replay_chunk}", "--mode", "forward_dynamics"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "has no forward_dynamics mode" in err
    assert main(["score", str(tmp_path), "--policy", f"replay:{replay_chunk}", "--mode", "inverse_dynamics"]) == 2
    assert "no saved chunks" in capsys.readouterr().err
    # the scripted policy has no world model: said as it is for any such spec, before it is built
    assert main(["score", str(scripted_run), "--policy", "scripted", "--mode", "forward_dynamics"]) == 2
    err = capsys.readouterr().err
    assert err == ("robosim-cosmos score: error: policy scripted (ScriptedPolicy) has no forward_dynamics mode; a "
                   "Cosmos 3 checkpoint through diffusers:PATH offers forward_dynamics and inverse_dynamics\n")


def test_score_on_a_suite_folder_says_it_is_a_suite_and_names_its_members(tmp_path, capsys):
    robosim_cosmos.rollout_suite("scripted", tasks="reach", tiers="vague,default", episodes=1, out=str(tmp_path),
                                 video=False, quiet=True, max_steps=8, save_chunks=True)
    assert main(["score", str(tmp_path), "--policy", "scripted", "--mode", "forward_dynamics"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{tmp_path} is a suite folder; score takes one run folder" in err
    assert f"e.g. {tmp_path / 'DroidReach' / 'default'}" in err
    assert "(members with saved chunks: DroidReach/default, DroidReach/vague)" in err


# -- the tiny Cosmos 3 pipeline in closed loop, then offline in both modes ----------------------

TINY = {"chunk_size": 4, "num_inference_steps": 2, "guidance_scale": 1.0, "resolution_tier": 256, "seed": 0}


def test_tiny_cosmos3_closed_loop_scores_then_scores_offline(tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / "tiny"
    result = robosim_cosmos.rollout(CUBE, f"diffusers:{tiny_checkpoint}", episodes=1, out=str(out), progress=False,
                                    max_steps=8, open_loop_steps=4, policy_kwargs=TINY, save_chunks=True,
                                    world_model_scoring="full")
    line = result.results[0]
    assert line["error"] is None and line["steps"] == 8
    wm = line["world_model"]
    assert wm["frames"] == 8 and wm["per_step"]["step"] == [1, 2, 3, 4]
    for name in ("psnr", "ssim", "robot_psnr", "robot_ssim"):
        assert all(math.isfinite(v) for v in wm["per_step"][name]), name
        assert wm[name]["mean"] < (PSNR_CAP_DB if "psnr" in name else 1.0)  # random weights predict noise
    assert result.summary["world_model"]["frames"] == 8
    for mode in ("forward_dynamics", "inverse_dynamics"):
        code = main(["score", str(out), "--policy", f"diffusers:{tiny_checkpoint}", "--mode", mode,
                     *(f"--policy-arg={k}={json.dumps(v)}" for k, v in TINY.items())])
        assert code == 0, capsys.readouterr().err
        doc = json.loads((out / f"score_{mode}.json").read_text())
        overall = doc["overall"]
        if mode == "forward_dynamics":
            assert overall["frames"] == 8 and math.isfinite(overall["psnr"]) and -1 <= overall["ssim"] <= 1
        else:
            assert overall["steps"] == 8 and math.isfinite(overall["position_mm"])
            assert 0 <= overall["gripper_agreement"] <= 1
    assert "forward_dynamics: 8 frames: PSNR" in capsys.readouterr().out


# -- trajectory metrics -------------------------------------------------------------------------

def _min_jerk(n: int = 101) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0.0, 1.0, n)
    return t, 10 * t**3 - 15 * t**4 + 6 * t**5


def test_sparc_of_a_minimum_jerk_reach_and_its_invariances():
    t, s = _min_jerk()
    speed = np.gradient(s, t)
    value = sparc(speed, 100.0)
    assert value == pytest.approx(-1.406, abs=0.002)
    assert sparc(3.0 * speed, 100.0) == pytest.approx(value)  # amplitude
    assert sparc(np.gradient(s, 2 * t), 50.0) == pytest.approx(value)  # duration (same samples, half the rate)
    jerky = speed * (1 + 0.3 * np.sin(2 * np.pi * 5 * t))
    assert sparc(jerky, 100.0) < value - 0.2
    assert sparc(np.zeros(10), 15.0) is None and sparc(np.ones(2), 15.0) is None


def test_trajectory_metrics_of_a_known_path():
    positions = np.array([[0, 0, 0], [0.3, 0, 0], [0.3, 0.4, 0], [0.3, 0.4, 0]], dtype=float)
    m = trajectory_metrics(positions, 10.0, 1.5)
    assert m["path_length_m"] == pytest.approx(0.7)
    assert m["max_speed_m_s"] == pytest.approx(4.0) and m["mean_speed_m_s"] == pytest.approx(7.0 / 3)
    assert m["time_to_success_s"] == 1.5
    assert trajectory_metrics(positions[:1], 10.0, None)["path_length_m"] == 0.0


def test_unknown_scoring_is_a_config_error():
    with pytest.raises(ConfigError, match=r"world-model scoring 'all'.*full"):
        RolloutConfig(CUBE, "scripted", world_model_scoring="all")  # type: ignore[arg-type]


def test_a_default_rollout_scores_frames_without_segmentation_renders(tmp_path, monkeypatch):
    # The robot-pixel scores cost a segmentation render per camera and step: only `full` pays it.
    from robosim_cosmos.envs.droid_env import DroidEnv

    calls = []
    original = DroidEnv.robot_mask
    monkeypatch.setattr(DroidEnv, "robot_mask", lambda self, camera: calls.append(camera) or original(self, camera))
    res = robosim_cosmos.rollout(CUBE, "scripted", episodes=1, out=tmp_path / "default", max_steps=16, progress=False)
    wm = res.results[0]["world_model"]
    assert res.summary["config"]["world_model_scoring"] == "frames" and calls == []
    assert wm["psnr"]["mean"] == PSNR_CAP_DB and wm["robot_psnr"] is None
    robosim_cosmos.rollout(CUBE, "scripted", episodes=1, out=tmp_path / "full", max_steps=16, progress=False,
                           world_model_scoring="full")
    assert len(calls) == 16  # one ego-view camera, every executed step
