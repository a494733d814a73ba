"""``RolloutConfig``: everything a run depends on, in one frozen dataclass.

The CLI builds one, :func:`robosim_cosmos.rollout` accepts one (or its fields as keyword
arguments), ``summary.json`` records it (secrets redacted) and ``run.json`` records its
:meth:`~RolloutConfig.identity`: the fields that change what an episode means.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal, get_args

from .._version import __version__
from ..envs import InstructionTier, check_tier, task_of
from ..envs.scene import RENDER_QUALITIES as RENDER_QUALITIES  # the CLI's choices
from ..envs.scene import RenderQuality, check_render_quality
from ..errors import ConfigError
from .redact import redact_kwargs

Execution = Literal["native", "joint_position"]
EXECUTIONS: tuple[Execution, ...] = get_args(Execution)
ROBOTS_HELP = "embedded | menagerie | PATH"
IDENTITY_FIELDS: tuple[str, ...] = (
    "env_id", "policy", "policy_kwargs", "seed", "open_loop_steps", "instruction", "video", "robot",
    "execution", "max_steps", "render_quality", "instruction_tier",
)
"""The fields that change what an episode means: a run folder holds episodes of one identity.
``episodes``, ``num_envs``, ``out``, ``overwrite`` and ``retry_errors`` are not among them (more
episodes extend a run, more workers change nothing, the others say what to do with the folder)."""


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
    ``render_quality``: the env's look, ``fast`` or ``faithful`` (textures, shadows, AA;
    several times slower; what an image policy sees, so part of the run identity).
    ``instruction_tier``: which of the task's instruction templates the env samples from
    (``vague``, ``default`` or ``specific``; the scene of a seed is the same in every tier).

    Re-running the same identity (:data:`IDENTITY_FIELDS`) into ``out`` resumes it; another
    identity is refused unless ``overwrite`` (delete the folder's results and start over).
    ``retry_errors``: on resume, run the episodes that ended with an error again (same seeds)
    and replace their lines. Policy arguments named like a secret (``api_key``, ``token``, ...)
    are written as ``***`` everywhere.
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
    overwrite: bool = False
    retry_errors: bool = False
    render_quality: RenderQuality = "fast"
    instruction_tier: InstructionTier = "default"

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
        if self.seed < 0:
            raise ConfigError(f"seed must be >= 0 (episode i uses seed + i; gymnasium rejects negative seeds), "
                              f"got {self.seed}")
        if self.max_steps is not None and (
            isinstance(self.max_steps, bool) or not isinstance(self.max_steps, int) or self.max_steps < 1
        ):
            raise ConfigError(f"max_steps must be a positive integer or None, got {self.max_steps!r}")
        if self.execution not in EXECUTIONS:
            raise ConfigError(f"unknown execution {self.execution!r}; valid: {list(EXECUTIONS)}")
        check_render_quality(self.render_quality)  # ConfigError naming the valid ones
        check_tier(self.instruction_tier)  # ConfigError naming the tiers
        if not isinstance(self.policy_kwargs, dict):
            raise ConfigError(f"policy_kwargs must be a dict, got {type(self.policy_kwargs).__name__}")
        object.__setattr__(self, "out", str(self.out))
        object.__setattr__(self, "robot", str(self.robot))
        object.__setattr__(self, "video", bool(self.video))
        object.__setattr__(self, "overwrite", bool(self.overwrite))
        object.__setattr__(self, "retry_errors", bool(self.retry_errors))

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        """Every field name (the keyword arguments :func:`robosim_cosmos.rollout` accepts)."""
        return tuple(f.name for f in fields(cls))

    def redacted(self) -> RolloutConfig:
        """A copy whose secret policy arguments read ``***``."""
        return replace(self, policy_kwargs=redact_kwargs(self.policy_kwargs))

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form, secrets redacted (written into summary.json)."""
        doc = asdict(self)
        doc["policy_kwargs"] = redact_kwargs(self.policy_kwargs)
        return doc

    def identity(self) -> dict[str, Any]:
        """What makes two runs' episodes comparable (written to run.json): the
        :data:`IDENTITY_FIELDS`, secrets redacted, and the robosim_cosmos version."""
        doc = {name: getattr(self, name) for name in IDENTITY_FIELDS}
        doc["policy_kwargs"] = redact_kwargs(self.policy_kwargs)
        doc["version"] = __version__
        return doc
