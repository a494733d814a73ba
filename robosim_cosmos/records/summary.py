"""``summary.json`` (and ``eval_info.json`` beside it): a run's results summed up, with the
config, policy, versions and command that produced them."""

from __future__ import annotations

import json
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

from .._version import __version__
from ..metrics.adaptive import AdaptiveRule
from ..metrics.success import event_summary, mean_progress, success_summary
from ..metrics.trajectory import trajectory_summary
from ..metrics.world_model import world_model_summary
from .eval_info import eval_info
from .files import EVAL_INFO_FILE, SUMMARY_FILE
from .redact import redact_argv, redact_kwargs, secret_values
from .results import write_atomic


class RunConfig(Protocol):
    """What a summary reads of a run's configuration (``rollout.RolloutConfig`` is one)."""

    @property
    def policy(self) -> str: ...

    @property
    def policy_kwargs(self) -> dict[str, Any]: ...

    @property
    def video(self) -> bool: ...

    def to_json(self) -> dict[str, Any]: ...

    def adaptive_rule(self) -> AdaptiveRule | None: ...


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in ("numpy", "mujoco", "mink", "gymnasium", "robosim_cosmos", "torch", "diffusers"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            if name == "robosim_cosmos":
                out[name] = __version__
            elif name not in ("torch", "diffusers"):  # optional ones are listed only when installed
                out[name] = None
    return out


def write_summary(out: Path, cfg: RunConfig, lines: list[dict[str, Any]],
                  policy: dict[str, Any] | None = None, command: list[str] | None = None,
                  interrupted: str | None = None) -> dict[str, Any]:
    """Write summary.json atomically: success overall and per env, the mean final progress and the
    events (completed episodes), the config (secrets redacted), the policy (spec, redacted
    arguments, class), versions, the command line (redacted), adaptive sampling's state (None
    without it) and, when the run was stopped by a signal, its name in ``interrupted``.
    ``eval_info.json`` (lerobot-eval's shape, :mod:`.eval_info`) is rewritten beside it from the
    same lines. The lines are taken in episode order, whatever order workers finished them in."""
    lines = sorted(lines, key=lambda r: (str(r["env_id"]), int(r["episode"])))
    rule = cfg.adaptive_rule()
    per_env = {
        env_id: success_summary([r for r in lines if r["env_id"] == env_id])
        for env_id in sorted({r["env_id"] for r in lines})
    }
    summary = {
        "overall": success_summary(lines),
        "per_env": per_env,
        "mean_progress": mean_progress(lines),
        "events": event_summary(lines),
        "world_model": world_model_summary(lines),
        "trajectory": trajectory_summary(lines),
        "config": cfg.to_json(),
        "policy": policy if policy is not None else {"spec": cfg.policy, "args": redact_kwargs(cfg.policy_kwargs)},
        "versions": package_versions(),
        "command": redact_argv(sys.argv, secret_values(cfg.policy_kwargs)) if command is None else command,
        "adaptive": None if rule is None else rule.summary(lines, interrupted),
        "interrupted": interrupted,
    }
    write_atomic(out / SUMMARY_FILE, json.dumps(summary, indent=2, default=str) + "\n")
    write_atomic(out / EVAL_INFO_FILE, json.dumps(eval_info(lines, cfg.video), indent=2) + "\n")
    return summary
