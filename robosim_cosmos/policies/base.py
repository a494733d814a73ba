"""The policy interface: observations and an instruction in, an action chunk out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Protocol, runtime_checkable

import numpy as np

from ..errors import PolicyError

Layout = Literal["cosmos_ee_delta", "joint_pos"]
LAYOUT_WIDTH: dict[str, int] = {"cosmos_ee_delta": 10, "joint_pos": 8}
LAYOUT_OF_WIDTH: dict[int, str] = {width: layout for layout, width in LAYOUT_WIDTH.items()}
ENV_ACTION_MODE: dict[str, str] = {"cosmos_ee_delta": "cosmos", "joint_pos": "joint_position"}
"""The DroidEnv ``action_mode`` that executes each layout's rows as they are."""


@dataclass
class ActionChunk:
    """One policy answer.

    actions: float32 [T, D]; D = 10 for ``cosmos_ee_delta`` (normalized
        ``[tx, ty, tz, r0..r5, grasp]``), 8 for ``joint_pos`` (7 joint angles in rad
        plus the gripper in DROID convention, 0 open .. 1 closed). T may be 0 for a
        chunk that only carries a predicted video.
    predicted_video: uint8 [F, H, W, 3] of the world the policy expects, or None.
    info: backend details (``latency_s`` at least, when measured).
    """

    actions: np.ndarray
    layout: Layout
    embodiment: str = "droid"
    predicted_video: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.layout not in LAYOUT_WIDTH:
            raise PolicyError(
                f"unknown action layout {self.layout!r}; valid: {sorted(LAYOUT_WIDTH)}"
            )
        actions = np.asarray(self.actions)
        width = LAYOUT_WIDTH[self.layout]
        if actions.ndim != 2 or actions.shape[1] != width:
            raise PolicyError(
                f"layout {self.layout!r} needs actions of shape [T, {width}], got {actions.shape}"
            )
        if not np.all(np.isfinite(actions)):
            bad = np.argwhere(~np.isfinite(actions))[0]
            raise PolicyError(
                f"policy returned a non-finite action (row {bad[0]}, column {bad[1]})"
            )
        self.actions = actions.astype(np.float32, copy=False)
        if self.predicted_video is not None:
            video = np.asarray(self.predicted_video)
            if video.dtype != np.uint8 or video.ndim != 4 or video.shape[-1] != 3:
                raise PolicyError(
                    "predicted_video must be uint8 [F, H, W, 3], got "
                    f"{video.dtype} {video.shape}"
                )
            self.predicted_video = video

    def __len__(self) -> int:
        return int(self.actions.shape[0])


@runtime_checkable
class Policy(Protocol):
    """What every backend implements.

    ``get_actions`` takes a DROID-style observation dict (keys
    ``exterior_image_1_left``, ``exterior_image_2_left``, ``wrist_image_left``,
    ``joint_position``, ``gripper_position``, ``cartesian_position``) and the
    instruction, and returns an ActionChunk.
    """

    embodiment: str
    layout: Layout
    chunk_size: int

    def get_actions(self, observation: Mapping[str, Any], instruction: str) -> ActionChunk: ...

    def reset(self) -> None: ...
