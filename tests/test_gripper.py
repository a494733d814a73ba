"""The grippers: the project's Robotiq 2F-85 (default, as on DROID) and the Franka hand.

Real MuJoCo throughout: stroke and polarity under physics, the observed gripper_position,
a grasp that holds while lifting, frames that do not depend on the gripper, the wrist camera
on the gripper, loading errors, and the scripted expert with either gripper.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import gymnasium as gym
import mujoco
import numpy as np
import pytest

import robosim_cosmos  # noqa: F401  (registers the env ids)
from robosim_cosmos.envs.droid_env import DroidEnv
from robosim_cosmos.envs.objects import CUBE_HALF
from robosim_cosmos.errors import ConfigError, ResourceNotFoundError
from robosim_cosmos.kinematics import frames
from robosim_cosmos.kinematics.assembly import load_robot, robot_spec
from robosim_cosmos.kinematics.gripper import (
    DEFAULT_GRIPPER,
    GRIPPERS,
    VALID_GRIPPERS,
    droid_to_finger_opening,
    droid_to_width,
    finger_opening_to_droid,
    width_to_droid,
)
from robosim_cosmos.kinematics.menagerie import resolve_menagerie_2f85, resolve_menagerie_panda
from robosim_cosmos.kinematics.robot_description import RobotDescription
from robosim_cosmos.kinematics.sites import site_pose
from robosim_cosmos.policies.scripted import ScriptedPolicy

OWN_GRIPPERS = ("robotiq_2f85", "franka_hand")
ENV_IDS = {
    "reach": "robosim_cosmos/DroidReach-v0",
    "lift_cube": "robosim_cosmos/DroidLiftCube-v0",
    "cube_in_bowl": "robosim_cosmos/DroidCubeInBowl-v0",
    "push_cube": "robosim_cosmos/DroidPushCube-v0",
}


def _pads(model: mujoco.MjModel, desc: RobotDescription) -> list[int]:
    """The two pad geoms (left, right): the high-friction, torsional-friction collision boxes."""
    pads = []
    for body in desc.finger_bodies:
        b = model.body(body).id
        found = [g for g in range(model.ngeom)
                 if model.geom_bodyid[g] == b and model.geom_condim[g] >= 4 and model.geom_contype[g]]
        assert len(found) == 1, body
        pads.append(found[0])
    return pads


def _pad_gap(model: mujoco.MjModel, data: mujoco.MjData, desc: RobotDescription) -> float:
    """Distance between the pads' inner faces, measured along the finger axis (metres)."""
    left, right = _pads(model, desc)
    flange = site_pose(model, data, "flange")
    axis = flange[:3, :3] @ frames.FINGER_AXIS_IN_FLANGE[desc.gripper]
    centres = abs(float(axis @ (data.geom_xpos[left] - data.geom_xpos[right])))
    half_thickness = [float(np.abs(data.geom_xmat[g].reshape(3, 3).T @ axis) @ model.geom_size[g])
                      for g in (left, right)]
    return centres - sum(half_thickness)


def _at_home(model: mujoco.MjModel, desc: RobotDescription, droid: float) -> mujoco.MjData:
    data = mujoco.MjData(model)
    for joint, q in zip(desc.arm_joints, frames.DROID_HOME, strict=True):
        data.qpos[model.joint(joint).qposadr[0]] = q
    for joint, q in zip(desc.finger_joints, np.broadcast_to(desc.finger_qpos(droid), 2), strict=True):
        data.qpos[model.joint(joint).qposadr[0]] = q
    data.ctrl[[model.actuator(a).id for a in desc.arm_actuators]] = frames.DROID_HOME
    data.ctrl[model.actuator(desc.gripper_actuator).id] = desc.gripper_ctrl(droid)
    mujoco.mj_forward(model, data)
    return data


@pytest.fixture(scope="module")
def robotiq() -> tuple[mujoco.MjModel, RobotDescription]:
    return load_robot("embedded")


# --- the model ----------------------------------------------------------------------------------


def test_robotiq_is_the_default_everywhere() -> None:
    assert DEFAULT_GRIPPER == "robotiq_2f85"
    _, desc = robot_spec()
    assert desc.gripper == "robotiq_2f85" and desc.gripper_body == "robotiq_base"
    env = gym.make(ENV_IDS["reach"], obs_mode="state")
    assert env.unwrapped.robot.gripper == "robotiq_2f85"
    env.close()


