"""Assemble the Franka Panda MJCF (embedded or MuJoCo Menagerie) with a gripper and the project's frames.

Two arm variants share one description of names and gripper range
(:class:`~robosim_cosmos.kinematics.robot_description.RobotDescription`):

- ``"embedded"``: ``envs/panda.xml``, written for this project (bare arm + flange, primitives,
  exact DH kinematics).
- ``"menagerie"``: MuJoCo Menagerie's ``franka_emika_panda/panda.xml`` (meshes, opt-in fidelity),
  located by :mod:`robosim_cosmos.kinematics.menagerie`, or an explicit path.

Grippers (``gripper=``, :data:`~robosim_cosmos.kinematics.gripper.VALID_GRIPPERS`), attached to
``link7`` at the flange through MjSpec, posed by ``frames.GRIPPER_MOUNTS``:

- ``"robotiq_2f85"`` (default, as on DROID): ``envs/grippers/robotiq_2f85.xml``, this project's.
- ``"franka_hand"``: ``envs/grippers/franka_hand.xml``; a Menagerie Panda keeps its own hand.
- ``"menagerie_2f85"``: Menagerie's ``robotiq_2f85/2f85.xml``, found next to the Menagerie
  Panda, under ``MENAGERIE_ROOT`` or via ``robot_descriptions`` (``robotiq_2f85_mj_description``).

A hand that the arm file already carries (Menagerie's ``panda.xml``) is removed first when
another gripper is asked for. Whatever the source, the assembly adds the frame sites
(:mod:`robosim_cosmos.kinematics.sites`) to ``link7`` and turns on gravity compensation for
every robot body (it must be set at compile time).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np

from .._resources import envs_dir
from ..errors import ConfigError, ResourceNotFoundError
from . import frames
from .empty_prefix import compile_spec, quiet_empty_prefix_warning
from .gripper import DEFAULT_GRIPPER, GRIPPERS, VALID_GRIPPERS, GripperName
from .menagerie import (
    MENAGERIE_PANDA_DIR,
    MENAGERIE_PANDA_XML,
    panda_xml_in,
    resolve_menagerie_2f85,
    resolve_menagerie_panda,
)
from .robot_description import VALID_ROBOTS, RobotDescription, RobotVariant
from .sites import SITE_BODY, add_frame_sites

EMBEDDED_MODEL_NAME = "robosim_cosmos_panda"
"""``<mujoco model=...>`` of envs/panda.xml: how a file is recognised as the embedded arm."""

_BASE_BODY = "link0"
_ARM_JOINTS = tuple(f"joint{i}" for i in range(1, 8))
_ARM_ACTUATORS = tuple(f"actuator{i}" for i in range(1, 8))


@dataclass(frozen=True)
class _GripperNames:
    """Names a gripper model defines: its root body (mounted on the flange), the two coupled
    finger joints, the two bodies whose subtrees touch objects (left, right), the actuator."""

    root_body: str
    finger_joints: tuple[str, str]
    finger_bodies: tuple[str, str]
    actuator: str


_GRIPPER_NAMES: dict[str, _GripperNames] = {
    "robotiq_2f85": _GripperNames("robotiq_base", ("left_finger_joint", "right_finger_joint"),
                                  ("left_finger", "right_finger"), "gripper"),
    "franka_hand": _GripperNames("hand", ("finger_joint1", "finger_joint2"),
                                 ("left_finger", "right_finger"), "gripper"),
    "menagerie_2f85": _GripperNames("base", ("left_driver_joint", "right_driver_joint"),
                                    ("left_spring_link", "right_spring_link"), "fingers_actuator"),
}
_BUILTIN_HAND_ACTUATORS = ("gripper", "actuator8")  # an arm file's own Franka hand (ours before, Menagerie's)


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
        return panda_xml_in(path).resolve()
    raise ConfigError(
        f"unknown robot {robot!r}; valid: {', '.join(repr(v) for v in VALID_ROBOTS)} "
        "or a path to a Panda MJCF file / franka_emika_panda folder / menagerie root"
    )


def _check_gripper_name(gripper: str | None) -> GripperName:
    name = DEFAULT_GRIPPER if gripper is None else gripper
    if name not in VALID_GRIPPERS:
        raise ConfigError(
            f"unknown gripper {gripper!r}; valid: {', '.join(repr(g) for g in VALID_GRIPPERS)}"
        )
    return name  # type: ignore[return-value]


def _check_names(spec: mujoco.MjSpec, source: Path, names: list[tuple[str, str]]) -> None:
    lookups = {"body": spec.body, "joint": spec.joint, "actuator": spec.actuator}
    missing = [name for kind, name in names if lookups[kind](name) is None]
    if missing:
        raise ConfigError(f"{source} is not a supported Panda MJCF: missing {missing}")


def _arm_names() -> list[tuple[str, str]]:
    return ([("body", _BASE_BODY), ("body", SITE_BODY)] + [("joint", j) for j in _ARM_JOINTS]
            + [("actuator", a) for a in _ARM_ACTUATORS])


def _builtin_hand_actuator(spec: mujoco.MjSpec) -> str | None:
    """The actuator of a Franka hand the arm file carries itself, or None (a bare arm)."""
    if spec.body("hand") is None:
        return None
    return next((a for a in _BUILTIN_HAND_ACTUATORS if spec.actuator(a) is not None), None)


def _remove_builtin_hand(spec: mujoco.MjSpec, actuator: str | None) -> None:
    """Delete the arm file's own hand with what refers to its fingers (actuator, tendons,
    equalities, keyframes: the arm itself has none of these)."""
    if actuator is not None:
        spec.delete(spec.actuator(actuator))
    for group in (spec.tendons, spec.equalities, spec.keys):
        for element in list(group):
            spec.delete(element)
    spec.delete(spec.body("hand"))


def gripper_source(gripper: str, panda_source: str | os.PathLike[str] | None = None) -> Path:
    """The MJCF file of ``gripper`` (see :data:`VALID_GRIPPERS`)."""
    name = _check_gripper_name(gripper)
    if name == "menagerie_2f85":
        return resolve_menagerie_2f85(panda_source)
    path = envs_dir() / "grippers" / f"{name}.xml"
    if not path.is_file():
        raise ResourceNotFoundError(f"gripper model {path} is missing; reinstall robosim_cosmos")
    return path.resolve()


def _attach_gripper(spec: mujoco.MjSpec, name: GripperName, path: Path) -> None:
    gspec = mujoco.MjSpec.from_file(str(path))
    names = _GRIPPER_NAMES[name]
    _check_names(gspec, path, [("body", names.root_body), ("actuator", names.actuator)]
                 + [("joint", j) for j in names.finger_joints] + [("body", b) for b in names.finger_bodies])
    mount = frames.T_LINK7_FLANGE @ frames.GRIPPER_MOUNTS[name]
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, np.ascontiguousarray(mount[:3, :3]).ravel())
    frame = spec.body(SITE_BODY).add_frame(pos=mount[:3, 3], quat=quat)
    with quiet_empty_prefix_warning():
        spec.attach(gspec, frame=frame, prefix="")


def _robot_bodies(spec: mujoco.MjSpec) -> list[mujoco.MjsBody]:
    base = spec.body(_BASE_BODY)
    return [base, *base.find_all(mujoco.mjtObj.mjOBJ_BODY)]


def _fit_gripper(
    spec: mujoco.MjSpec, name: GripperName, source: Path, variant: RobotVariant
) -> tuple[_GripperNames, Path | None]:
    """Keep the arm file's own Franka hand, or replace any hand by ``name``'s model.

    Returns the gripper's names and the file attached (None when the arm's own hand stays)."""
    builtin = _builtin_hand_actuator(spec)
    if name == "franka_hand" and builtin is not None:
        names = _GripperNames("hand", _GRIPPER_NAMES[name].finger_joints, _GRIPPER_NAMES[name].finger_bodies, builtin)
        _check_names(spec, source, [("joint", j) for j in names.finger_joints])
        return names, None
    if spec.body("hand") is not None:
        _remove_builtin_hand(spec, builtin)
    attached = gripper_source(name, source if variant == "menagerie" else None)
    _attach_gripper(spec, name, attached)
    return _GRIPPER_NAMES[name], attached


def _describe(
    spec: mujoco.MjSpec, variant: RobotVariant, source: Path, name: GripperName,
    names: _GripperNames, attached: Path | None,
) -> RobotDescription:
    closed, open_ = (float(v) for v in spec.actuator(names.actuator).ctrlrange)
    if name == "menagerie_2f85":  # Menagerie's 2F-85: ctrl 0 = open .. 255 = closed
        open_, closed = closed, open_
    facts = GRIPPERS[name]
    return RobotDescription(
        variant=variant,
        source=source,
        base_body=_BASE_BODY,
        arm_joints=_ARM_JOINTS,
        finger_joints=names.finger_joints,
        arm_actuators=_ARM_ACTUATORS,
        gripper_actuator=names.actuator,
        gripper_ctrl_open=open_,
        gripper_ctrl_closed=closed,
        gripper=name,
        gripper_source=attached,
        gripper_body=names.root_body,
        finger_bodies=names.finger_bodies,
        finger_open=facts.finger_open,
        finger_closed=facts.finger_closed,
        max_width_m=facts.max_width_m,
        tip_below_tcp_m=facts.tip_below_tcp_m,
    )


def robot_spec(
    robot: str | os.PathLike[str] = "embedded", gripper: str | None = None
) -> tuple[mujoco.MjSpec, RobotDescription]:
    """Editable MjSpec of the Panda with a gripper (sites added, gravcomp on) and its description.

    ``robot``: ``"embedded"``, ``"menagerie"``, or a path (panda.xml, the
    ``franka_emika_panda`` folder, or a menagerie root). ``gripper``: one of
    :data:`VALID_GRIPPERS` (None: :data:`DEFAULT_GRIPPER`, the Robotiq 2F-85).
    """
    name = _check_gripper_name(gripper)
    source = _resolve_source(robot)
    spec = mujoco.MjSpec.from_file(str(source))
    variant: RobotVariant = "embedded" if spec.modelname == EMBEDDED_MODEL_NAME else "menagerie"
    _check_names(spec, source, _arm_names())
    names, attached = _fit_gripper(spec, name, source, variant)
    for body in _robot_bodies(spec):
        body.gravcomp = 1.0
    add_frame_sites(spec, name)
    return spec, _describe(spec, variant, source, name, names, attached)


def load_robot(
    robot: str | os.PathLike[str] = "embedded", gripper: str | None = None
) -> tuple[mujoco.MjModel, RobotDescription]:
    """Compiled MjModel of the bare Panda with its gripper (see :func:`robot_spec`) and its description."""
    spec, description = robot_spec(robot, gripper)
    return compile_spec(spec), description
