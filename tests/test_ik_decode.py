"""IK accuracy, chunk decoding conventions (frame, gripper polarity) and bad input."""

import numpy as np
import pytest

from robosim_cosmos.kinematics import frames
from robosim_cosmos.kinematics.decode import ChunkDecoder, make_ik_solver
from robosim_cosmos.kinematics.encode import encode_ee_chunk
from robosim_cosmos.kinematics.gripper import droid_to_finger_opening
from robosim_cosmos.kinematics.ik import COMMON_SETTINGS, IKSettings
from robosim_cosmos.kinematics.normalization import load_stats
from robosim_cosmos.kinematics.rot6d import IDENTITY_ROT6D
from robosim_cosmos.testing.chunks import random_droid_chunk, random_droid_raw_chunk

STATS = load_stats(embodiment="droid")


@pytest.fixture(scope="module")
def decoder():
    return ChunkDecoder("droid")


def raw_rows(*rows):
    return STATS.normalize(np.array(rows, dtype=float))


def test_random_chunks_stay_inside_droid_quantiles():
    rng = np.random.default_rng(1)
    raw = random_droid_raw_chunk(rng, STATS)
    assert np.all(raw >= STATS.values["q01"]) and np.all(raw <= STATS.values["q99"])


def test_ik_bar_on_droid_range_chunks(decoder):
    rng = np.random.default_rng(2026)
    pos, rot = [], []
    for _ in range(20):
        out = decoder.decode(random_droid_chunk(rng, STATS), frames.DROID_HOME)
        assert out.joint_positions.shape == (16, 7)
        assert np.all(out.ik.converged)
        pos.append(out.ik.position_error_mm)
        rot.append(out.ik.rotation_error_deg)
        lo, hi = frames.JOINT_LIMITS[:, 0], frames.JOINT_LIMITS[:, 1]
        assert np.all(out.joint_positions >= lo - 1e-9) and np.all(out.joint_positions <= hi + 1e-9)
    pos, rot = np.concatenate(pos), np.concatenate(rot)
    assert pos.mean() <= 0.2 and pos.max() <= 1.0, (pos.mean(), pos.max())
    assert rot.max() <= 0.1, rot.max()


def test_ik_beats_common_settings():
    rng = np.random.default_rng(7)
    ours, common = make_ik_solver(), make_ik_solver(settings=COMMON_SETTINGS)
    anchor = ours.forward(frames.DROID_HOME)
    dec = ChunkDecoder("droid")
    errs_ours, errs_common = [], []
    for _ in range(5):
        targets = dec.poses(STATS.denormalize(random_droid_chunk(rng, STATS)), anchor)
        errs_ours.append(ours.solve(targets, frames.DROID_HOME).position_error_mm)
        errs_common.append(common.solve(targets, frames.DROID_HOME).position_error_mm)
    assert np.mean(errs_common) > 10 * np.mean(errs_ours)


def test_cosmos_ee_frame_is_flange_rz90(decoder):
    # At DROID home the flange x axis points along world +x and y along world -y, so
    # cosmos_ee = flange·Rz(+90°) has its x axis along world -y: +tx moves the hand to -y.
    # Anchoring on the hand (flange·Rz(-45°)) would send it 135° away from there.
    anchor = decoder.anchor_pose(frames.DROID_HOME)
    flange = frames.dh_forward_kinematics(frames.DROID_HOME)
    assert np.allclose(anchor, flange @ frames.T_FLANGE_COSMOS_EE, atol=1e-9)
    chunk = raw_rows(
        [0.01, 0, 0, *IDENTITY_ROT6D, 1.0],
        [0, 0.01, 0, *IDENTITY_ROT6D, 1.0],
        [0, 0, 0.01, *IDENTITY_ROT6D, 1.0],
    )
    out = decoder.decode(chunk, frames.DROID_HOME)
    steps = np.diff(np.concatenate([anchor[None], out.ee_poses])[:, :3, 3], axis=0)
    assert np.allclose(steps, [[0, -0.01, 0], [-0.01, 0, 0], [0, 0, -0.01]], atol=1e-6)
    assert np.all(out.ik.position_error_mm < 0.1)