def test_droid_0_opens_to_85mm_and_1_closes_under_physics(robotiq) -> None:
    model, desc = robotiq
    assert desc.max_width_m == pytest.approx(0.085)
    data = _at_home(model, desc, droid=0.5)
    gid = model.actuator(desc.gripper_actuator).id
    n = round(1.0 / model.opt.timestep)
    data.ctrl[gid] = desc.gripper_ctrl(0.0)  # DROID 0 = open
    mujoco.mj_step(model, data, nstep=n)
    assert _pad_gap(model, data, desc) == pytest.approx(0.085, abs=0.002)
    data.ctrl[gid] = desc.gripper_ctrl(1.0)  # DROID 1 = closed
    mujoco.mj_step(model, data, nstep=n)
    assert _pad_gap(model, data, desc) < 0.002
    data.ctrl[gid] = desc.gripper_ctrl(0.0)
    mujoco.mj_step(model, data, nstep=n)
    assert _pad_gap(model, data, desc) == pytest.approx(0.085, abs=0.002)


@pytest.mark.parametrize("gripper", OWN_GRIPPERS)
def test_tcp_sits_between_the_pad_centres_and_the_pads_stay_parallel(gripper: str) -> None:
    """The tcp site (from frames) is where the geometry puts the pads, at every opening."""
    model, desc = load_robot("embedded", gripper)
    for droid in (0.0, 0.3, 0.7, 1.0):
        data = _at_home(model, desc, droid)
        left, right = _pads(model, desc)
        tcp = site_pose(model, data, "tcp")
        # exact for the Robotiq; the Franka hand keeps DESIGN's 0.1034 m, 1 mm past its pad centres
        tol = 1e-9 if gripper == "robotiq_2f85" else 1.5e-3
        np.testing.assert_allclose(0.5 * (data.geom_xpos[left] + data.geom_xpos[right]), tcp[:3, 3], atol=tol)
        R_l, R_r = data.geom_xmat[left].reshape(3, 3), data.geom_xmat[right].reshape(3, 3)
        # right pad = left pad turned 180° about the tool axis: the faces are parallel and opposed
        np.testing.assert_allclose(R_l[:, 2], R_r[:, 2], atol=1e-9)
        np.testing.assert_allclose(R_l[:, :2], -R_r[:, :2], atol=1e-9)
        expected_gap = float(droid_to_width(droid, desc.max_width_m))
        # the Franka hand's pad faces sit 1 mm proud of its finger joints' zero
        assert _pad_gap(model, data, desc) == pytest.approx(expected_gap, abs=1e-9 if tol < 1e-6 else 2.5e-3)
    flange = site_pose(model, data, "flange")
    along_tool = flange[:3, :3].T @ (tcp[:3, 3] - flange[:3, 3])
    expected = frames.ROBOTIQ_TCP_OFFSET_M if gripper == "robotiq_2f85" else frames.TCP_OFFSET_IN_HAND[2]
    np.testing.assert_allclose(along_tool, [0.0, 0.0, expected], atol=1e-9)


def test_robotiq_fingertips_reach_as_far_as_stated(robotiq) -> None:
    """``tip_below_tcp_m`` (what the scripted expert keeps clear of the table) is the geometry's."""
    model, desc = robotiq
    data = _at_home(model, desc, 1.0)
    tcp = site_pose(model, data, "tcp")
    axis = tcp[:3, :3][:, 2]
    reach = 0.0
    for body in desc.finger_bodies:
        b = model.body(body).id
        for g in range(model.ngeom):
            if model.geom_bodyid[g] == b and model.geom_contype[g]:
                corners = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)])
                pts = data.geom_xpos[g] + (corners * model.geom_size[g]) @ data.geom_xmat[g].reshape(3, 3).T
                reach = max(reach, float(np.max((pts - tcp[:3, 3]) @ axis)))
    assert reach == pytest.approx(desc.tip_below_tcp_m, abs=1e-6)


