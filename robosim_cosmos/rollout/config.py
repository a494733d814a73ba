"""``RolloutConfig``: everything a run depends on, in one frozen dataclass.

The CLI builds one, :func:`robosim_cosmos.rollout` accepts one (or its fields as keyword
arguments), and ``summary.json`` records it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, get_args

from ..envs import task_of
from ..errors import ConfigError

Execution = Literal["native", "joint_position"]
EXECUTIONS: tuple[Execution, ...] = get_args(Execution)
ROBOTS_HELP = "embedded | menagerie | PATH"


@dataclass(frozen=True)
class RolloutConfig:
    """One closed-loop evaluation.

    env_id: a registered id (``robosim-cosmos envs``). policy: a spec string
    (:func:`robosim_cosmos.create_policy`), or a label when a ready policy object is run.
    Episode i uses seed ``seed + i``. Each chunk: re-anchor on the observed pose, ask the
    policy, execute the first ``open_loop_steps`` rows. ``execution="joint_position"``
    decodes cosmos chunks to joint targets (IK from the observed joints) and runs the env
    in joint-position mode. ``max_steps`` overrides the env's time limit. ``num_envs``
    worker processes run episodes in parallel, each with its own env and policy.
    """

    env_id: str
    policy: str
    episodes: int = 1
    seed: int = 0
    out: str = "runs/rollout"
    open_loop_steps: int = 8
    instruction: str | None = None
    video: bool = True
    robot: str = "embedded"
    num_envs: int = 1
    execution: Execution = "native"
    max_steps: int | None = None
    policy_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        task_of(self.env_id)  # ConfigError listing the ids
        if not isinstance(self.policy, str) or not self.policy:
            raise ConfigError(f"policy must be a spec string, got {self.policy!r}")
        for name in ("episodes", "open_loop_steps", "num_envs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ConfigError(f"seed must be an integer, got {self.seed!r}")
        if self.max_steps is not None and (
            isinstance(self.max_steps, bool) or not isinstance(self.max_steps, int) or self.max_steps < 1
        ):
            raise ConfigError(f"max_steps must be a positive integer or None, got {self.max_steps!r}")
        if self.execution not in EXECUTIONS:
            raise ConfigError(f"unknown execution {self.execution!r}; valid: {list(EXECUTIONS)}")
        if not isinstance(self.policy_kwargs, dict):
            raise ConfigError(f"policy_kwargs must be a dict, got {type(self.policy_kwargs).__name__}")
        object.__setattr__(self, "out", str(self.out))
        object.__setattr__(self, "robot", str(self.robot))
        object.__setattr__(self, "video", bool(self.video))

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        """Every field name (the keyword arguments :func:`robosim_cosmos.rollout` accepts)."""
        return tuple(f.name for f in fields(cls))

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (written into summary.json)."""
        return asdict(self)
