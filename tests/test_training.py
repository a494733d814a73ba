"""The baseline policy: training targets that decode to the recorded motion, a short training whose
loss falls, a checkpoint that reloads to the same actions, a resumed run identical to an
uninterrupted one, and the ``baseline:`` / ``null`` policies in closed loop and over the wire."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("torch")
pytest.importorskip("safetensors")
pytest.importorskip("pyarrow")
pytest.importorskip("av")

from robosim_cosmos.datasets.action_stats import cosmos_ee_poses
from robosim_cosmos.datasets.reader import DatasetReader
from robosim_cosmos.errors import ConfigError, DatasetError
from robosim_cosmos.kinematics.decode import ChunkDecoder
from robosim_cosmos.kinematics.frames import T_FLANGE_COSMOS_EE
from robosim_cosmos.policies.baseline_model import BaselineConfig, load_checkpoint
from robosim_cosmos.policies.expert import CLOSED_ON_NOTHING
from robosim_cosmos.policies.registry import create_policy, spec_stats
from robosim_cosmos.training import TrainOptions, build_training_set, train
from robosim_cosmos.training.data import PADS, frames_before_miss, padded_windows, repadded, still_row
from robosim_cosmos.training.loop import make_config

SMALL = (32, 56)  # a tiny input keeps the test's training to seconds per hundred samples


@pytest.fixture(scope="module")
def small_set(recorded_dataset):
    return build_training_set([recorded_dataset / "success"], SMALL)


def _options(steps: int, **kw) -> TrainOptions:
    return TrainOptions(**{"steps": steps, "batch_size": 16, "lr": 1e-3, "warmup": 5, "save_every": 10,
                           "threads": 1, "val_fraction": 0.0, "shift": 2, **kw})


def test_targets_decode_through_the_cosmos_path_to_the_recorded_trajectory(small_set, recorded_dataset):
    reader = DatasetReader(recorded_dataset / "success")
    episode = reader.droid(0)
    steps = episode.length - 1
    targets, clipped = small_set.targets()
    assert targets.shape == (len(small_set), 16, 10) and targets.dtype == np.float32
    assert np.all(np.abs(targets) <= 1.0)
    assert 0 <= clipped / targets.size < 0.05  # ~1 % per tail by construction of q01 / q99
    decoder = ChunkDecoder(stats=small_set.stats)
    recorded = cosmos_ee_poses(episode.cartesian_position)
    for t in (0, steps // 2, steps - 1):
        raw = small_set.raw[t]  # episode 0's samples come first
        poses = decoder.poses(raw, recorded[t])
        horizon = min(16, steps - t)
        np.testing.assert_allclose(poses[:horizon], recorded[t + 1:t + 1 + horizon], atol=1e-9)
        # past the episode's end the chunk stays where the episode ended
        for k in range(horizon, 16):
            np.testing.assert_allclose(poses[k], recorded[-1], atol=1e-9)
        # normalized targets de-normalize to the raw rows wherever the clip did not move them
        lo, hi = small_set.stats.bounds()  # type: ignore[misc]
        inside = (raw >= lo) & (raw <= hi)
        back, _ = decoder.denormalize(targets[t])
        np.testing.assert_allclose(back[inside], raw[inside], atol=1e-6)
    # the grasp column is DROID's convention turned round: 1 - the gripper command
    np.testing.assert_allclose(small_set.raw[0, :, 9], 1.0 - episode.action_gripper_position[:16])
    # the anchor the env decodes from is the same cosmos_ee frame the targets were encoded in
    np.testing.assert_allclose(decoder.anchor_pose(episode.joint_position[0]), recorded[0], atol=1e-6)
    assert T_FLANGE_COSMOS_EE.shape == (4, 4)


def test_padding_repeats_a_still_row():
    rows = np.arange(30, dtype=np.float64).reshape(3, 10)
    windows = padded_windows(rows, 4)
    assert windows.shape == (3, 4, 10)
    np.testing.assert_array_equal(windows[2, 0], rows[2])
    np.testing.assert_allclose(windows[2, 1], still_row(29.0))
    assert still_row(0.0)[:9].tolist() == [0, 0, 0, 1, 0, 0, 0, 1, 0]
    # continue: the last row carries on past the end
    carried = padded_windows(rows, 4, "continue")
    np.testing.assert_array_equal(carried[1], [rows[1], rows[2], rows[2], rows[2]])
    np.testing.assert_array_equal(carried[:, 0], windows[:, 0])
    with pytest.raises(DatasetError, match="still"):
        padded_windows(rows, 4, "forward")  # type: ignore[arg-type]


def test_repadding_cached_windows_matches_padding_the_episodes():
    episodes = [np.random.default_rng(k).normal(size=(n, 10)) for k, n in enumerate((3, 20, 1))]
    for pad in PADS:
        still = np.concatenate([padded_windows(rows, 16) for rows in episodes])
        ids = np.concatenate([np.full(len(rows), k) for k, rows in enumerate(episodes)])
        expected = np.concatenate([padded_windows(rows, 16, pad) for rows in episodes])
        np.testing.assert_array_equal(repadded(still, ids, pad), expected)


def test_short_training_lowers_the_loss_and_reloads_to_identical_actions(small_set, tmp_path):
    losses: list[float] = []
    config = make_config(small_set, SMALL, "exterior_image_1_left", 16)
    result = train(small_set, tmp_path / "ckpt", _options(120), config, lambda s, n, loss: losses.append(loss))
    assert result.step == 120 and len(losses) == 120
    assert np.mean(losses[-20:]) < 0.7 * np.mean(losses[:10]), (losses[:10], losses[-20:])
    assert result.samples_per_s > 0 and result.parameters < 5_000_000
    for name in ("model.safetensors", "config.json", "stats.json", "train_state.safetensors"):
        assert (tmp_path / "ckpt" / name).is_file()
    # the policy loaded twice answers the same rows, and they are the trained model's
    obs = _observation(small_set, 3)
    instruction = small_set.instructions[int(small_set.instruction[3])]
    a = create_policy(f"baseline:{tmp_path / 'ckpt'}").get_actions(obs, instruction)
    b = create_policy(f"baseline:{tmp_path / 'ckpt'}").get_actions(obs, instruction)
    assert a.layout == "cosmos_ee_delta" and a.actions.shape == (16, 10)
    np.testing.assert_array_equal(a.actions, b.actions)
    assert np.all(np.abs(a.actions) <= 1.0)
    # on a training frame it is closer to its target than the untrained mean
    targets, _ = small_set.targets()
    assert np.abs(a.actions - targets[3]).mean() < np.abs(targets[3]).mean()
    _, cfg, stats = load_checkpoint(tmp_path / "ckpt")
    assert cfg == config and stats.kind == "quantile"
    np.testing.assert_allclose(stats.values["q99"], small_set.stats.values["q99"])
    assert spec_stats(f"baseline:{tmp_path / 'ckpt'}") == str(tmp_path / "ckpt" / "stats.json")


def test_a_resumed_run_ends_where_an_uninterrupted_one_does(small_set, tmp_path):
    config = make_config(small_set, SMALL, "exterior_image_1_left", 16)
    whole = train(small_set, tmp_path / "whole", _options(20), config)
    first = train(small_set, tmp_path / "split", _options(20, max_minutes=1e-6), config)
    assert first.stopped_for_budget and first.step == 1  # killed early; a checkpoint at step 1
    second = train(small_set, tmp_path / "split", _options(20), config)
    assert second.resumed_from == 1 and second.step == 20 == whole.step
    a, _, _ = load_checkpoint(tmp_path / "whole")
    b, _, _ = load_checkpoint(tmp_path / "split")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=name)
    with pytest.raises(ConfigError, match="seed"):
        train(small_set, tmp_path / "split", _options(30, seed=1), config)


def test_baseline_and_null_policies_run_in_closed_loop(small_set, tmp_path):
    from robosim_cosmos.rollout import rollout

    config = make_config(small_set, SMALL, "exterior_image_1_left", 16)
    train(small_set, tmp_path / "ckpt", _options(10), config)
    summary = rollout(env_id="robosim_cosmos/DroidReach-v0", policy=f"baseline:{tmp_path / 'ckpt'}",
                      episodes=1, max_steps=16, out=str(tmp_path / "run"), video=False, image_size=(64, 112),
                      world_model_scoring="off")
    assert len(summary.results) == 1 and summary.results[0].get("error") is None
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["identity"]["stats"] == str(tmp_path / "ckpt" / "stats.json")  # decoded with its own stats


def test_null_policy_holds_the_arm_and_gripper_still():
    import gymnasium as gym

    import robosim_cosmos  # noqa: F401  (registers the envs)

    env = gym.make("robosim_cosmos/DroidLiftCube-v0", action_mode="cosmos", obs_mode="state")
    try:
        obs, _ = env.reset(seed=3)
        base = env.unwrapped
        start = base.task_state().ee_pose.copy()
        grip = float(np.asarray(obs["gripper_position"]).reshape(-1)[0])
        policy = create_policy("null", env=env)
        chunk = policy.get_actions(obs, "hold still")
        # normalized zero is not zero motion under DROID's quantile stats: the rows are not zeros
        assert chunk.actions.shape == (16, 10) and np.abs(chunk.actions[:, :3]).max() > 0.01
        for row in chunk.actions[:8]:
            obs, *_ = env.step(row)
        end = base.task_state().ee_pose
        assert np.linalg.norm(end[:3, 3] - start[:3, 3]) < 2e-3
        assert abs(float(np.asarray(obs["gripper_position"]).reshape(-1)[0]) - grip) < 0.02
    finally:
        env.close()


def test_baseline_is_served_over_the_websocket(small_set, tmp_path):
    from robosim_cosmos.service import PolicyServer
    from robosim_cosmos.service.client import Cosmos3ServicePolicy

    config = make_config(small_set, SMALL, "exterior_image_1_left", 16)
    train(small_set, tmp_path / "ckpt", _options(10), config)
    local = create_policy(f"baseline:{tmp_path / 'ckpt'}")
    obs = _observation(small_set, 0)
    server = PolicyServer(local, port=0).start()
    try:
        remote = Cosmos3ServicePolicy(port=server.port, connect_timeout=5)
        try:
            served = remote.get_actions(obs, "reach out")
        finally:
            remote.close()
    finally:
        server.stop()
    np.testing.assert_allclose(served.actions, local.get_actions(obs, "reach out").actions, atol=1e-6)
    assert served.layout == "cosmos_ee_delta"


def test_bad_checkpoints_and_configs_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="not a baseline checkpoint"):
        create_policy(f"baseline:{tmp_path}")
    with pytest.raises(ConfigError, match="image_size"):
        BaselineConfig(image_size=(8, 8))
    with pytest.raises(ConfigError, match="steps"):
        TrainOptions(steps=0)


def _observation(data, i: int) -> dict[str, np.ndarray]:
    """A DROID observation dict whose cameras are sample ``i``'s (at the model's own size, so the
    policy's downscale is the identity)."""
    return {"exterior_image_1_left": data.exterior[i], "exterior_image_2_left": data.exterior[i],
            "wrist_image_left": data.wrist[i], "joint_position": data.state[i, :7].astype(np.float64),
            "gripper_position": data.state[i, 7:8].astype(np.float64),
            "cartesian_position": np.zeros(6)}


