"""The Policy contract: action layouts, the :class:`ActionChunk` a policy returns, the
:class:`Policy` base class every backend implements and the :class:`WorldModel` modes some offer.

It sits with the core facts because both sides of the wire use it: the backends in
``policies/`` implement it and the websocket server in ``service/`` serves any of them.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, get_args, runtime_checkable

import numpy as np

from .errors import InvalidInputError, PolicyError
from .observations import DEFAULT_CAMERA

Layout = Literal["cosmos_ee_delta", "joint_pos", "joint_vel"]
LAYOUTS: tuple[Layout, ...] = get_args(Layout)
LAYOUT_WIDTH: dict[Layout, int] = {"cosmos_ee_delta": 10, "joint_pos": 8, "joint_vel": 8}
"""Row width of each layout: normalized ``[tx, ty, tz, r0..r5, grasp]``; 7 absolute joint angles
(rad) + gripper; or 7 DROID joint velocities in [−1, 1] (Δq = 0.2·v rad per 15 Hz step) + gripper.
The gripper is absolute everywhere, 0 open .. 1 closed."""
LAYOUT_OF_WIDTH: dict[int, Layout] = {10: "cosmos_ee_delta", 8: "joint_pos"}
"""The layout a bare row width means when nobody names one. Width 8 is ``joint_pos``: what the
RoboLab server answers and what an action file of 8-wide rows holds; velocity rows are 8 wide too,
so they are only ever taken as ``joint_vel`` when a server, file or option says so."""
ENV_ACTION_MODE: dict[Layout, str] = {
    "cosmos_ee_delta": "cosmos", "joint_pos": "joint_position", "joint_vel": "joint_velocity",
}
"""The DroidEnv ``action_mode`` that executes each layout's rows as they are."""
ACTION_SPACE_MISMATCH = "action_space_mismatch"
"""``ActionChunk.info`` key a client sets when a chunk's joint rows look like the other DROID action
space than the one they run in (the value names it); a rollout counts those chunks per episode."""
ACTION_SPACE_LOG = "robosim_cosmos.action_space"
"""The logger on which clients warn (once) about such chunks."""

WHOLE_CHUNK: Literal["chunk"] = "chunk"
"""``Policy.default_open_loop_steps`` value: execute every row of each chunk before asking again."""
OpenLoopDefault = int | Literal["chunk"] | None
DEFAULT_OPEN_LOOP_STEPS = 8
"""Rows executed per chunk when neither the run nor the policy says (0.5 s at 15 Hz)."""


def open_loop_steps(requested: int | None, policy_default: OpenLoopDefault, chunk_rows: int) -> int:
    """How many rows of a ``chunk_rows``-row chunk to execute before asking the policy again.

    ``requested`` (the run's explicit setting) wins; else the policy's
    ``default_open_loop_steps`` (an int, or ``"chunk"``: all rows); else
    :data:`DEFAULT_OPEN_LOOP_STEPS`. Never more than the chunk holds, never less than 1.
    """
    if requested is not None:
        steps = int(requested)
    elif policy_default == WHOLE_CHUNK:
        steps = chunk_rows
    elif policy_default is not None:
        steps = int(policy_default)
    else:
        steps = DEFAULT_OPEN_LOOP_STEPS
    return max(1, min(steps, chunk_rows))


def check_layout(layout: object) -> Layout:
    """``layout`` if it is a known layout, else InvalidInputError listing the valid ones."""
    if layout not in LAYOUT_WIDTH:
        raise InvalidInputError(f"unknown action layout {layout!r}; valid: {list(LAYOUTS)}")
    return layout


