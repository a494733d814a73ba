"""The Cosmos 3 embodiment table: one row per robot domain the model knows.

Names, domain ids, raw action widths, control rates and default chunk sizes follow
diffusers' Cosmos3 domain table. ``stats`` names the JSON file in ``stats/`` holding the
action normalization statistics, where the toolkit ships one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .errors import ConfigError, InvalidTypeError

NormalizationKind = Literal["quantile", "meanstd", "minmax", "quantile_rot"]
GripperConvention = Literal["cosmos_grasp_open_1", "none"]

EE_DELTA_COLUMNS: tuple[str, ...] = ("tx", "ty", "tz", "r0", "r1", "r2", "r3", "r4", "r5", "grasp")


@dataclass(frozen=True)
class Embodiment:
    """One robot domain.

    raw_dim: width of one de-normalized action row. fps: control rate in Hz (None when
    the table does not give one). gripper: how the last column is to be read
    (``cosmos_grasp_open_1``: 1 = open, 0 = closed after de-normalization).
    """

    name: str
    domain_name: str
    domain_id: int
    raw_dim: int
    columns: tuple[str, ...]
    fps: float | None
    default_chunk: int | None
    gripper: GripperConvention
    normalization: NormalizationKind
    stats: str | None
    aliases: tuple[str, ...] = ()


def _generic_columns(width: int) -> tuple[str, ...]:
    return tuple(f"a{i}" for i in range(width))


EMBODIMENTS: tuple[Embodiment, ...] = (
    Embodiment("droid", "droid_lerobot", 8, 10, EE_DELTA_COLUMNS, 15.0, 16,
               "cosmos_grasp_open_1", "quantile", "droid_lerobot", ("droid_lerobot", "franka")),
    Embodiment("bridge", "bridge_orig_lerobot", 7, 10, EE_DELTA_COLUMNS, 5.0, 16,
               "cosmos_grasp_open_1", "quantile", None, ("bridge_orig_lerobot", "widowx")),
    Embodiment("umi", "umi", 6, 10, EE_DELTA_COLUMNS, 20.0, 16,
               "cosmos_grasp_open_1", "quantile", None),
    Embodiment("fractal", "fractal", 20, 10, EE_DELTA_COLUMNS, 3.0, 16,
               "cosmos_grasp_open_1", "quantile", None, ("rt1", "google_robot")),
    Embodiment("av", "av", 1, 9, EE_DELTA_COLUMNS[:9], 10.0, 60,
               "none", "quantile", None),
    Embodiment("agibot", "agibotworld", 15, 29, _generic_columns(29), None, None,
               "none", "quantile", None, ("agibotworld",)),
    Embodiment("camera_pose", "camera_pose", 2, 9, EE_DELTA_COLUMNS[:9], None, None,
               "none", "quantile", None),
    Embodiment("hand_pose", "hand_pose", 3, 57, _generic_columns(57), None, None,
               "none", "quantile", None),
    Embodiment("pusht", "pusht", 4, 2, ("x", "y"), None, None, "none", "quantile", None),
    Embodiment("galbot", "galbot", 9, 30, _generic_columns(30), None, None,
               "none", "quantile", None),
    Embodiment("robomind_franka_dual", "robomind-franka-dual", 12, 20, _generic_columns(20),
               None, None, "none", "quantile", None, ("robomind-franka-dual",)),
    Embodiment("robomind_ur", "robomind-ur", 13, 10, EE_DELTA_COLUMNS, None, None,
               "cosmos_grasp_open_1", "quantile", None, ("robomind-ur",)),
)

_BY_NAME: dict[str, Embodiment] = {}
for _e in EMBODIMENTS:
    for _key in (_e.name, *_e.aliases):
        _BY_NAME[_key.lower()] = _e


def embodiment_names() -> list[str]:
    """Canonical embodiment names."""
    return [e.name for e in EMBODIMENTS]


def get_embodiment(name: str | Embodiment) -> Embodiment:
    """Look up an embodiment by name or alias (case-insensitive)."""
    if isinstance(name, Embodiment):
        return name
    if not isinstance(name, str):
        raise InvalidTypeError(f"embodiment must be a name string, got {type(name).__name__}")
    found = _BY_NAME.get(name.strip().lower())
    if found is None:
        valid = ", ".join(sorted(_BY_NAME))
        hint = " ('libero' has no action width in Cosmos3 and is not supported)" if name.lower() == "libero" else ""
        raise ConfigError(f"unknown embodiment {name!r}{hint}; valid names: {valid}")
    return found
