"""The Panda MJCF variants: exact kinematics, frame sites, gravcomp, gripper, tracking, loading."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import mujoco
import numpy as np
import pytest

from robosim_cosmos.kinematics import frames
from robosim_cosmos.kinematics.assembly import load_robot, robot_spec
from robosim_cosmos.kinematics.gripper import droid_to_finger_opening
from robosim_cosmos.kinematics.menagerie import resolve_menagerie_panda
from robosim_cosmos.kinematics.robot_description import RobotDescription
from robosim_cosmos.kinematics.sites import site_pose

CONTROL_HZ = 15.0
RZ_PLUS_90 = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # DESIGN §2


def _rot_err(R_a: np.ndarray, R_b: np.ndarray) -> float:
    """Angle (rad) of R_aᵀ R_b (atan2 form: accurate near zero, unlike arccos of the trace)."""
    R = R_a.T @ R_b
    sin = 0.5 * np.linalg.norm([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]])
    return float(np.arctan2(sin, (np.trace(R) - 1.0) / 2.0))


def _pose(R: np.ndarray, t=(0.0, 0.0, 0.0)) -> np.ndarray:
    return frames.make_pose(R, t)


# These pin the Franka hand (its frames, 0.04 m fingers, Menagerie's own hand); the default
# Robotiq 2F-85 is covered by tests/test_gripper.py.
@pytest.fixture(scope="module")
def embedded() -> tuple[mujoco.MjModel, RobotDescription]:
    return load_robot("embedded", "franka_hand")


@pytest.fixture(scope="module")
def menagerie(menagerie_root: Path) -> tuple[mujoco.MjModel, RobotDescription]:
    return load_robot(menagerie_root, "franka_hand")


@pytest.fixture(params=["embedded", "menagerie"])
def robot(request) -> tuple[mujoco.MjModel, RobotDescription]:
    return request.getfixturevalue(request.param)


def _addr(model: mujoco.MjModel, desc: RobotDescription):
    qadr = np.array([model.joint(j).qposadr[0] for j in desc.arm_joints])
    fadr = np.array([model.joint(j).qposadr[0] for j in desc.finger_joints])
    aid = np.array([model.actuator(a).id for a in desc.arm_actuators])
    gid = model.actuator(desc.gripper_actuator).id
    return qadr, fadr, aid, gid


def _random_q(rng: np.random.Generator, n: int) -> np.ndarray:
    lo, hi = frames.JOINT_LIMITS.T
    return rng.uniform(lo, hi, size=(n, 7))


def _at_home(model: mujoco.MjModel, desc: RobotDescription, droid_gripper: float = 0.0) -> mujoco.MjData:
    qadr, fadr, aid, gid = _addr(model, desc)
    data = mujoco.MjData(model)
    data.qpos[qadr] = frames.DROID_HOME
    data.qpos[fadr] = droid_to_finger_opening(droid_gripper)
    data.ctrl[aid] = frames.DROID_HOME
    data.ctrl[gid] = desc.gripper_ctrl(droid_gripper)
    mujoco.mj_forward(model, data)
    return data


# --- kinematics -------------------------------------------------------------------------------


def test_description_names_exist(robot) -> None:
    model, desc = robot
    assert desc.base_body == "link0" and len(desc.arm_joints) == 7 and len(desc.arm_actuators) == 7
    for j in desc.arm_joints + desc.finger_joints:
        assert model.joint(j).id >= 0
    np.testing.assert_allclose(
        [model.jnt_range[model.joint(j).id] for j in desc.arm_joints], frames.JOINT_LIMITS
    )
    for a in (*desc.arm_actuators, desc.gripper_actuator):
        assert model.actuator(a).id >= 0
    np.testing.assert_allclose(model.actuator_ctrlrange[_addr(model, desc)[2]], frames.JOINT_LIMITS)


def test_flange_fk_matches_dh_table(robot) -> None:
    model, desc = robot
    qadr = _addr(model, desc)[0]
    data = mujoco.MjData(model)
    for q in _random_q(np.random.default_rng(0), 200):
        data.qpos[qadr] = q
        mujoco.mj_kinematics(model, data)
        expected = frames.dh_forward_kinematics(q)
        got = site_pose(model, data, "flange")
        assert np.linalg.norm(got[:3, 3] - expected[:3, 3]) < 1e-6
        assert _rot_err(got[:3, :3], expected[:3, :3]) < 1e-6
    base = model.body(desc.base_body).id
    np.testing.assert_allclose(data.xpos[base], np.zeros(3), atol=1e-12)
    np.testing.assert_allclose(data.xmat[base].reshape(3, 3), np.eye(3), atol=1e-12)


def test_frame_sites_and_hand(robot) -> None:
    model, desc = robot
    qadr = _addr(model, desc)[0]
    data = mujoco.MjData(model)
    hand = model.body("hand").id
    T_flange_hand = _pose(frames.rot_z(-np.pi / 4))
    for q in _random_q(np.random.default_rng(1), 20):
        data.qpos[qadr] = q
        mujoco.mj_kinematics(model, data)
        flange = site_pose(model, data, "flange")
        checks = {
            "cosmos_ee": flange @ _pose(RZ_PLUS_90),
            "tcp": flange @ T_flange_hand @ _pose(np.eye(3), [0.0, 0.0, 0.1034]),
        }
        hand_pose = _pose(data.xmat[hand].reshape(3, 3), data.xpos[hand])
        checks["hand"] = flange @ T_flange_hand
        for name, expected in checks.items():
            got = hand_pose if name == "hand" else site_pose(model, data, name)
            tol = 1e-6 if name == "hand" else 1e-9  # Menagerie writes the hand quat to 7 digits
            assert np.linalg.norm(got[:3, 3] - expected[:3, 3]) < tol, name
            assert _rot_err(got[:3, :3], expected[:3, :3]) < tol, name
        # DESIGN §2: T_cosmos_ee = T_hand · Rz(+135°), never the hand frame itself.
        cosmos_ee = site_pose(model, data, "cosmos_ee")
        assert _rot_err(cosmos_ee[:3, :3], hand_pose[:3, :3] @ frames.rot_z(3 * np.pi / 4)) < 1e-6
        assert _rot_err(cosmos_ee[:3, :3], hand_pose[:3, :3]) > 2.0
    for name in ("flange", "cosmos_ee", "tcp"):
        site = model.site(name)
        assert model.site_bodyid[site.id] == model.body("link7").id
        assert model.site_group[site.id] == 5


def test_gravcomp_set_on_every_robot_body(robot) -> None:
    model, desc = robot
    base = model.body(desc.base_body).id
    robot_bodies = [b for b in range(model.nbody) if model.body_rootid[b] == base]
    assert len(robot_bodies) >= 11
    np.testing.assert_array_equal(model.body_gravcomp[robot_bodies], 1.0)


def test_embedded_collision_filter(embedded) -> None:
    """Robot geoms never collide with each other but do collide with default world geoms."""
    model, desc = embedded
    robot = [g for g in range(model.ngeom) if model.geom_contype[g] or model.geom_conaffinity[g]]
    assert len(robot) >= 15
    for g in robot:
        assert model.geom_group[g] == 3
        assert model.geom_contype[g] & model.geom_conaffinity[g] == 0
        assert model.geom_conaffinity[g] & 1  # default world geom: contype = conaffinity = 1
    qadr = _addr(model, desc)[0]
    data = mujoco.MjData(model)
    for q in _random_q(np.random.default_rng(2), 50):
        data.qpos[qadr] = q
        mujoco.mj_forward(model, data)
        assert data.ncon == 0
    pads = [g for g in robot if model.geom_condim[g] >= 4]
    assert len(pads) == 2 and all(model.geom_friction[g][0] >= 1.0 for g in pads)


# --- physics ----------------------------------------------------------------------------------


def test_gravcomp_holds_droid_home(robot) -> None:
    model, desc = robot
    data = _at_home(model, desc)
    start = site_pose(model, data, "flange")[:3, 3].copy()
    mujoco.mj_step(model, data, nstep=round(1.0 / model.opt.timestep))
    assert np.linalg.norm(site_pose(model, data, "flange")[:3, 3] - start) < 1e-3


def test_gripper_polarity_under_physics(robot) -> None:
    model, desc = robot
    _, fadr, _, gid = _addr(model, desc)
    np.testing.assert_allclose(desc.gripper_ctrl(np.array([0.0, 0.5, 1.0])),
                               [desc.gripper_ctrl_open,
                                0.5 * (desc.gripper_ctrl_open + desc.gripper_ctrl_closed),
                                desc.gripper_ctrl_closed])
    assert desc.gripper_ctrl_open > desc.gripper_ctrl_closed
    data = _at_home(model, desc, droid_gripper=0.5)
    n = round(1.0 / model.opt.timestep)
    data.ctrl[gid] = desc.gripper_ctrl(0.0)  # DROID 0 = open
    mujoco.mj_step(model, data, nstep=n)
    np.testing.assert_allclose(data.qpos[fadr], 0.04, atol=1e-3)
    data.ctrl[gid] = desc.gripper_ctrl(1.0)  # DROID 1 = closed
    mujoco.mj_step(model, data, nstep=n)
    assert np.all(np.abs(data.qpos[fadr]) < 2e-3)
    data.ctrl[gid] = desc.gripper_ctrl(0.0)
    mujoco.mj_step(model, data, nstep=n)
    np.testing.assert_allclose(data.qpos[fadr], 0.04, atol=1e-3)


def test_embedded_tracks_15hz_joint_stream(embedded) -> None:
    model, desc = embedded
    qadr, _, aid, _ = _addr(model, desc)
    data = _at_home(model, desc)
    kin = mujoco.MjData(model)
    substeps = round(1.0 / CONTROL_HZ / model.opt.timestep)
    signs = np.array([1.0, -1.0, 1.0, 1.0, -1.0, 1.0, -1.0])

    def error_to(q: np.ndarray, site: str) -> float:
        kin.qpos[:] = data.qpos
        kin.qpos[qadr] = q
        mujoco.mj_kinematics(model, kin)
        return float(np.linalg.norm(site_pose(model, kin, site)[:3, 3] - site_pose(model, data, site)[:3, 3]))

    errors = {"tcp": [], "cosmos_ee": []}
    for k in range(1, round(3.0 * CONTROL_HZ) + 1):
        target = frames.DROID_HOME + 0.3 * signs * np.sin(2 * np.pi * 0.5 * k / CONTROL_HZ)
        data.ctrl[aid] = target
        mujoco.mj_step(model, data, nstep=substeps)
        # the target was commanded one control step before this measurement
        for site in errors:
            errors[site].append(error_to(target, site))
    for site, e in errors.items():
        assert np.mean(e) <= 5e-3, (site, np.mean(e))
    mujoco.mj_step(model, data, nstep=round(1.0 / model.opt.timestep))
    assert error_to(target, "tcp") <= 1e-3


# --- loading ----------------------------------------------------------------------------------


def test_unknown_robot_string_lists_valid_values() -> None:
    with pytest.raises(ValueError, match=r"embedded.*menagerie"):
        robot_spec("franka_panda")


def test_missing_path_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_robot(tmp_path / "nope.xml")
    with pytest.raises(FileNotFoundError):
        load_robot(str(tmp_path / "nope" / "panda.xml"))
    with pytest.raises(FileNotFoundError, match="MENAGERIE_ROOT"):
        load_robot(tmp_path)  # an existing folder without panda.xml


def test_menagerie_root_empty_dir_raises(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MENAGERIE_ROOT", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="MENAGERIE_ROOT"):
        load_robot("menagerie")


def test_menagerie_unset_and_package_missing_raises(monkeypatch) -> None:
    monkeypatch.delenv("MENAGERIE_ROOT", raising=False)
    monkeypatch.setitem(sys.modules, "mujoco_menagerie", None)  # import → ImportError
    with pytest.raises(FileNotFoundError, match="MENAGERIE_ROOT"):
        resolve_menagerie_panda()


def test_menagerie_package_fallback(menagerie_root: Path, monkeypatch) -> None:
    """Without MENAGERIE_ROOT the `mujoco-menagerie` package (faked here) provides the XML."""
    monkeypatch.delenv("MENAGERIE_ROOT", raising=False)
    asked = []

    def get(name: str) -> SimpleNamespace:
        asked.append(name)
        return SimpleNamespace(xml=lambda entry: menagerie_root / name / f"{entry}.xml")

    monkeypatch.setitem(sys.modules, "mujoco_menagerie", SimpleNamespace(get=get))
    expected = (menagerie_root / "franka_emika_panda" / "panda.xml").resolve()
    assert resolve_menagerie_panda() == expected and asked == ["franka_emika_panda"]


def test_menagerie_root_forms_resolve(menagerie_root: Path, monkeypatch) -> None:
    expected = (menagerie_root / "franka_emika_panda" / "panda.xml").resolve()
    for form in (menagerie_root, menagerie_root / "franka_emika_panda", expected):
        assert resolve_menagerie_panda(form) == expected
        monkeypatch.setenv("MENAGERIE_ROOT", str(form))
        assert resolve_menagerie_panda() == expected


def test_compiles_from_another_cwd(tmp_path: Path, menagerie_root: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    model, desc = load_robot("embedded")
    assert desc.variant == "embedded" and desc.source.is_absolute() and model.nu == 8
    monkeypatch.setenv("MENAGERIE_ROOT", str(menagerie_root))
    model, desc = load_robot("menagerie", "franka_hand")
    assert desc.variant == "menagerie" and desc.gripper_actuator == "actuator8"
    assert (desc.gripper_ctrl_open, desc.gripper_ctrl_closed) == (255.0, 0.0)
    assert model.nmesh > 0


def test_attach_into_scene_keeps_radians_and_sites() -> None:
    spec, desc = robot_spec("embedded")
    scene = mujoco.MjSpec()  # default compiler: angles in degrees
    for option in ("timestep", "integrator", "cone", "impratio"):
        setattr(scene.option, option, getattr(spec.option, option))
    scene.worldbody.add_frame(pos=[0.1, 0.0, 0.5]).attach_body(spec.body(desc.base_body), "robot/", "")
    model = scene.compile()
    np.testing.assert_allclose(
        [model.jnt_range[model.joint("robot/" + j).id] for j in desc.arm_joints], frames.JOINT_LIMITS
    )
    assert model.opt.timestep == 0.002
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    expected = frames.dh_forward_kinematics(np.zeros(7))
    np.testing.assert_allclose(site_pose(model, data, "robot/flange")[:3, 3],
                               expected[:3, 3] + [0.1, 0.0, 0.5], atol=1e-9)


def test_no_two_links_have_coincident_visual_surfaces():
    """Coaxial housings of the same radius in neighbouring links flicker (z-fighting) on camera."""
    model, desc = load_robot("embedded")
    data = mujoco.MjData(model)
    for joint, q in zip(desc.arm_joints, frames.DROID_HOME, strict=True):
        data.qpos[model.jnt_qposadr[model.joint(joint).id]] = q
    mujoco.mj_forward(model, data)
    cylinders = [g for g in range(model.ngeom)
                 if model.geom_group[g] == 2 and model.geom_type[g] == mujoco.mjtGeom.mjGEOM_CYLINDER]
    coincident = []
    for a in cylinders:
        for b in cylinders:
            if b <= a or model.geom_bodyid[a] == model.geom_bodyid[b]:
                continue
            axis_a, axis_b = data.geom_xmat[a].reshape(3, 3)[:, 2], data.geom_xmat[b].reshape(3, 3)[:, 2]
            offset = data.geom_xpos[b] - data.geom_xpos[a]
            off_axis = np.linalg.norm(offset - (offset @ axis_a) * axis_a)
            coaxial = abs(abs(axis_a @ axis_b) - 1) < 1e-6 and off_axis < 1e-6
            if coaxial and abs(model.geom_size[a][0] - model.geom_size[b][0]) < 1e-6:
                coincident.append((model.body(model.geom_bodyid[a]).name, model.body(model.geom_bodyid[b]).name))
    assert coincident == []
