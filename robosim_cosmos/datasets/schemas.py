"""The three DROID schemas a recording can be written in, as data (DESIGN §11).

A schema is a list of :class:`Feature`: its key in the dataset, dtype, shape and the per-frame
signal it is made of (:data:`Source`, computed by :mod:`.signals`). ``cosmos3-droid`` is NVIDIA's
Cosmos 3 DROID data (``droid_plus_lerobot_640x360``: 360×640 videos, ``success/`` and
``failure/`` written as two datasets); ``openpi-droid`` is openpi's DROID conversion (joint
*velocity* actions); ``lerobot-droid`` is LeRobot's port of DROID 1.0.1 (the subset DESIGN §11
lists). Every dataset also has the five index columns of :data:`INDEX_FEATURES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from ..errors import ConfigError
from ..observations import CAMERAS

SchemaName = Literal["cosmos3-droid", "openpi-droid", "lerobot-droid"]
SCHEMA_NAMES: tuple[SchemaName, ...] = get_args(SchemaName)
DEFAULT_SCHEMA: SchemaName = "cosmos3-droid"

FeatureDtype = Literal["float32", "int64", "bool", "string", "video"]

Source = Literal[
    "state.joint_position", "state.gripper_position", "state.cartesian_position", "state.joints_and_gripper",
    "action.joint_position", "action.gripper_position", "action.joint_velocity", "action.cartesian_position",
    "action.cartesian_velocity", "action.gripper_velocity", "action.joints_and_gripper",
    "action.joint_velocity_and_gripper",
    "camera.exterior_image_1_left", "camera.exterior_image_2_left", "camera.wrist_image_left",
    "instruction", "is_first", "is_last", "is_terminal", "success",
    "index.timestamp", "index.frame_index", "index.episode_index", "index.index", "index.task_index",
]
"""What a column is made of, per frame (state: measured before the frame's action; action: the
command the controller was sent at that frame; see :mod:`.signals`)."""
SOURCES: tuple[Source, ...] = get_args(Source)

JOINT_NAMES: tuple[str, ...] = tuple(f"joint_{i}" for i in range(7))
CARTESIAN_NAMES: tuple[str, ...] = ("x", "y", "z", "roll", "pitch", "yaw")
VIDEO_AXES: tuple[str, ...] = ("height", "width", "channels")


@dataclass(frozen=True)
class Feature:
    """One column (or video stream) of a dataset: ``key``, ``dtype``, ``shape`` as LeRobot's
    ``info.json`` lists it, the ``source`` signal and per-dimension ``names`` (None: unnamed)."""

    key: str
    dtype: FeatureDtype
    shape: tuple[int, ...]
    source: Source
    names: tuple[str, ...] | None = None

    @property
    def is_video(self) -> bool:
        return self.dtype == "video"

    @property
    def camera(self) -> str:
        """The DROID camera key of a video feature (``camera.<key>`` source)."""
        if not self.source.startswith("camera."):
            raise ConfigError(f"feature {self.key!r} is not a camera stream")
        return self.source.removeprefix("camera.")

    def info(self) -> dict[str, Any]:
        """The ``info.json`` entry (``dtype``, ``shape``, ``names``; videos add ``info`` when written)."""
        names = None if self.names is None else list(self.names)
        return {"dtype": self.dtype, "shape": list(self.shape), "names": names}


INDEX_FEATURES: tuple[Feature, ...] = (
    Feature("timestamp", "float32", (1,), "index.timestamp"),
    Feature("frame_index", "int64", (1,), "index.frame_index"),
    Feature("episode_index", "int64", (1,), "index.episode_index"),
    Feature("index", "int64", (1,), "index.index"),
    Feature("task_index", "int64", (1,), "index.task_index"),
)
"""The five columns every LeRobot v3 row carries (seconds from the episode start, frame in the
episode, episode, frame in the dataset, task)."""


@dataclass(frozen=True)
class Schema:
    """A dataset layout: ``robot_type`` and ``fps`` for info.json, the camera ``image_size``
    (height, width), the features (without the index columns) and whether successful and failed
    episodes go to two datasets, ``success/`` and ``failure/``, side by side."""

    name: SchemaName
    robot_type: str
    fps: int
    image_size: tuple[int, int]
    features: tuple[Feature, ...]
    split_by_outcome: bool
    description: str

    @property
    def all_features(self) -> tuple[Feature, ...]:
        """The schema's features followed by the five index columns (info.json's order)."""
        return (*self.features, *INDEX_FEATURES)

    @property
    def videos(self) -> tuple[Feature, ...]:
        return tuple(f for f in self.features if f.is_video)

    @property
    def columns(self) -> tuple[Feature, ...]:
        """What the data parquet files hold: every feature that is not a video."""
        return tuple(f for f in self.all_features if not f.is_video)

    def feature(self, key: str) -> Feature:
        for f in self.all_features:
            if f.key == key:
                return f
        raise ConfigError(f"schema {self.name} has no feature {key!r}; its features: "
                          f"{[f.key for f in self.all_features]}")


def _video(key: str, camera: str, size: tuple[int, int]) -> Feature:
    if camera not in CAMERAS:
        raise ConfigError(f"unknown camera {camera!r}; valid: {list(CAMERAS)}")
    return Feature(key, "video", (*size, 3), cast(Source, f"camera.{camera}"), VIDEO_AXES)


_COSMOS3_SIZE = (360, 640)
_DROID_SIZE = (180, 320)

SCHEMAS: dict[SchemaName, Schema] = {
    "cosmos3-droid": Schema(
        "cosmos3-droid", "panda", 15, _COSMOS3_SIZE,
        (
            Feature("observation.state.cartesian_position", "float32", (6,), "state.cartesian_position",
                    CARTESIAN_NAMES),
            Feature("observation.state.joint_positions", "float32", (7,), "state.joint_position", JOINT_NAMES),
            Feature("observation.state.gripper_position", "float32", (1,), "state.gripper_position",
                    ("gripper_position",)),
            Feature("action.joint_position", "float32", (7,), "action.joint_position", JOINT_NAMES),
            Feature("action.gripper_position", "float32", (1,), "action.gripper_position", ("gripper_position",)),
            _video("observation.image.wrist_image_left", "wrist_image_left", _COSMOS3_SIZE),
            _video("observation.image.exterior_image_1_left", "exterior_image_1_left", _COSMOS3_SIZE),
            _video("observation.image.exterior_image_2_left", "exterior_image_2_left", _COSMOS3_SIZE),
        ),
        split_by_outcome=True,
        description="NVIDIA Cosmos 3 DROID data (droid_plus_lerobot_640x360): success/ and failure/ datasets",
    ),
    "openpi-droid": Schema(
        "openpi-droid", "panda", 15, _DROID_SIZE,
        (
            _video("exterior_image_1_left", "exterior_image_1_left", _DROID_SIZE),
            _video("exterior_image_2_left", "exterior_image_2_left", _DROID_SIZE),
            _video("wrist_image_left", "wrist_image_left", _DROID_SIZE),
            Feature("joint_position", "float32", (7,), "state.joint_position", ("joint_position",)),
            Feature("gripper_position", "float32", (1,), "state.gripper_position", ("gripper_position",)),
            Feature("actions", "float32", (8,), "action.joint_velocity_and_gripper", ("actions",)),
        ),
        split_by_outcome=False,
        description="openpi's DROID conversion: 7 joint velocities + gripper position as actions",
    ),
    "lerobot-droid": Schema(
        "lerobot-droid", "Franka", 15, _DROID_SIZE,
        (
            Feature("is_first", "bool", (1,), "is_first"),
            Feature("is_last", "bool", (1,), "is_last"),
            Feature("is_terminal", "bool", (1,), "is_terminal"),
            Feature("language_instruction", "string", (1,), "instruction"),
            Feature("observation.state.gripper_position", "float32", (1,), "state.gripper_position",
                    ("gripper_position",)),
            Feature("observation.state.cartesian_position", "float32", (6,), "state.cartesian_position",
                    CARTESIAN_NAMES),
            Feature("observation.state.joint_position", "float32", (7,), "state.joint_position", JOINT_NAMES),
            Feature("observation.state", "float32", (8,), "state.joints_and_gripper", (*JOINT_NAMES, "gripper")),
            _video("observation.images.wrist_left", "wrist_image_left", _DROID_SIZE),
            _video("observation.images.exterior_1_left", "exterior_image_1_left", _DROID_SIZE),
            _video("observation.images.exterior_2_left", "exterior_image_2_left", _DROID_SIZE),
            Feature("action.gripper_position", "float32", (1,), "action.gripper_position", ("gripper_position",)),
            Feature("action.gripper_velocity", "float32", (1,), "action.gripper_velocity", ("gripper_velocity",)),
            Feature("action.cartesian_position", "float32", (6,), "action.cartesian_position", CARTESIAN_NAMES),
            Feature("action.cartesian_velocity", "float32", (6,), "action.cartesian_velocity", CARTESIAN_NAMES),
            Feature("action.joint_position", "float32", (7,), "action.joint_position", JOINT_NAMES),
            Feature("action.joint_velocity", "float32", (7,), "action.joint_velocity", JOINT_NAMES),
            Feature("action", "float32", (8,), "action.joints_and_gripper", (*JOINT_NAMES, "gripper")),
            Feature("is_episode_successful", "bool", (1,), "success"),
        ),
        split_by_outcome=False,
        description="LeRobot's DROID 1.0.1 port (the features DESIGN §11 lists)",
    ),
}
"""Every schema by name, in the order of :data:`SCHEMA_NAMES`."""


def get_schema(name: str) -> Schema:
    """The schema called ``name``; ConfigError listing the valid names otherwise."""
    if name not in SCHEMAS:
        raise ConfigError(f"unknown dataset schema {name!r}; valid: {list(SCHEMA_NAMES)}")
    return SCHEMAS[name]


def check_schema(name: object) -> SchemaName:
    """``name`` as a :data:`SchemaName`; ConfigError listing the valid names otherwise."""
    return get_schema(str(name)).name if isinstance(name, str) else get_schema(repr(name)).name