def test_gripper_polarity(decoder):
    chunk = raw_rows([0, 0, 0, *IDENTITY_ROT6D, 1.0], [0, 0, 0, *IDENTITY_ROT6D, 0.0])
    chunk[:, 9] = [1.0, -1.0]  # normalized: +1 open, -1 closed
    out = decoder.decode(chunk, frames.DROID_HOME)
    assert np.allclose(out.gripper, [0.0, 1.0])  # DROID: 0 open, 1 closed
    assert np.allclose(droid_to_finger_opening(out.gripper), [0.04, 0.0])


def test_decode_reproduces_encoded_poses(decoder):
    anchor = decoder.anchor_pose(frames.DROID_HOME)
    rng = np.random.default_rng(3)
    raw = random_droid_raw_chunk(rng, STATS)
    poses = decoder.poses(raw, anchor)
    chunk = encode_ee_chunk(np.concatenate([anchor[None], poses]), 1 - raw[:, 9], STATS)
    out = decoder.decode(chunk, frames.DROID_HOME)
    assert np.allclose(out.ee_poses, poses, atol=1e-9)


def test_out_of_range_values_are_clipped_and_counted(decoder):
    chunk = raw_rows([0, 0, 0, *IDENTITY_ROT6D, 1.0])
    chunk[0, 0] = 1.5
    out = decoder.decode(chunk, frames.DROID_HOME)
    assert out.clipped == 1
    assert np.isclose(out.raw_actions[0, 0], STATS.values["q99"][0])


def test_unreachable_target_is_flagged_not_nan():
    solver = make_ik_solver()
    anchor = solver.forward(frames.DROID_HOME)
    far = anchor.copy()
    far[:3, 3] += [2.0, 0.0, 0.0]
    targets = np.stack([anchor, far, anchor])
    res = solver.solve(targets, frames.DROID_HOME)
    assert np.all(np.isfinite(res.q))
    assert list(res.converged) == [True, False, True]
    assert res.position_error_mm[1] > 500
    lo, hi = frames.JOINT_LIMITS[:, 0], frames.JOINT_LIMITS[:, 1]
    assert np.all(res.q >= lo - 1e-9) and np.all(res.q <= hi + 1e-9)


@pytest.mark.parametrize(
    "chunk, message",
    [
        (np.full((4, 10), np.nan), "NaN"),
        (np.array([[np.inf] * 10]), "NaN or inf"),
        (np.zeros((4, 9)), "10 columns"),
        (np.zeros(10), "2-D"),
        (np.zeros((0, 10)), "empty"),
        (np.array([["a"] * 10]), "numeric"),
    ],
)
def test_decode_rejects_bad_chunks(decoder, chunk, message):
    with pytest.raises(ValueError, match=message):
        decoder.decode(chunk, frames.DROID_HOME)


def test_decoder_rejects_bad_setup():
    with pytest.raises(ValueError, match="valid names"):
        ChunkDecoder("pr2")
    with pytest.raises(ValueError, match="not an end-effector delta"):
        ChunkDecoder("agibot")
    with pytest.raises(ValueError, match="no stats file ships"):
        ChunkDecoder("bridge")
    with pytest.raises(ValueError, match="7 finite"):
        ChunkDecoder("droid").decode(np.zeros((1, 10)), np.zeros(6))
    with pytest.raises(ValueError, match="max_iterations"):
        IKSettings(max_iterations=0)


def test_menagerie_decode_matches_embedded(menagerie_root, monkeypatch):
    monkeypatch.setenv("MENAGERIE_ROOT", str(menagerie_root))
    rng = np.random.default_rng(5)
    chunk = random_droid_chunk(rng, STATS)
    emb = ChunkDecoder("droid", robot="embedded").decode(chunk, frames.DROID_HOME)
    men = ChunkDecoder("droid", robot="menagerie").decode(chunk, frames.DROID_HOME)
    assert np.allclose(emb.ee_poses, men.ee_poses, atol=1e-6)
    assert np.all(men.ik.converged)
    assert np.abs(emb.joint_positions - men.joint_positions).max() < 1e-3