def test_the_frames_leading_to_a_miss_are_those_before_the_fingers_first_close_on_nothing():
    # episode 0 holds a cube (0.41) and never misses; episode 1 closes on nothing at its frame 3, then
    # again later (only the first counts); episode 2 misses at its first frame: nothing before it
    gripper = np.array([0.0, 0.2, 0.41, 0.41, 0.0, 0.5, 0.97, 1.0, 0.3, 0.0, 0.98, 0.99, 0.0])
    episode = np.array([0] * 4 + [1] * 7 + [2] * 2)
    state = np.column_stack([np.zeros((13, 7)), gripper])
    before = frames_before_miss(state, episode)
    assert before.tolist() == [False] * 4 + [True, True] + [False] * 7


def test_a_recorded_miss_trains_on_its_recovery_only(tmp_path, capsys):
    """One LiftCube demonstration recorded with ``miss``: ``--drop-misses`` leaves out the frames up
    to the fingers closing on nothing and keeps the recovery (open, rise, grasp, lift) after it."""
    from robosim_cosmos.cli.main import main

    folder = tmp_path / "miss"
    assert main(["record", str(folder), "--tasks", "robosim_cosmos/DroidLiftCube-v0", "--episodes", "1", "--seed", "0",
                 "--policy-arg", "miss=0.05", "--image-size", "32x56", "--dataset-schema", "openpi-droid", "-q"]) == 0
    roots = [folder / "success"] if (folder / "success").is_dir() else [folder]
    whole = build_training_set(roots, (32, 56))
    kept = build_training_set(roots, (32, 56), drop_misses=True)
    first_miss = int(np.argmax(whole.state[:, -1] > CLOSED_ON_NOTHING))
    assert 10 < first_miss < len(whole) - 20  # a descent to the miss, then the recovery
    assert kept.miss_dropped == first_miss and len(kept) == len(whole) - first_miss
    np.testing.assert_array_equal(kept.state, whole.state[first_miss:])
    np.testing.assert_array_equal(kept.raw, whole.raw[first_miss:])  # the recovery's own windows
    assert kept.stats_document()["windows"]["frames_before_a_miss_dropped"] == first_miss
    capsys.readouterr()


