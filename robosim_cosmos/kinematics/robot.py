"""Load the Franka Panda MJCF (embedded or MuJoCo Menagerie) with the project's frames.

Two variants share one description of names and gripper range:

- ``"embedded"``: ``envs/panda.xml``, written for this project (primitives, exact DH kinematics).
- ``"menagerie"``: MuJoCo Menagerie's ``franka_emika_panda/panda.xml`` (meshes, opt-in fidelity),
  found via ``MENAGERIE_ROOT``, the ``mujoco-menagerie`` package, or an explicit path.

Whatever the source, the loader adds the sites ``flange``, ``cosmos_ee`` and ``tcp`` to ``link7``
from :data:`robosim_cosmos.kinematics.frames.SITE_OFFSETS_FROM_FLANGE` and turns on gravity
compensation for every robot body (it must be set at compile time).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import mujoco
import numpy as np

from robosim_cosmos._resources import envs_dir
from robosim_cosmos.kinematics import frames
from robosim_cosmos.kinematics.gripper import FINGER_OPEN_M, droid_to_finger_opening

from ..errors import ConfigError, ResourceNotFoundError

RobotVariant = Literal["embedded", "menagerie"]

VALID_ROBOTS: tuple[str, ...] = get_args(RobotVariant)
"""Robot names accepted besides a path."""

MENAGERIE_ENV_VAR = "MENAGERIE_ROOT"
MENAGERIE_PANDA_DIR = "franka_emika_panda"
MENAGERIE_PANDA_XML = "panda.xml"
MENAGERIE_PANDA_ENTRY = "panda"

SITE_NAMES: tuple[str, ...] = tuple(frames.SITE_OFFSETS_FROM_FLANGE)
"""Sites the loader adds to ``link7``: flange, cosmos_ee, tcp."""
SITE_BODY = "link7"
SITE_GROUP = 5
SITE_SIZE = 0.005

_BASE_BODY = "link0"
_ARM_JOINTS = tuple(f"joint{i}" for i in range(1, 8))
_FINGER_JOINTS = ("finger_joint1", "finger_joint2")
_ARM_ACTUATORS = tuple(f"actuator{i}" for i in range(1, 8))
_GRIPPER_ACTUATORS: dict[RobotVariant, str] = {"embedded": "gripper", "menagerie": "actuator8"}


@dataclass(frozen=True)
class RobotDescription:
    """Names and gripper range of a loaded Panda model."""

    variant: RobotVariant
    source: Path
    base_body: str
    arm_joints: tuple[str, ...]
    finger_joints: tuple[str, str]
    arm_actuators: tuple[str, ...]
    gripper_actuator: str
    gripper_ctrl_open: float
    gripper_ctrl_closed: float

    def gripper_ctrl(self, droid: np.ndarray | float) -> np.ndarray:
        """DROID gripper (0 open .. 1 closed, clipped) → gripper actuator ctrl (linear)."""
        droid = np.clip(np.asarray(droid, dtype=np.float64), 0.0, 1.0)
        fraction_open = droid_to_finger_opening(droid) / FINGER_OPEN_M
        return self.gripper_ctrl_closed + fraction_open * (
            self.gripper_ctrl_open - self.gripper_ctrl_closed
        )


def _menagerie_hint() -> str:
    return (
        f"set {MENAGERIE_ENV_VAR}=/path/to/mujoco_menagerie (the folder containing "
        f"{MENAGERIE_PANDA_DIR}/), install the `mujoco-menagerie` package, or pass the path "
        f"of {MENAGERIE_PANDA_DIR}/{MENAGERIE_PANDA_XML}"
    )


def _panda_xml_in(path: Path) -> Path:
    """A panda.xml file given a file, a franka_emika_panda folder or a menagerie root."""
    if path.is_file():
        return path
    for candidate in (path / MENAGERIE_PANDA_XML, path / MENAGERIE_PANDA_DIR / MENAGERIE_PANDA_XML):
        if candidate.is_file():
            return candidate
    raise ResourceNotFoundError(
        f"no Panda MJCF at {path}: looked for {path / MENAGERIE_PANDA_XML} and "
        f"{path / MENAGERIE_PANDA_DIR / MENAGERIE_PANDA_XML}; {_menagerie_hint()}"
    )


def resolve_menagerie_panda(root: str | os.PathLike[str] | None = None) -> Path:
    """Absolute path of Menagerie's ``franka_emika_panda/panda.xml``.

    Looks at ``root`` (menagerie root, the ``franka_emika_panda`` folder or the XML itself),
    else ``$MENAGERIE_ROOT`` (same forms), else the ``mujoco-menagerie`` package (which may
    download the model on first use). Raises FileNotFoundError when none of these has it.
    """
    if root is not None:
        return _panda_xml_in(Path(root).expanduser()).resolve()
    env_root = os.environ.get(MENAGERIE_ENV_VAR)
    if env_root:
        try:
            return _panda_xml_in(Path(env_root).expanduser()).resolve()
        except FileNotFoundError as err:
            raise ResourceNotFoundError(f"{MENAGERIE_ENV_VAR}={env_root}: {err}") from None
    try:
        import mujoco_menagerie  # optional, never a dependency
    except ImportError:
        raise ResourceNotFoundError(
            f"MuJoCo Menagerie Panda not found: {MENAGERIE_ENV_VAR} is unset and the "
            f"`mujoco-menagerie` package is not installed; {_menagerie_hint()}"
        ) from None
    try:
        xml = Path(mujoco_menagerie.get(MENAGERIE_PANDA_DIR).xml(MENAGERIE_PANDA_ENTRY))
    except Exception as err:  # MenagerieError, download/network errors
        raise ResourceNotFoundError(
            f"the `mujoco-menagerie` package could not provide {MENAGERIE_PANDA_DIR} ({err}); "
            f"{_menagerie_hint()}"
        ) from err
    if not xml.is_file():
        raise ResourceNotFoundError(f"{xml} does not exist; {_menagerie_hint()}")
    return xml.resolve()


def _looks_like_path(robot: str) -> bool:
    return (
        os.sep in robot
        or "/" in robot
        or robot.endswith(".xml")
        or robot.startswith(("~", "."))
        or Path(robot).exists()
    )


def _resolve_source(robot: str | os.PathLike[str]) -> Path:
    if isinstance(robot, str) and robot == "embedded":
        return (envs_dir() / "panda.xml").resolve()
    if isinstance(robot, str) and robot == "menagerie":
        return resolve_menagerie_panda()
    if isinstance(robot, os.PathLike) or (isinstance(robot, str) and _looks_like_path(robot)):
        path = Path(robot).expanduser()
        if not path.exists():
            raise ResourceNotFoundError(
                f"robot path {path} does not exist; pass 'embedded', 'menagerie' or the path of "
                f"a Panda MJCF ({MENAGERIE_PANDA_DIR}/{MENAGERIE_PANDA_XML}, that folder, or a "
                "menagerie root)"
            )
        return _panda_xml_in(path).resolve()
    raise ConfigError(
        f"unknown robot {robot!r}; valid: {', '.join(repr(v) for v in VALID_ROBOTS)} "
        "or a path to a Panda MJCF file / franka_emika_panda folder / menagerie root"
    )


def _detect_variant(spec: mujoco.MjSpec, source: Path) -> RobotVariant:
    for variant, actuator in _GRIPPER_ACTUATORS.items():
        if spec.actuator(actuator) is not None:
            return variant
    raise ConfigError(
        f"{source} is not a supported Panda MJCF: no gripper actuator named "
        f"{' or '.join(repr(a) for a in _GRIPPER_ACTUATORS.values())}"
    )


def _check_names(spec: mujoco.MjSpec, source: Path, gripper: str) -> None:
    missing = [n for n in (_BASE_BODY, SITE_BODY) if spec.body(n) is None]
    missing += [n for n in _ARM_JOINTS + _FINGER_JOINTS if spec.joint(n) is None]
    missing += [n for n in (*_ARM_ACTUATORS, gripper) if spec.actuator(n) is None]
    if missing:
        raise ConfigError(f"{source} is not a supported Panda MJCF: missing {missing}")


def _robot_bodies(spec: mujoco.MjSpec) -> list[mujoco.MjsBody]:
    base = spec.body(_BASE_BODY)
    return [base, *base.find_all(mujoco.mjtObj.mjOBJ_BODY)]


def _add_frame_sites(spec: mujoco.MjSpec) -> None:
    link7 = spec.body(SITE_BODY)
    for name, offset in frames.SITE_OFFSETS_FROM_FLANGE.items():
        pose = frames.T_LINK7_FLANGE @ offset
        quat = np.zeros(4)
        mujoco.mju_mat2Quat(quat, np.ascontiguousarray(pose[:3, :3]).ravel())
        site = spec.site(name)
        if site is None:
            site = link7.add_site(name=name)
        site.pos = pose[:3, 3]
        site.quat = quat
        site.size = [SITE_SIZE, SITE_SIZE, SITE_SIZE]
        site.group = SITE_GROUP
        site.rgba = [1.0, 0.3, 0.0, 0.5]


def robot_spec(robot: str | os.PathLike[str] = "embedded") -> tuple[mujoco.MjSpec, RobotDescription]:
    """Editable MjSpec of the Panda (sites added, gravcomp on) and its description.

    ``robot``: ``"embedded"``, ``"menagerie"``, or a path (panda.xml, the
    ``franka_emika_panda`` folder, or a menagerie root).
    """
    source = _resolve_source(robot)
    spec = mujoco.MjSpec.from_file(str(source))
    variant = _detect_variant(spec, source)
    gripper = _GRIPPER_ACTUATORS[variant]
    _check_names(spec, source, gripper)
    for body in _robot_bodies(spec):
        body.gravcomp = 1.0
    _add_frame_sites(spec)
    closed, open_ = (float(v) for v in spec.actuator(gripper).ctrlrange)
    description = RobotDescription(
        variant=variant,
        source=source,
        base_body=_BASE_BODY,
        arm_joints=_ARM_JOINTS,
        finger_joints=_FINGER_JOINTS,
        arm_actuators=_ARM_ACTUATORS,
        gripper_actuator=gripper,
        gripper_ctrl_open=open_,
        gripper_ctrl_closed=closed,
    )
    return spec, description


def load_robot(robot: str | os.PathLike[str] = "embedded") -> tuple[mujoco.MjModel, RobotDescription]:
    """Compiled MjModel of the bare Panda (see :func:`robot_spec`) and its description."""
    spec, description = robot_spec(robot)
    return spec.compile(), description


def site_pose(model: mujoco.MjModel, data: mujoco.MjData, site: str | int) -> np.ndarray:
    """World pose [4, 4] of ``site`` (name or id) from ``data`` (after mj_kinematics/mj_forward)."""
    site_id = site if isinstance(site, int) else mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, site)
    if site_id < 0:
        raise ConfigError(f"model has no site named {site!r}")
    pose = np.eye(4)
    pose[:3, :3] = data.site_xmat[site_id].reshape(3, 3)
    pose[:3, 3] = data.site_xpos[site_id]
    return pose
