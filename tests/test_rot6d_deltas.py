"""rot6d and backward_framewise delta maths (property tests)."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.transform import Rotation

from robosim_cosmos.kinematics.deltas import decode_backward_framewise, encode_backward_framewise
from robosim_cosmos.kinematics.rot6d import IDENTITY_ROT6D, matrix_to_rot6d, rot6d_to_matrix

seeds = st.integers(min_value=0, max_value=2**32 - 1)


def random_rotations(seed: int, n: int) -> np.ndarray:
    return Rotation.random(n, random_state=seed).as_matrix()


def random_trajectory(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    poses = np.tile(np.eye(4), (n, 1, 1))
    poses[:, :3, :3] = random_rotations(seed, n)
    poses[:, :3, 3] = rng.uniform(-2, 2, (n, 3))
    return poses


def test_identity_and_columns_not_rows():
    assert np.allclose(rot6d_to_matrix(IDENTITY_ROT6D), np.eye(3))
    R = Rotation.from_euler("xyz", [0.3, -0.2, 1.1]).as_matrix()
    r6 = matrix_to_rot6d(R)
    assert np.allclose(r6[:3], R[:, 0]) and np.allclose(r6[3:], R[:, 1])
    assert not np.allclose(r6[:3], R[0, :])  # rows would be pytorch3d's convention


@given(seeds, st.integers(1, 20))
def test_rot6d_round_trip(seed, n):
    R = random_rotations(seed, n)
    back = rot6d_to_matrix(matrix_to_rot6d(R))
    assert np.allclose(back, R, atol=1e-12)


@given(arrays(np.float64, (6,), elements=st.floats(-3, 3)))
def test_gram_schmidt_gives_proper_rotation(r6):
    a1, a2 = r6[:3], r6[3:]
    n1 = np.linalg.norm(a1)
    assume(n1 > 1e-3 and np.linalg.norm(np.cross(a1 / n1, a2)) > 1e-3)
    R = rot6d_to_matrix(r6)
    assert np.allclose(R.T @ R, np.eye(3), atol=1e-9)
    assert np.isclose(np.linalg.det(R), 1.0, atol=1e-9)
    assert np.allclose(R[:, 0], a1 / n1)


def test_unnormalized_model_output_is_orthonormalized():
    # A slightly off-manifold row such as a model emits: naive use would give det != 1.
    r6 = np.array([0.99, 0.02, -0.01, -0.03, 0.97, 0.02])
    naive = np.stack([r6[:3], r6[3:], np.cross(r6[:3], r6[3:])], axis=-1)
    assert abs(np.linalg.det(naive) - 1) > 0.02
    assert np.isclose(np.linalg.det(rot6d_to_matrix(r6)), 1.0)


@settings(max_examples=50)
@given(seeds, st.integers(2, 40))
def test_encode_decode_round_trip(seed, n):
    poses = random_trajectory(seed, n)
    deltas = encode_backward_framewise(poses)
    assert deltas.shape == (n - 1, 9)
    back = decode_backward_framewise(poses[0], deltas)
    assert np.max(np.abs(back[:, :3, 3] - poses[:, :3, 3])) < 1e-9
    assert np.max(np.abs(back[:, :3, :3] - poses[:, :3, :3])) < 1e-9


def test_deltas_are_expressed_in_the_current_frame():
    # Rotate 90° about z, then step +x in the *local* frame: the world moves along +y.
    T0 = np.eye(4)
    T0[:3, :3] = Rotation.from_euler("z", 90, degrees=True).as_matrix()
    delta = np.concatenate([[0.01, 0, 0], IDENTITY_ROT6D])[None]
    T1 = decode_backward_framewise(T0, delta)[1]
    assert np.allclose(T1[:3, 3], [0, 0.01, 0])
    assert np.allclose(encode_backward_framewise(np.stack([T0, T1])), delta)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.full((2, 9), np.nan), "NaN"),
        (np.zeros((2, 8)), r"\[T, 9\]"),
        (np.zeros(9), r"\[T, 9\]"),
    ],
)
def test_decode_rejects_bad_deltas(bad, message):
    with pytest.raises(ValueError, match=message):
        decode_backward_framewise(np.eye(4), bad)


def test_rot6d_rejects_degenerate():
    with pytest.raises(ValueError, match="zero length"):
        rot6d_to_matrix(np.zeros(6))
    with pytest.raises(ValueError, match="parallel"):
        rot6d_to_matrix(np.array([1.0, 0, 0, 2.0, 0, 0]))
    with pytest.raises(ValueError, match="NaN"):
        rot6d_to_matrix(np.array([np.inf, 0, 0, 0, 1, 0]))


@given(seeds)
def test_extrinsic_xyz_euler_matches_scipy(seed):
    from robosim_cosmos.kinematics.frames import matrix_to_euler_xyz

    R = Rotation.random(random_state=seed).as_matrix()
    ours = matrix_to_euler_xyz(R)
    assert np.allclose(Rotation.from_euler("xyz", ours).as_matrix(), R, atol=1e-9)
    assert np.allclose(ours, Rotation.from_matrix(R).as_euler("xyz"), atol=1e-7)