def test_train_command_writes_a_checkpoint_and_resumes(recorded_dataset, tmp_path, capsys):
    from robosim_cosmos.cli.main import main

    args = ["train", "--dataset", str(recorded_dataset), "--out", str(tmp_path / "ckpt"), "--image-size", "32x56",
            "--batch-size", "8", "--save-every", "2", "--threads", "1", "--val-fraction", "0", "--cache",
            str(tmp_path / "cache"), "-q"]
    assert main([*args, "--steps", "2"]) == 0
    assert "2 steps" in capsys.readouterr().out
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1  # success/ only: failure/ teaches no task
    assert main([*args, "--steps", "4"]) == 0  # the same command with a longer schedule continues
    result = json.loads((tmp_path / "ckpt" / "train_result.json").read_text())
    assert result["resumed_from"] == 2 and result["step"] == 4
    stats = json.loads((tmp_path / "ckpt" / "stats.json").read_text())
    assert stats["windows"]["padded_past_episode_end"] == "still"
    # --pad continue re-pads the cached windows: the stats say so and differ
    cont = [*args[:4], str(tmp_path / "cont"), *args[5:], "--steps", "1", "--pad", "continue"]
    assert main(cont) == 0
    stats_c = json.loads((tmp_path / "cont" / "stats.json").read_text())
    assert stats_c["windows"]["padded_past_episode_end"] == "continue"
    assert stats_c["mean"] != stats["mean"]
    assert stats["windows"]["frames_before_a_miss_dropped"] == 0
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x").write_text("x")
    assert main(["train", "--dataset", str(recorded_dataset), "--out", str(tmp_path / "other"), "-q"]) == 2
    assert "no training run to resume" in capsys.readouterr().err


