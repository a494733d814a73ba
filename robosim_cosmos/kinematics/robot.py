"""Load the Franka Panda MJCF (embedded or MuJoCo Menagerie) with a gripper and the project's frames.

Two arm variants share one description of names and gripper range:

- ``"embedded"``: ``envs/panda.xml``, written for this project (bare arm + flange, primitives,
  exact DH kinematics).
- ``"menagerie"``: MuJoCo Menagerie's ``franka_emika_panda/panda.xml`` (meshes, opt-in fidelity),
  found via ``MENAGERIE_ROOT``, the ``robot_descriptions`` package (``panda_mj_description``),
  the ``mujoco-menagerie`` package, or an explicit path.

Grippers (``gripper=``, :data:`~robosim_cosmos.kinematics.gripper.VALID_GRIPPERS`), attached to
``link7`` at the flange through MjSpec, posed by ``frames.GRIPPER_MOUNTS``:

- ``"robotiq_2f85"`` (default, as on DROID): ``envs/grippers/robotiq_2f85.xml``, this project's.
- ``"franka_hand"``: ``envs/grippers/franka_hand.xml``; a Menagerie Panda keeps its own hand.
- ``"menagerie_2f85"``: Menagerie's ``robotiq_2f85/2f85.xml``, found next to the Menagerie
  Panda, under ``MENAGERIE_ROOT`` or via ``robot_descriptions`` (``robotiq_2f85_mj_description``).

A hand that the arm file already carries (Menagerie's ``panda.xml``) is removed first when
another gripper is asked for. Whatever the source, the loader adds the sites ``flange``,
``cosmos_ee`` and ``tcp`` to ``link7`` from :func:`robosim_cosmos.kinematics.frames.site_offsets_from_flange`
and turns on gravity compensation for every robot body (it must be set at compile time).
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import mujoco
import numpy as np

from robosim_cosmos._resources import envs_dir
from robosim_cosmos.kinematics import frames
from robosim_cosmos.kinematics.gripper import (
    DEFAULT_GRIPPER,
    GRIPPERS,
    VALID_GRIPPERS,
    GripperName,
    droid_to_range,
    range_to_droid,
)

from ..errors import ConfigError, ResourceNotFoundError

RobotVariant = Literal["embedded", "menagerie"]

VALID_ROBOTS: tuple[str, ...] = get_args(RobotVariant)
"""Robot names accepted besides a path."""

MENAGERIE_ENV_VAR = "MENAGERIE_ROOT"
MENAGERIE_PANDA_DIR = "franka_emika_panda"
MENAGERIE_PANDA_XML = "panda.xml"
MENAGERIE_PANDA_ENTRY = "panda"
MENAGERIE_2F85_DIR = "robotiq_2f85"
MENAGERIE_2F85_XML = "2f85.xml"
ROBOT_DESCRIPTIONS_PANDA = "robot_descriptions.panda_mj_description"
ROBOT_DESCRIPTIONS_2F85 = "robot_descriptions.robotiq_2f85_mj_description"
EMBEDDED_MODEL_NAME = "robosim_cosmos_panda"
"""``<mujoco model=...>`` of envs/panda.xml: how a file is recognised as the embedded arm."""

SITE_NAMES: tuple[str, ...] = tuple(frames.SITE_OFFSETS_FROM_FLANGE)
"""Sites the loader adds to ``link7``: flange, cosmos_ee, tcp."""
SITE_BODY = "link7"
SITE_GROUP = 5
SITE_SIZE = 0.005

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


@dataclass(frozen=True)
class RobotDescription:
    """Names, gripper range and tool geometry of a loaded Panda model.

    ``finger_open`` / ``finger_closed``: each finger joint's value fully open / closed;
    ``max_width_m``: distance between the pads fully open; ``tip_below_tcp_m``: how far the
    fingertips reach beyond the tcp along the tool axis; ``gripper_body``: the gripper's root
    body (mounted on the flange; the wrist camera hangs on it); ``finger_bodies``: left and right
    finger bodies (their subtrees are what touches objects).
    """

    variant: RobotVariant
    source: Path
    base_body: str
    arm_joints: tuple[str, ...]
    finger_joints: tuple[str, str]
    arm_actuators: tuple[str, ...]
    gripper_actuator: str
    gripper_ctrl_open: float
    gripper_ctrl_closed: float
    gripper: GripperName = DEFAULT_GRIPPER
    gripper_source: Path | None = None
    gripper_body: str = "robotiq_base"
    finger_bodies: tuple[str, str] = ("left_finger", "right_finger")
    finger_open: float = GRIPPERS[DEFAULT_GRIPPER].finger_open
    finger_closed: float = GRIPPERS[DEFAULT_GRIPPER].finger_closed
    max_width_m: float = GRIPPERS[DEFAULT_GRIPPER].max_width_m
    tip_below_tcp_m: float = GRIPPERS[DEFAULT_GRIPPER].tip_below_tcp_m

    def gripper_ctrl(self, droid: np.ndarray | float) -> np.ndarray:
        """DROID gripper (0 open .. 1 closed, clipped) → gripper actuator ctrl (linear)."""
        return droid_to_range(np.clip(droid, 0.0, 1.0), self.gripper_ctrl_open, self.gripper_ctrl_closed)

    def finger_qpos(self, droid: np.ndarray | float) -> np.ndarray:
        """DROID gripper (0 open .. 1 closed) → the value of each finger joint (linear)."""
        return droid_to_range(droid, self.finger_open, self.finger_closed)

    def droid_from_fingers(self, q: np.ndarray | float) -> float:
        """Mean finger joint value → DROID gripper (0 open .. 1 closed), clipped to [0, 1]
        (``1 − width / max_width`` for the slide-finger grippers)."""
        mean = float(np.mean(np.asarray(q, dtype=np.float64)))
        return float(np.clip(range_to_droid(mean, self.finger_open, self.finger_closed), 0.0, 1.0))

    @property
    def T_flange_tcp(self) -> np.ndarray:
        """Pose [4, 4] of the ``tcp`` (between the pad centres) in the flange frame."""
        T: np.ndarray = frames.TCP_FROM_FLANGE[self.gripper].copy()
        return T

    @property
    def tcp_in_ee(self) -> np.ndarray:
        """``tcp`` position [3] in the ``cosmos_ee`` frame."""
        T: np.ndarray = np.linalg.inv(frames.T_FLANGE_COSMOS_EE) @ frames.TCP_FROM_FLANGE[self.gripper]
        tcp: np.ndarray = T[:3, 3].copy()
        return tcp

    @property
    def finger_axis_in_ee(self) -> np.ndarray:
        """Line the fingers close along [3], in the ``cosmos_ee`` frame."""
        R_ee = frames.T_FLANGE_COSMOS_EE[:3, :3]
        axis: np.ndarray = R_ee.T @ frames.FINGER_AXIS_IN_FLANGE[self.gripper]
        return axis


def _menagerie_hint() -> str:
    return (
        f"set {MENAGERIE_ENV_VAR}=/path/to/mujoco_menagerie (the folder containing "
        f"{MENAGERIE_PANDA_DIR}/), install `robot_descriptions` or `mujoco-menagerie`, or pass the "
        f"path of {MENAGERIE_PANDA_DIR}/{MENAGERIE_PANDA_XML}"
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


def _robot_descriptions_path(module: str) -> Path | None:
    """``MJCF_PATH`` of a ``robot_descriptions`` module, or None when the package is absent.

    Importing a description may clone Menagerie on first use; any failure counts as absent."""
    try:
        description = importlib.import_module(module)
        return Path(description.MJCF_PATH)
    except Exception:  # noqa: BLE001  (ImportError, clone/network errors, no MJCF_PATH)
        return None


def resolve_menagerie_panda(root: str | os.PathLike[str] | None = None) -> Path:
    """Absolute path of Menagerie's ``franka_emika_panda/panda.xml``.

    Looks at ``root`` (menagerie root, the ``franka_emika_panda`` folder or the XML itself),
    else ``$MENAGERIE_ROOT`` (same forms), else the ``robot_descriptions`` package
    (``panda_mj_description.MJCF_PATH``), else the ``mujoco-menagerie`` package (either may
    download the model on first use). Raises ResourceNotFoundError when none of these has it.
    """
    if root is not None:
        return _panda_xml_in(Path(root).expanduser()).resolve()
    env_root = os.environ.get(MENAGERIE_ENV_VAR)
    if env_root:
        try:
            return _panda_xml_in(Path(env_root).expanduser()).resolve()
        except FileNotFoundError as err:
            raise ResourceNotFoundError(f"{MENAGERIE_ENV_VAR}={env_root}: {err}") from None
    described = _robot_descriptions_path(ROBOT_DESCRIPTIONS_PANDA)
    if described is not None:
        if not described.is_file():
            raise ResourceNotFoundError(
                f"{ROBOT_DESCRIPTIONS_PANDA}.MJCF_PATH = {described} does not exist; {_menagerie_hint()}"
            )
        return described.resolve()
    try:
        import mujoco_menagerie  # optional, never a dependency
    except ImportError:
        raise ResourceNotFoundError(
            f"MuJoCo Menagerie Panda not found: {MENAGERIE_ENV_VAR} is unset and neither "
            f"`robot_descriptions` nor `mujoco-menagerie` is installed; {_menagerie_hint()}"
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


def resolve_menagerie_2f85(panda_source: str | os.PathLike[str] | None = None) -> Path:
    """Absolute path of Menagerie's ``robotiq_2f85/2f85.xml``.

    Looks next to the Menagerie Panda ``panda_source`` (``<root>/robotiq_2f85/``), then under
    ``$MENAGERIE_ROOT``, then at the ``robot_descriptions`` package's
    ``robotiq_2f85_mj_description.MJCF_PATH``. Raises ResourceNotFoundError naming every path
    it looked at.
    """
    candidates: list[Path] = []
    if panda_source is not None:
        panda = Path(panda_source).expanduser()
        candidates.append(panda.parent.parent / MENAGERIE_2F85_DIR / MENAGERIE_2F85_XML)
    env_root = os.environ.get(MENAGERIE_ENV_VAR)
    if env_root:
        root = Path(env_root).expanduser()
        if root.name == MENAGERIE_PANDA_DIR or root.name == MENAGERIE_PANDA_XML:
            root = root.parent if root.name == MENAGERIE_PANDA_DIR else root.parent.parent
        candidates.append(root / MENAGERIE_2F85_DIR / MENAGERIE_2F85_XML)
    described = _robot_descriptions_path(ROBOT_DESCRIPTIONS_2F85)
    if described is not None:
        candidates.append(described)
    looked: list[str] = []
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
        if str(candidate) not in looked:
            looked.append(str(candidate))
    where = ", ".join(looked) if looked else "nowhere"
    raise ResourceNotFoundError(
        f"MuJoCo Menagerie's Robotiq 2F-85 ({MENAGERIE_2F85_DIR}/{MENAGERIE_2F85_XML}) not found: "
        f"looked at {where}; set {MENAGERIE_ENV_VAR} to a Menagerie root that holds "
        f"{MENAGERIE_2F85_DIR}/ or install `robot_descriptions`; the project's own model is "
        "gripper='robotiq_2f85'"
    )


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


@contextmanager
def quiet_empty_prefix_warning() -> Iterator[None]:
    """Attaching with prefix "" keeps the attached model's own names (what the rest of the
    toolkit looks up); mujoco warns that such a model may not save back to XML, which we never
    do. Other warnings pass through."""
    previous = mujoco.get_mju_user_warning()

    def handler(message: str) -> None:
        if "empty prefix" in message:
            return
        if previous is not None:
            previous(message)
        else:
            print(f"WARNING: {message}", file=sys.stderr)

    mujoco.set_mju_user_warning(handler)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*empty prefix.*")
            yield
    finally:
        mujoco.set_mju_user_warning(previous)


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


def _add_frame_sites(spec: mujoco.MjSpec, gripper: str = "franka_hand") -> None:
    link7 = spec.body(SITE_BODY)
    for name, offset in frames.site_offsets_from_flange(gripper).items():
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
    builtin = _builtin_hand_actuator(spec)
    names = _GRIPPER_NAMES[name]
    if name == "franka_hand" and builtin is not None:
        names = _GripperNames("hand", _GRIPPER_NAMES[name].finger_joints, _GRIPPER_NAMES[name].finger_bodies, builtin)
        _check_names(spec, source, [("joint", j) for j in names.finger_joints])
        attached: Path | None = None
    else:
        if spec.body("hand") is not None:
            _remove_builtin_hand(spec, builtin)
        attached = gripper_source(name, source if variant == "menagerie" else None)
        _attach_gripper(spec, name, attached)
    for body in _robot_bodies(spec):
        body.gravcomp = 1.0
    _add_frame_sites(spec, name)
    closed, open_ = (float(v) for v in spec.actuator(names.actuator).ctrlrange)
    if name == "menagerie_2f85":  # Menagerie's 2F-85: ctrl 0 = open .. 255 = closed
        open_, closed = closed, open_
    facts = GRIPPERS[name]
    description = RobotDescription(
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
    return spec, description


def load_robot(
    robot: str | os.PathLike[str] = "embedded", gripper: str | None = None
) -> tuple[mujoco.MjModel, RobotDescription]:
    """Compiled MjModel of the bare Panda with its gripper (see :func:`robot_spec`) and its description."""
    spec, description = robot_spec(robot, gripper)
    return compile_spec(spec), description


def compile_spec(spec: mujoco.MjSpec) -> mujoco.MjModel:
    """``spec.compile()`` without mujoco's warning about the gripper's empty attach prefix."""
    with quiet_empty_prefix_warning():
        return spec.compile()


def site_pose(model: mujoco.MjModel, data: mujoco.MjData, site: str | int) -> np.ndarray:
    """World pose [4, 4] of ``site`` (name or id) from ``data`` (after mj_kinematics/mj_forward)."""
    site_id = site if isinstance(site, int) else mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, site)
    if site_id < 0:
        raise ConfigError(f"model has no site named {site!r}")
    pose = np.eye(4)
    pose[:3, :3] = data.site_xmat[site_id].reshape(3, 3)
    pose[:3, 3] = data.site_xpos[site_id]
    return pose
