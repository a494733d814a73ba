"""``suite_summary.json``: a suite's member run folders (``<EnvName>/<tier>/``, one per task ×
instruction tier) added up per task × tier, per task, per tier and overall; and the task × tier
table printed after a suite."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from ..envs import InstructionTier
from ..metrics.success import outcome_summary
from .files import SUITE_SUMMARY_FILE, SUMMARY_FILE
from .folder import RunFolder
from .redact import redact_argv, redact_kwargs, secret_values
from .results import parse_results, write_atomic
from .summary import RunConfig, package_versions


class MemberConfig(RunConfig, Protocol):
    """What a suite summary reads of a member's configuration (``rollout.RolloutConfig`` is one)."""

    @property
    def out(self) -> str: ...

    def identity(self) -> dict[str, Any]: ...


C = TypeVar("C", bound=MemberConfig)
ConfigFromIdentity = Callable[[dict[str, Any], str], MemberConfig]
"""Builds a member's configuration from its recorded identity and its folder."""


def env_name(env_id: str) -> str:
    """``robosim_cosmos/DroidCubeInBowl-v0`` → ``DroidCubeInBowl`` (a member folder's name)."""
    name = env_id.rsplit("/", 1)[-1]
    return name[: -len("-v0")] if name.endswith("-v0") else name


@dataclass(frozen=True)
class SuiteMember(Generic[C]):
    """One task × tier of a suite and the configuration of its run folder."""

    env_id: str
    tier: InstructionTier
    config: C

    @property
    def folder(self) -> str:
        return f"{env_name(self.env_id)}/{self.tier}"


def _recorded(member: SuiteMember[Any]) -> list[dict[str, Any]] | None:
    """The member folder's result lines when it holds this member's run, else None."""
    folder = RunFolder(member.config.out)
    if not folder.holds(member.config.identity()):
        return None
    return parse_results(folder.results_file)[0]


def _policy_info(members: list[SuiteMember[Any]], spec: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    for member in reversed(members):  # what the last member that ran recorded (class, repr)
        try:
            info = json.loads((Path(member.config.out) / SUMMARY_FILE).read_text()).get("policy")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(info, dict) and info.get("spec") == spec:
            return info
    return {"spec": spec, "args": redact_kwargs(kwargs)}


def suite_summary(root: Path, members: list[SuiteMember[Any]], suite: str | None,
                   interrupted: str | None = None) -> dict[str, Any] | None:
    """The suite_summary.json document over what the member folders record now; None when no
    member folder holds a run of this suite yet."""
    recorded = {(m.env_id, m.tier): _recorded(m) for m in members}
    if all(ls is None for ls in recorded.values()):
        return None
    lines = {key: ls or [] for key, ls in recorded.items()}
    env_ids = list(dict.fromkeys(m.env_id for m in members))
    tiers = list(dict.fromkeys(m.tier for m in members))
    first = members[0].config

    def pooled(env_id: str | None = None, tier: str | None = None) -> list[dict[str, Any]]:
        return [line for (e, t), ls in lines.items() if env_id in (None, e) and tier in (None, t) for line in ls]

    config = {k: v for k, v in first.to_json().items() if k not in ("env_id", "instruction_tier")}
    config["out"] = str(root)
    return {
        "suite": suite,
        "tasks": env_ids,
        "tiers": tiers,
        "overall": outcome_summary(pooled()),
        "per_tier": {t: outcome_summary(pooled(tier=t)) for t in tiers},
        "per_task": {e: outcome_summary(pooled(env_id=e)) for e in env_ids},
        "per_task_tier": {
            e: {m.tier: {**outcome_summary(lines[(e, m.tier)]), "folder": m.folder} for m in members if m.env_id == e}
            for e in env_ids
        },
        "config": config,
        "policy": _policy_info(members, first.policy, first.policy_kwargs),
        "versions": package_versions(),
        "command": redact_argv(sys.argv, secret_values(first.policy_kwargs)),
        "interrupted": interrupted,
    }


def write_suite_summary(root: Path, summary: dict[str, Any] | None) -> dict[str, Any] | None:
    """Write ``root/suite_summary.json`` (nothing when ``summary`` is None); the summary."""
    if summary is not None:
        RunFolder(root).create()
        write_atomic(root / SUITE_SUMMARY_FILE, json.dumps(summary, indent=2, default=str) + "\n")
    return summary


def _cell(stats: dict[str, Any]) -> str:
    rate = stats["success_rate"]
    text = f"{stats['successes']}/{stats['completed']} " + ("n/a" if rate is None else f"{rate:.2f}")
    return text + (f" ({stats['errors']} err)" if stats["errors"] else "")


def format_table(summary: dict[str, Any]) -> str:
    """Success per task (rows) and tier (columns), as ``successes/completed rate``; an ``all``
    column when there are several tiers and an ``all`` row when there are several tasks."""
    tiers, env_ids = summary["tiers"], summary["tasks"]
    cols = [*tiers, "all"] if len(tiers) > 1 else list(tiers)
    rows = [["task", *cols]]
    for env_id in env_ids:
        cells = [_cell(summary["per_task_tier"][env_id][t]) for t in tiers]
        rows.append([env_name(env_id), *cells, *([_cell(summary["per_task"][env_id])] if len(tiers) > 1 else [])])
    if len(env_ids) > 1:
        cells = [_cell(summary["per_tier"][t]) for t in tiers]
        rows.append(["all", *cells, *([_cell(summary["overall"])] if len(tiers) > 1 else [])])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows)
