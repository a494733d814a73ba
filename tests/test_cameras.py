"""The DROID camera rig: exterior placements and ZED intrinsics, checked against the pinhole model."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

import robosim_cosmos  # noqa: F401  (headless GL before mujoco renders)
from robosim_cosmos._gl import ensure_offscreen_context
from robosim_cosmos._resources import envs_dir
from robosim_cosmos.envs.droid_env import DroidEnv
from robosim_cosmos.envs.scene import RENDER_QUALITIES, build_scene

# DESIGN §8, robot base frame, metres: position and viewing direction of each exterior camera.
PLACEMENTS = {
    "exterior_image_1_left": ((0.05, 0.57, 0.66), (0.63, -0.48, -0.62)),
    "exterior_image_2_left": ((0.05, -0.57, 0.66), (0.63, 0.48, -0.62)),
}
ZED2_FOCAL_M, ZED_MINI_FOCAL_M = 0.0021, 0.00294
SENSOR_M = (0.005376, 0.003024)


def _model_and_data() -> tuple[mujoco.MjModel, mujoco.MjData]:
    model = build_scene(()).model
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    return model, data


@pytest.mark.parametrize("camera", sorted(PLACEMENTS))
def test_exterior_cameras_sit_where_droid_simulators_put_them(camera):
    model, data = _model_and_data()
    pos, look = PLACEMENTS[camera]
    cam = model.camera(camera).id
    np.testing.assert_allclose(data.cam_xpos[cam], pos, atol=1e-3)
    forward = -data.cam_xmat[cam].reshape(3, 3)[:, 2]  # MuJoCo cameras look along their -z
    expected = np.asarray(look) / np.linalg.norm(look)
    angle = np.degrees(np.arccos(np.clip(forward @ expected, -1.0, 1.0)))
    assert angle < 0.1, angle
    up = data.cam_xmat[cam].reshape(3, 3)[:, 1]
    assert up[2] > 0.7  # image up is world up-ish: upright images


def _project_marker(camera: str, point: np.ndarray, height: int, width: int) -> np.ndarray:
    """Pixel centroid (u, v) of a small sphere at ``point``, found with segmentation rendering
    (the tabletop scene alone: the cameras are part of it)."""
    base = mujoco.MjSpec.from_file(str(envs_dir() / "scenes" / "tabletop.xml"))
    base.worldbody.add_geom(name="marker", type=mujoco.mjtGeom.mjGEOM_SPHERE, size=[0.004, 0, 0],
                            pos=point, contype=0, conaffinity=0)
    base.visual.global_.offwidth, base.visual.global_.offheight = width, height
    model = base.compile()
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    ensure_offscreen_context()  # this module imported mujoco before robosim_cosmos chose a backend
    renderer = mujoco.Renderer(model, height, width)
    renderer.enable_segmentation_rendering()
    renderer.update_scene(data, camera=camera)
    seg = renderer.render()[..., 0]
    renderer.close()
    rows, cols = np.nonzero(seg == model.geom("marker").id)
    assert rows.size > 0, f"marker at {point} not visible from {camera}"
    return np.array([cols.mean() + 0.5, rows.mean() + 0.5])


def _pinhole(camera_pos, camera_mat, focal_m, point, height, width) -> np.ndarray:
    """Where an ideal pinhole camera of the stated focal length and sensor images ``point``."""
    local = camera_mat.T @ (np.asarray(point) - camera_pos)  # x right, y up, looking along -z
    fx = focal_m / SENSOR_M[0] * width
    fy = focal_m / SENSOR_M[1] * height
    return np.array([width / 2 + fx * local[0] / -local[2], height / 2 - fy * local[1] / -local[2]])


@pytest.mark.parametrize("camera", sorted(PLACEMENTS))
@pytest.mark.parametrize("offset", [(0.0, 0.0), (0.12, 0.05), (-0.1, -0.08), (0.3, -0.15)])
def test_exterior_intrinsics_match_the_zed2_pinhole_within_1px(camera, offset):
    model, data = _model_and_data()
    cam = model.camera(camera).id
    pos, mat = data.cam_xpos[cam].copy(), data.cam_xmat[cam].reshape(3, 3).copy()
    forward, right, up = -mat[:, 2], mat[:, 0], mat[:, 1]
    point = pos + 0.7 * forward + offset[0] * right + offset[1] * up
    got = _project_marker(camera, point, 180, 320)
    want = _pinhole(pos, mat, ZED2_FOCAL_M, point, 180, 320)
    assert np.all(np.abs(got - want) <= 1.0), (got, want)


def test_wrist_camera_has_the_zed_mini_lens():
    model, _ = _model_and_data()
    cam = model.camera("wrist_image_left").id
    np.testing.assert_allclose(model.cam_intrinsic[cam][:2], [ZED_MINI_FOCAL_M] * 2)
    np.testing.assert_allclose(model.cam_sensorsize[cam], SENSOR_M)
    expected_vertical = 2 * np.degrees(np.arctan(SENSOR_M[1] / 2 / ZED_MINI_FOCAL_M))
    assert model.cam_fovy[cam] == pytest.approx(expected_vertical, abs=0.01)
    fx_at_1280 = ZED_MINI_FOCAL_M / SENSOR_M[0] * 1280
    assert fx_at_1280 == pytest.approx(700, abs=1)  # DESIGN §8b: ≈ 700 px, ≈ 85° horizontal
    assert 2 * np.degrees(np.arctan(640 / fx_at_1280)) == pytest.approx(85, abs=0.5)


def test_360x640_renders_the_same_field_of_view():
    model, data = _model_and_data()
    camera = "exterior_image_2_left"
    cam = model.camera(camera).id
    pos, mat = data.cam_xpos[cam].copy(), data.cam_xmat[cam].reshape(3, 3).copy()
    point = pos + 0.6 * -mat[:, 2] + 0.2 * mat[:, 0]
    small = _project_marker(camera, point, 180, 320)
    large = _project_marker(camera, point, 360, 640)
    np.testing.assert_allclose(large / 2, small, atol=1.0)


def test_camera_jitter_is_seeded_bounded_and_off_by_default():
    import gymnasium as gym

    from robosim_cosmos.errors import ConfigError

    def positions(env, seed):
        env.reset(seed=seed)
        u = env.unwrapped
        return np.stack([u.model.camera(c).pos.copy() for c in sorted(PLACEMENTS)])

    # the jitter moves the sim-evals rig's fixed poses (a drawn rig would move them anyway)
    plain = gym.make("robosim_cosmos/DroidReach-v0", obs_mode="state", camera_rig="sim-evals")
    home = np.array([PLACEMENTS[c][0] for c in sorted(PLACEMENTS)])
    np.testing.assert_allclose(positions(plain, 0), home, atol=1e-12)
    jittered = gym.make("robosim_cosmos/DroidReach-v0", obs_mode="state", camera_jitter=0.05,
                        camera_rig="sim-evals")
    a, b, c = positions(jittered, 3), positions(jittered, 3), positions(jittered, 4)
    np.testing.assert_array_equal(a, b)               # same seed, same cameras
    assert not np.allclose(a, c)                      # another seed moves them
    assert np.all(np.abs(a - home)[:, :2] <= 0.05) and np.array_equal(a[:, 2], home[:, 2])
    # the task layout of a seed does not depend on the jitter
    plain.reset(seed=3)
    jittered.reset(seed=3)
    np.testing.assert_array_equal(plain.unwrapped.task_state().task.target_pos,
                                  jittered.unwrapped.task_state().task.target_pos)
    with pytest.raises(ConfigError, match="camera_jitter"):
        gym.make("robosim_cosmos/DroidReach-v0", camera_jitter=-0.01)


@pytest.mark.parametrize("quality", RENDER_QUALITIES)
def test_near_plane_is_at_most_1cm_whatever_the_scene_extent(quality):
    # MuJoCo's znear is a fraction of the model extent; faithful's backdrop enlarges the extent
    for objects in ((), ("cube", "bowl")):
        model = build_scene(objects, render_quality=quality).model
        assert model.vis.map.znear * model.stat.extent <= 0.01


def test_wrist_camera_sits_at_the_flange_ring_beside_the_housing():
    model, data = _model_and_data()
    cam, base = model.camera("wrist_image_left").id, model.body("robotiq_base").id
    R = data.xmat[base].reshape(3, 3)
    local = R.T @ (data.cam_xpos[cam] - data.xpos[base])  # robotiq_base frame: z along the fingers
    assert local[2] == pytest.approx(0.011, abs=1e-6)    # 1.1 cm from the flange: the flange ring
    assert np.hypot(local[0], local[1]) == pytest.approx(np.hypot(0.031, 0.074), abs=1e-6)
    assert abs(local[1]) > 0.021 + 0.04  # beside the 42 mm housing's broad side, clear of it
    forward = R.T @ -data.cam_xmat[cam].reshape(3, 3)[:, 2]
    assert np.degrees(np.arccos(forward[2])) == pytest.approx(18.2, abs=0.5)  # down the fingers, tilted in


def _holding_a_cube(quality: str) -> DroidEnv:
    """lift_cube with the cube put between the nearly closed fingers at home, then gripped."""
    env = DroidEnv("lift_cube", render_quality=quality)  # type: ignore[arg-type]
    env.reset(seed=0)
    cube = env.task.items["cube"]  # type: ignore[attr-defined]
    grasp = cube.kind.grasp
    q = env.joint_positions()
    for _ in range(20):
        env.step(np.append(q, 1.0 - (grasp.width * cube.scale + 0.006) / env.robot.max_width_m))
    f = env.ee_pose()[:3, :3] @ env.robot.finger_axis_in_ee
    yaw = float(np.arctan2(f[1], f[0]) - grasp.yaw)
    tcp = env.data.site_xpos[env.model.site("tcp").id]
    cube.set_pose(env.data, tcp - np.array([0.0, 0.0, grasp.height * cube.scale]), yaw)
    mujoco.mj_forward(env.model, env.data)
    for _ in range(10):
        env.step(np.append(q, 1.0))
    assert cube.pos(env.data)[2] > 0.2  # held up in the air
    return env


@pytest.mark.parametrize("quality", RENDER_QUALITIES)
def test_a_grasped_cube_is_whole_in_the_wrist_view_and_the_fingers_at_the_bottom(quality):
    env = _holding_a_cube(quality)
    model = env.model
    cube_geoms = np.flatnonzero(model.geom_bodyid == env.task.items["cube"].body)  # type: ignore[attr-defined]
    fingers = np.flatnonzero(np.isin(model.geom_bodyid, [model.body(b).id for b in env.robot.finger_bodies]))
    try:
        ids = env.cameras._get().render_geom_ids(env.data, "wrist_image_left")
        model.vis.map.znear = 1e-4 / model.stat.extent  # a near plane at 0.1 mm: nothing clipped
        env.close()  # a new GL context picks up the changed model
        unclipped = env.cameras._get().render_geom_ids(env.data, "wrist_image_left")
    finally:
        env.close()
    cube, whole = np.isin(ids, cube_geoms), np.isin(unclipped, cube_geoms)
    assert whole.sum() > 0.02 * whole.size  # the cube is in view, between the fingers
    assert cube.sum() == whole.sum()        # and not one of its pixels is clipped
    rows = np.nonzero(np.isin(ids, fingers))[0]
    assert rows.size > 0 and np.median(rows) > 0.6 * ids.shape[0]  # the fingers fill the bottom