def test_robotiq_is_black_light_and_has_silicone_pads(robotiq) -> None:
    model, desc = robotiq
    root = model.body(desc.gripper_body).id
    assert model.body_subtreemass[root] == pytest.approx(0.92, abs=1e-9)  # real 2F-85: 0.925 kg
    bodies = {root, *(model.body(b).id for b in desc.finger_bodies)}
    visual = [g for g in range(model.ngeom) if model.geom_bodyid[g] in bodies and model.geom_group[g] == 2]
    assert len(visual) >= 10
    for g in visual:
        rgb = model.mat_rgba[model.geom_matid[g]][:3]
        assert np.all(rgb <= 0.35), (model.geom(g).name, rgb)  # black / dark grey finish
    for pad in _pads(model, desc):
        assert model.geom_friction[pad][0] >= 1.5 and model.geom_friction[pad][1] > 0  # silicone, torsional
        assert model.geom_condim[pad] >= 4 and model.geom_priority[pad] >= 1
    for joint in desc.finger_joints:  # two slide fingers, 42.5 mm each
        j = model.joint(joint).id
        assert model.jnt_type[j] == mujoco.mjtJoint.mjJNT_SLIDE
        np.testing.assert_allclose(model.jnt_range[j], [0.0, 0.0425])
    assert model.nmesh == 0  # primitives only


@pytest.mark.parametrize("gripper", OWN_GRIPPERS)
def test_cosmos_ee_and_flange_do_not_depend_on_the_gripper(gripper: str) -> None:
    model, desc = load_robot("embedded", gripper)
    ref_model, ref_desc = load_robot("embedded", "franka_hand")
    data, ref = mujoco.MjData(model), mujoco.MjData(ref_model)
    rng = np.random.default_rng(7)
    lo, hi = frames.JOINT_LIMITS.T
    for q in rng.uniform(lo, hi, size=(25, 7)):
        for m, d, dsc in ((model, data, desc), (ref_model, ref, ref_desc)):
            for joint, v in zip(dsc.arm_joints, q, strict=True):
                d.qpos[m.joint(joint).qposadr[0]] = v
            mujoco.mj_kinematics(m, d)
        for site in ("flange", "cosmos_ee"):
            np.testing.assert_allclose(site_pose(model, data, site), site_pose(ref_model, ref, site), atol=1e-12)
        flange = site_pose(model, data, "flange")
        np.testing.assert_allclose(site_pose(model, data, "cosmos_ee"), flange @ frames.T_FLANGE_COSMOS_EE,
                                   atol=1e-12)
        np.testing.assert_allclose(flange, frames.dh_forward_kinematics(q), atol=1e-6)


def test_gripper_conversions() -> None:
    # the Franka functions keep their meaning; the per-gripper ones generalise them
    np.testing.assert_allclose(droid_to_finger_opening([0.0, 1.0]), [0.04, 0.0])
    np.testing.assert_allclose(finger_opening_to_droid([0.04, 0.0]), [0.0, 1.0])
    np.testing.assert_allclose(droid_to_finger_opening([0.0, 0.5], finger_open=0.0425), [0.0425, 0.02125])
    np.testing.assert_allclose(droid_to_width([0.0, 0.5, 1.0], 0.085), [0.085, 0.0425, 0.0])
    np.testing.assert_allclose(width_to_droid([0.085, 0.0425, 0.0], 0.085), [0.0, 0.5, 1.0])
    for facts in GRIPPERS.values():
        np.testing.assert_allclose(facts.finger_to_droid(facts.droid_to_finger([0.0, 0.4, 1.0])), [0.0, 0.4, 1.0])
    _, desc = robot_spec()
    np.testing.assert_allclose(desc.gripper_ctrl([0.0, 1.0]), [0.0425, 0.0])  # DROID 0 = open
    # DROID gripper_position = 1 − width / max_width: each finger holds half the width
    assert desc.droid_from_fingers([0.02125, 0.02125]) == pytest.approx(0.5)


# --- in the env ---------------------------------------------------------------------------------