@dataclass
class ActionChunk:
    """One policy answer.

    actions: float32 [T, D]; D = 10 for ``cosmos_ee_delta`` (normalized
        ``[tx, ty, tz, r0..r5, grasp]``), 8 for ``joint_pos`` (7 joint angles in rad
        plus the gripper in DROID convention, 0 open .. 1 closed). T may be 0 for a
        chunk that only carries a predicted video.
    predicted_video: uint8 [F, H, W, 3] of the world the policy expects (frame 0 is the
        state the chunk starts from, frame k the state after row k), or None.
    info: backend details (``latency_s`` at least, when measured).
    """

    actions: np.ndarray
    layout: Layout
    embodiment: str = "droid"
    predicted_video: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.layout not in LAYOUT_WIDTH:
            raise PolicyError(f"unknown action layout {self.layout!r}; valid: {list(LAYOUTS)}")
        actions = np.asarray(self.actions)
        width = LAYOUT_WIDTH[self.layout]
        if actions.ndim != 2 or actions.shape[1] != width:
            raise PolicyError(
                f"layout {self.layout!r} needs actions of shape [T, {width}], got {actions.shape}"
            )
        if not np.all(np.isfinite(actions)):
            bad = np.argwhere(~np.isfinite(actions))[0]
            raise PolicyError(f"policy returned a non-finite action (row {bad[0]}, column {bad[1]})")
        self.actions = actions.astype(np.float32, copy=False)
        if self.predicted_video is not None:
            video = np.asarray(self.predicted_video)
            if video.dtype != np.uint8 or video.ndim != 4 or video.shape[-1] != 3:
                raise PolicyError(
                    f"predicted_video must be uint8 [F, H, W, 3], got {video.dtype} {video.shape}"
                )
            self.predicted_video = video

    def __len__(self) -> int:
        return int(self.actions.shape[0])

    def validated(self) -> ActionChunk:
        """A re-checked copy (shape, layout, NaN): a policy may have mutated the arrays."""
        return ActionChunk(self.actions, self.layout, self.embodiment, self.predicted_video, self.info)


class Policy(abc.ABC):
    """What every backend implements.

    ``get_actions`` takes a DROID-style observation dict (keys from
    :mod:`robosim_cosmos.observations`) and the instruction and returns an ActionChunk.

    Declared capabilities (class or instance attributes):
    ``layout`` and ``chunk_size`` describe the chunks; ``needs_images``: whether the
    observation must carry camera images (False lets envs skip rendering);
    ``predicts_video``: whether chunks can carry a predicted video, switched with
    :meth:`set_return_video`; ``view_point`` and ``camera``: the view that video shows (and the
    policy is conditioned on): ``ego_view`` of one exterior ``camera``, or ``concat_view`` (wrist
    over both exteriors, ``policies.conditioning``), so the world-model score compares like with like.
    ``default_open_loop_steps``: how many rows of each chunk the policy's reference client executes
    (an int, or ``"chunk"`` for all of them); None leaves it to the run (:func:`open_loop_steps`).
    """

    layout: Layout
    chunk_size: int
    embodiment: str = "droid"
    needs_images: bool = True
    predicts_video: bool = False
    view_point: str = "ego_view"
    camera: str = DEFAULT_CAMERA
    default_open_loop_steps: OpenLoopDefault = None
    _return_video: bool = True

    @abc.abstractmethod
    def get_actions(self, observation: Mapping[str, Any], instruction: str) -> ActionChunk:
        """One chunk for this observation and instruction."""

    def reset(self) -> None:  # noqa: B027 - optional hook with a no-op default
        """Start of an episode (default: nothing to forget)."""

    def connect(self) -> Mapping[str, Any]:
        """Make the policy ready to answer and return what it announces about itself (a remote
        policy: its server's metadata frame); default: nothing to do, ``{}``."""
        return {}

    def close(self) -> None:  # noqa: B027 - optional hook with a no-op default
        """Release resources (connections, models); default no-op."""

    @property
    def return_video(self) -> bool:
        """Whether chunks currently carry a predicted video."""
        return self.predicts_video and self._return_video

    def set_return_video(self, enabled: bool) -> None:
        """Ask for (True) or skip (False) the predicted video; ignored by policies that predict none."""
        self._return_video = bool(enabled)

    def set_execution_horizon(self, steps: int) -> None:  # noqa: B027 - optional hook with a no-op default
        """The caller executes only the first ``steps`` rows of each chunk; a policy may skip
        work for the rest (the scripted expert simulates no further). Default: ignored."""

    def __enter__(self) -> Policy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


WorldModelMode = Literal["forward_dynamics", "inverse_dynamics"]
WORLD_MODEL_MODES: tuple[WorldModelMode, ...] = get_args(WorldModelMode)


@runtime_checkable
class WorldModel(Protocol):
    """A policy that is also a world model (a Cosmos 3 checkpoint is).

    ``forward_dynamics``: the chunk whose predicted video shows the world after executing
    ``actions`` (normalized rows, float [T, D]) from ``observation``; ``inverse_dynamics``: the
    chunk of actions that turns the first frame of ``video`` (uint8 [T+1, H, W, 3], the policy's
    ``view_point``) into the rest. Both return an :class:`ActionChunk`.
    """

    def forward_dynamics(self, observation: Mapping[str, Any], instruction: str, actions: Any) -> ActionChunk: ...

    def inverse_dynamics(self, video: Any, instruction: str) -> ActionChunk: ...