def test_coordinate_channels_change_the_input_not_the_answer_shape(small_set):
    import torch

    from robosim_cosmos.policies.baseline_model import build_model

    config = make_config(small_set, SMALL, "exterior_image_1_left", 16, coords=True)
    assert config.coords and BaselineConfig.from_json(config.to_json()) == config
    model = build_model(config)
    assert model.exterior[0].in_channels == 5  # RGB + x + y
    img = torch.zeros(2, *SMALL, 3, dtype=torch.uint8)
    out = model(img, img, torch.zeros(2, 8), torch.zeros(2, dtype=torch.int64), torch.tensor([0, 1]))
    assert out.shape == (2, 16, 10) and torch.all(out.abs() <= 1)


@settings(max_examples=25, deadline=None)
@given(row=st.integers(0, 10), col=st.integers(0, 17))
def test_spatial_softmax_keypoints_land_on_a_peak(row: int, col: int):
    import torch

    from robosim_cosmos.policies.baseline_model import build_model

    config = BaselineConfig(image_size=(44, 72), keypoints=2)
    softmax = build_model(config).exterior.points[3]
    maps = torch.zeros(1, 2, 11, 18)
    maps[0, :, row, col] = 40.0  # one sharp peak per map: the expectation is its pixel
    x, y, peak = softmax(maps).detach().view(3, 2).numpy()
    np.testing.assert_allclose(x, np.linspace(-1, 1, 18)[col], atol=1e-4)
    np.testing.assert_allclose(y, np.linspace(-1, 1, 11)[row], atol=1e-4)
    np.testing.assert_allclose(peak, 40.0)


def test_keypoints_and_flange_state_train_reload_and_set_the_open_loop_default(small_set, tmp_path):
    from robosim_cosmos.kinematics.frames import dh_forward_kinematics
    from robosim_cosmos.policies.baseline_model import model_state

    config = make_config(small_set, SMALL, "exterior_image_1_left", 16, keypoints=4, open_loop_steps=4,
                         ee_state=True)
    assert (config.keypoints, config.open_loop_steps, config.state_width) == (4, 4, 17)
    assert BaselineConfig.from_json(config.to_json()) == config
    state = model_state(small_set.state[:5], config.ee_state)
    assert state.shape == (5, 17) and state.dtype == np.float32
    flange = dh_forward_kinematics(small_set.state[2, :7].astype(np.float64))
    np.testing.assert_allclose(state[2, 8:11], flange[:3, 3], atol=1e-6)
    np.testing.assert_allclose(state[2, 11:17], np.concatenate([flange[:3, 0], flange[:3, 1]]), atol=1e-6)
    train(small_set, tmp_path / "ckpt", _options(10), config)
    policy = create_policy(f"baseline:{tmp_path / 'ckpt'}")
    assert policy.default_open_loop_steps == 4
    obs = _observation(small_set, 3)
    again = create_policy(f"baseline:{tmp_path / 'ckpt'}")
    np.testing.assert_array_equal(policy.get_actions(obs, "reach out").actions,
                                  again.get_actions(obs, "reach out").actions)
    with pytest.raises(ConfigError, match="open_loop_steps"):
        BaselineConfig(open_loop_steps=17)
    with pytest.raises(ConfigError, match="keypoints"):
        BaselineConfig(keypoints=-1)