@pytest.mark.parametrize("gripper", OWN_GRIPPERS)
def test_observed_gripper_position_returns_to_the_commanded_value(gripper: str) -> None:
    env = gym.make(ENV_IDS["reach"], obs_mode="state", gripper=gripper)
    obs, _ = env.reset(seed=0)
    assert obs["gripper_position"][0] == pytest.approx(0.0, abs=1e-9)
    for target in (1.0, 0.25, 0.8, 0.5, 0.0):
        for _ in range(20):
            obs, *_ = env.step(np.append(frames.DROID_HOME, target).astype(np.float32))
        assert obs["gripper_position"][0] == pytest.approx(target, abs=0.05), target
    env.close()


def _solve(u: DroidEnv, ee: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Joints reaching the ``cosmos_ee`` pose ``ee`` (the decoder's IK moves a bounded step a call)."""
    for _ in range(200):
        result = u.decoder.ik.solve(ee[None], q)
        q = result.q[0]
        if result.position_error_mm[0] < 0.1 and result.rotation_error_deg[0] < 0.1:
            return q
    raise AssertionError("IK did not converge")


def _tcp_frame(u: DroidEnv) -> np.ndarray:
    return site_pose(u.model, u.data, "tcp")


def test_a_5cm_cube_is_grasped_and_lifted_10cm_without_slipping() -> None:
    env = gym.make(ENV_IDS["lift_cube"], obs_mode="state")  # default gripper: the Robotiq
    env.reset(seed=2)
    u: DroidEnv = env.unwrapped
    cube_q = u.model.jnt_qposadr[u.model.joint("cube_joint").id]
    # tool down, the tcp at cube-centre height over (0.5, 0): arrive there open, cube out of the way
    tcp_goal = np.array([0.5, 0.0, CUBE_HALF])
    ee = u.decoder.anchor_pose(frames.DROID_HOME)
    ee[:3, 3] = tcp_goal - ee[:3, :3] @ u.robot.tcp_in_ee
    low = _solve(u, ee, frames.DROID_HOME)
    ee[2, 3] += 0.10
    high = _solve(u, ee, low)
    u.data.qpos[cube_q : cube_q + 3] = [0.5, 0.3, CUBE_HALF]
    for _ in range(40):
        env.step(np.append(low, 0.0).astype(np.float32))
    assert np.linalg.norm(_tcp_frame(u)[:3, 3] - tcp_goal) < 2e-3
    # the cube between the open pads, resting on the table; close and settle
    axis = u.ee_pose()[:3, :3] @ u.robot.finger_axis_in_ee  # square to the pads, not corner-on
    yaw = float(np.arctan2(axis[1], axis[0]))
    u.data.qpos[cube_q : cube_q + 7] = [*tcp_goal[:2], CUBE_HALF, np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)]
    u.data.qvel[:] = 0.0
    mujoco.mj_forward(u.model, u.data)
    for _ in range(20):
        obs, *_ = env.step(np.append(low, 1.0).astype(np.float32))
    assert 0.3 < obs["gripper_position"][0] < 0.6  # stopped by a 5 cm cube: 1 − 50/85 ≈ 0.41

    def cube_in_tcp() -> np.ndarray:
        T = _tcp_frame(u)
        return T[:3, :3].T @ (u.data.xpos[u.model.body("cube").id] - T[:3, 3])

    before = cube_in_tcp()
    start_z = float(u.data.xpos[u.model.body("cube").id][2])
    for _ in range(45):
        env.step(np.append(high, 1.0).astype(np.float32))
    lifted = float(u.data.xpos[u.model.body("cube").id][2]) - start_z
    assert lifted > 0.095
    assert np.linalg.norm(cube_in_tcp() - before) < 5e-3
    assert u.task.is_success(u.data)
    env.close()


@pytest.mark.parametrize("gripper", OWN_GRIPPERS)
def test_wrist_camera_rides_on_the_gripper_and_sees_the_pads_in_the_lower_half(gripper: str) -> None:
    env = gym.make(ENV_IDS["lift_cube"], obs_mode="state", gripper=gripper, image_size=(180, 320))
    env.reset(seed=1)
    u: DroidEnv = env.unwrapped
    m, d = u.model, u.data
    cam = m.camera("wrist_image_left").id
    assert m.cam_bodyid[cam] == m.body(u.robot.gripper_body).id
    np.testing.assert_allclose(m.cam_intrinsic[cam][:2], [0.00294, 0.00294])  # ZED Mini lens: 700 px at 1280
    np.testing.assert_allclose(m.cam_sensorsize[cam], [0.005376, 0.003024])
    np.testing.assert_array_equal(m.cam_resolution[cam], [1280, 720])
    pos, mat = d.cam_xpos[cam], d.cam_xmat[cam].reshape(3, 3)
    fx = m.cam_intrinsic[cam][0] / m.cam_sensorsize[cam][0] * 320
    fy = m.cam_intrinsic[cam][1] / m.cam_sensorsize[cam][1] * 180
    columns = []
    for pad in _pads(m, u.robot):
        local = mat.T @ (d.geom_xpos[pad] - pos)
        assert local[2] < 0  # in front of the camera
        u_px, v_px = 160 + fx * local[0] / -local[2], 90 - fy * local[1] / -local[2]
        # below the image centre: the public simulators' mount (1.1 cm down the gripper, tilted
        # 18 degrees in) puts the pad centres about 2/3 of the way down, the tips lower
        assert 0 <= u_px < 320 and 180 * 0.55 < v_px < 180, (u_px, v_px)
        columns.append(u_px)
    assert columns[0] < 160 < columns[1] or columns[1] < 160 < columns[0]  # one each side


def test_wrist_image_shows_the_fingers_in_its_bottom_third() -> None:
    """Rendered: the black fingers fill the bottom of the wrist image, and only the bottom third
    (in the plain room, where nothing else on the table is as dark as the Robotiq)."""
    env = gym.make(ENV_IDS["lift_cube"], image_size=(90, 160), room="plain")
    obs, _ = env.reset(seed=1)
    env.close()
    image = obs["wrist_image_left"].astype(int)
    black = np.all(image < 40, axis=-1)  # the Robotiq's finish; table, cube and arm are lighter
    rows = np.flatnonzero(black.sum(axis=1) > 2)
    assert black.sum() > 100 and rows.min() >= 90 // 3, rows
    assert black[-1].any()  # the fingertips reach the bottom edge
    assert black[-10:, :80].any() and black[-10:, 80:].any()  # one finger each side


# --- loading and errors -------------------------------------------------------------------------


def test_unknown_gripper_is_a_config_error_naming_the_valid_ones() -> None:
    for call in (lambda: robot_spec("embedded", gripper="robotiq"),
                 lambda: DroidEnv(task="reach", obs_mode="state", gripper="robotiq")):
        with pytest.raises(ConfigError) as err:
            call()
        for name in VALID_GRIPPERS:
            assert repr(name) in str(err.value)


def test_menagerie_2f85_not_found_names_the_path_looked_at(menagerie_root: Path, monkeypatch) -> None:
    monkeypatch.setenv("MENAGERIE_ROOT", str(menagerie_root))
    monkeypatch.setitem(sys.modules, "robot_descriptions.robotiq_2f85_mj_description", None)  # not installed
    looked = str(menagerie_root / "robotiq_2f85" / "2f85.xml")
    for robot in ("embedded", "menagerie"):
        with pytest.raises(ResourceNotFoundError) as err:
            robot_spec(robot, gripper="menagerie_2f85")
        assert looked in str(err.value) and "robotiq_2f85" in str(err.value)
    with pytest.raises(FileNotFoundError, match="2f85"):
        DroidEnv(task="reach", obs_mode="state", gripper="menagerie_2f85")


def _description_module(name: str, path: Path) -> ModuleType:
    module = ModuleType(name)
    module.MJCF_PATH = str(path)  # type: ignore[attr-defined]
    return module


def test_robot_descriptions_package_provides_menagerie(menagerie_root: Path, monkeypatch, tmp_path: Path) -> None:
    """Without MENAGERIE_ROOT, ``robot_descriptions``' MJCF_PATH attributes locate the models
    (a stand-in module here: the real package clones Menagerie on first import)."""
    monkeypatch.delenv("MENAGERIE_ROOT", raising=False)
    panda = menagerie_root / "franka_emika_panda" / "panda.xml"
    missing_2f85 = tmp_path / "robotiq_2f85" / "2f85.xml"
    monkeypatch.setitem(sys.modules, "robot_descriptions", ModuleType("robot_descriptions"))
    monkeypatch.setitem(sys.modules, "robot_descriptions.panda_mj_description",
                        _description_module("robot_descriptions.panda_mj_description", panda))
    monkeypatch.setitem(sys.modules, "robot_descriptions.robotiq_2f85_mj_description",
                        _description_module("robot_descriptions.robotiq_2f85_mj_description", missing_2f85))
    assert resolve_menagerie_panda() == panda.resolve()
    # Menagerie's Panda with the project's Robotiq in place of Menagerie's hand
    model, desc = load_robot("menagerie")
    assert desc.variant == "menagerie" and desc.gripper == "robotiq_2f85" and model.nmesh > 0
    assert desc.source == panda.resolve()
    names = {model.body(i).name for i in range(model.nbody)}
    assert "hand" not in names and "robotiq_base" in names
    # ... or with its own hand
    model, desc = load_robot("menagerie", "franka_hand")
    assert desc.gripper_actuator == "actuator8" and desc.gripper_source is None
    # the 2F-85 path comes from robotiq_2f85_mj_description too, and is named when missing
    with pytest.raises(ResourceNotFoundError, match=str(missing_2f85)):
        resolve_menagerie_2f85()


def test_menagerie_arm_with_the_robotiq_in_an_env(menagerie_root: Path, monkeypatch) -> None:
    monkeypatch.setenv("MENAGERIE_ROOT", str(menagerie_root))
    env = gym.make(ENV_IDS["lift_cube"], obs_mode="state", robot="menagerie")
    obs, _ = env.reset(seed=0)
    u: DroidEnv = env.unwrapped
    assert u.robot.gripper == "robotiq_2f85" and obs["gripper_position"][0] == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose(u.ee_pose(), u.decoder.anchor_pose(frames.DROID_HOME), atol=1e-6)
    for _ in range(15):
        obs, *_ = env.step(np.append(frames.DROID_HOME, 1.0).astype(np.float32))
    assert obs["gripper_position"][0] > 0.95


# --- the scripted expert with each gripper ------------------------------------------------------


def _episode(env: gym.Env, policy: ScriptedPolicy, seed: int, execute: int = 8) -> tuple[bool, np.ndarray]:
    obs, info = env.reset(seed=seed)
    policy.reset()
    tracking = []
    while True:
        env.unwrapped.reanchor()
        chunk = policy.get_actions(obs, info["instruction"])
        for row in chunk.actions[:execute]:
            obs, _, terminated, truncated, info = env.step(row)
            tracking.append(info["tracking_position_error_mm"])
            if terminated or truncated:
                return bool(info["is_success"]), np.array(tracking)


@pytest.mark.parametrize(("gripper", "render_quality"),
                         [*((g, "fast") for g in OWN_GRIPPERS), ("robotiq_2f85", "faithful")])
@pytest.mark.parametrize("task", list(ENV_IDS))
def test_scripted_expert_succeeds_through_the_cosmos_path(task: str, gripper: str, render_quality: str) -> None:
    """20 seeds per task, gripper and preset, cosmos 10D actions: ≥ 18/20, tracking mean ≤ ~1 mm."""
    env = gym.make(ENV_IDS[task], action_mode="cosmos", obs_mode="state", gripper=gripper,
                   render_quality=render_quality)
    policy = ScriptedPolicy(env)
    np.testing.assert_allclose(policy.tcp_in_ee, env.unwrapped.robot.tcp_in_ee)
    results = [_episode(env, policy, seed) for seed in range(20)]
    env.close()
    ok = [s for s, (success, _) in enumerate(results) if success]
    tracking = float(np.mean(np.concatenate([t for _, t in results])))
    assert len(ok) >= 18, f"{task}/{gripper}: {len(ok)}/20, failed {sorted(set(range(20)) - set(ok))}"
    assert tracking <= 1.2, f"{task}/{gripper}: tracking mean {tracking:.2f} mm"


def test_same_seed_same_episode_with_the_robotiq() -> None:
    env = gym.make(ENV_IDS["cube_in_bowl"], action_mode="cosmos", obs_mode="state")
    policy = ScriptedPolicy(env)
    runs = []
    for _ in range(2):
        ok, _tracking = _episode(env, policy, seed=4)
        runs.append((ok, env.unwrapped.data.qpos.copy()))
    env.close()
    assert runs[0][0] and runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