def test_temporal_ensembling_averages_the_rows_each_step_was_predicted_with(small_set, tmp_path):
    config = make_config(small_set, SMALL, "exterior_image_1_left", 16, open_loop_steps=4)
    train(small_set, tmp_path / "ckpt", _options(5), config)
    plain = create_policy(f"baseline:{tmp_path / 'ckpt'}")
    policy = create_policy(f"baseline:{tmp_path / 'ckpt'}", ensemble=True)
    assert not plain.ensemble and policy.ensemble
    policy.set_execution_horizon(4)
    obs = _observation(small_set, 3)
    p = plain.get_actions(obs, "reach out").actions
    first = policy.get_actions(obs, "reach out")
    np.testing.assert_allclose(first.actions, p, atol=1e-7)  # nothing to average with yet
    second = policy.get_actions(obs, "reach out")  # 4 rows later: rows 4.. of the first chunk are still ahead
    assert second.info["ensembled"] == 2
    np.testing.assert_allclose(second.actions[:12], (p[:12] + p[4:]) / 2, atol=1e-6)
    np.testing.assert_allclose(second.actions[12:], p[12:], atol=1e-7)
    policy.reset()  # a new episode forgets the old predictions
    np.testing.assert_allclose(policy.get_actions(obs, "reach out").actions, p, atol=1e-7)
    with pytest.raises(ValueError, match="ensemble"):
        create_policy(f"baseline:{tmp_path / 'ckpt'}", ensemble="sometimes")


def test_episode_balanced_batches_favour_short_episodes_and_resume_identically(small_set, tmp_path):
    from robosim_cosmos.training.loop import _sample_weights

    idx = np.arange(len(small_set))
    w = _sample_weights(small_set, idx)
    lengths = np.bincount(small_set.episode)[small_set.episode]
    np.testing.assert_allclose(w * np.sqrt(lengths), (w * np.sqrt(lengths))[0])  # ∝ 1/√length
    assert w.sum() == pytest.approx(1.0)
    config = make_config(small_set, SMALL, "exterior_image_1_left", 16)
    whole = train(small_set, tmp_path / "whole", _options(12, balance="sqrt_episodes"), config)
    train(small_set, tmp_path / "split", _options(12, balance="sqrt_episodes", max_minutes=1e-6), config)
    split = train(small_set, tmp_path / "split", _options(12, balance="sqrt_episodes"), config)
    assert split.step == whole.step == 12
    a, _, _ = load_checkpoint(tmp_path / "whole")
    b, _, _ = load_checkpoint(tmp_path / "split")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=name)
    with pytest.raises(ConfigError, match="balance"):
        TrainOptions(balance="tasks")


def test_ema_checkpoints_the_running_average_and_resumes_identically(small_set, tmp_path):
    import safetensors.torch as st

    config = make_config(small_set, SMALL, "exterior_image_1_left", 16)
    plain = train(small_set, tmp_path / "plain", _options(12), config)
    whole = train(small_set, tmp_path / "whole", _options(12, ema=0.9), config)
    train(small_set, tmp_path / "split", _options(12, ema=0.9, max_minutes=1e-6), config)
    split = train(small_set, tmp_path / "split", _options(12, ema=0.9), config)
    assert split.resumed_from == 1 and split.step == whole.step == plain.step == 12
    a, _, _ = load_checkpoint(tmp_path / "whole")
    b, _, _ = load_checkpoint(tmp_path / "split")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=name)
    # the raw weights ride with the training state and are those of the run without ema
    raw = st.load_file(str(tmp_path / "whole" / "train_state.safetensors"))
    last, _, _ = load_checkpoint(tmp_path / "plain")
    for name, value in last.state_dict().items():
        np.testing.assert_array_equal(raw[f"weights.{name}"].numpy(), value.numpy(), err_msg=name)
    # the average lags them: it is neither the last weights nor the first
    moved = [float((a.state_dict()[n] - v).abs().max()) for n, v in last.state_dict().items()]
    assert max(moved) > 1e-4
    with pytest.raises(ConfigError, match="ema"):
        train(small_set, tmp_path / "whole", _options(20), config)
    with pytest.raises(ConfigError, match="ema"):
        TrainOptions(ema=1.0)

