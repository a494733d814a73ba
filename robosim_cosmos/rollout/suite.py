"""Suite runs: one :func:`~.runner.rollout` per task × instruction tier, and one summary over them.

Each member run is an ordinary run folder, ``out/<EnvName>/<tier>/`` (``EnvName``: the env id
without ``robosim_cosmos/`` and ``-v0``), with its own run.json, results.jsonl and summary.json,
so resuming a suite is resuming each member: the same call again skips what is recorded.
``out/suite_summary.json`` adds up the members' results.jsonl lines per task × tier, per task,
per tier and overall.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..envs import ENV_IDS, TIERS, InstructionTier, check_tier, suite_env_ids
from ..errors import ConfigError, RobosimCosmosError
from ..policies.registry import spec_kind
from ..policy_api import Policy
from .config import RolloutConfig
from .folder import RunFolder
from .redact import redact_argv, redact_kwargs, secret_values
from .results import SUMMARY_FILE, package_versions, parse_results, write_atomic
from .runner import RolloutInterrupted, RolloutResult, rollout
from .shards import Shard
from .stats import outcome_summary

SUITE_SUMMARY_FILE = "suite_summary.json"
_SUITE_SET = ("env_id", "policy", "out", "instruction_tier")
"""RolloutConfig fields the suite sets itself for every member."""
_NOT_IN_SUITES = ("instruction",)
"""RolloutConfig fields a suite refuses: one fixed instruction would make every tier the same."""


def env_name(env_id: str) -> str:
    """``robosim_cosmos/DroidCubeInBowl-v0`` → ``DroidCubeInBowl`` (a member folder's name)."""
    name = env_id.rsplit("/", 1)[-1]
    return name[: -len("-v0")] if name.endswith("-v0") else name


def resolve_tasks(names: str | Sequence[str]) -> tuple[str, ...]:
    """Env ids for task names given as env ids, env names (``DroidCubeInBowl``) or task names
    (``cube_in_bowl``), in order, duplicates dropped; a comma-separated string works too.
    ConfigError listing the valid names otherwise."""
    if isinstance(names, str):
        names = names.split(",")
    lookup: dict[str, str] = {}
    for env_id, task in ENV_IDS.items():
        lookup[env_id] = lookup[env_name(env_id)] = lookup[task] = env_id
    resolved: list[str] = []
    for raw in names:
        name = raw.strip()
        if name not in lookup:
            raise ConfigError(
                f"unknown task {name!r}; valid: an env id (robosim_cosmos/<Name>-v0), a name "
                f"{sorted(env_name(e) for e in ENV_IDS)} or a task name {sorted(ENV_IDS.values())}"
            )
        if lookup[name] not in resolved:
            resolved.append(lookup[name])
    if not resolved:
        raise ConfigError("no tasks given; name at least one (see `robosim-cosmos envs`)")
    return tuple(resolved)


def parse_tiers(tiers: str | Sequence[str]) -> tuple[InstructionTier, ...]:
    """Instruction tiers from ``"all"``, a comma-separated string or a sequence, in the order of
    :data:`~robosim_cosmos.envs.TIERS`; ConfigError listing the tiers for an unknown one."""
    items = [t.strip() for t in (tiers.split(",") if isinstance(tiers, str) else tiers)]
    if items == ["all"]:
        return TIERS
    unknown = [t for t in items if t not in TIERS]
    if unknown:
        raise ConfigError(f"unknown instruction tier {unknown[0]!r}; valid: {list(TIERS)} or 'all'")
    chosen = {check_tier(t) for t in items}
    if not chosen:
        raise ConfigError(f"no instruction tier given; valid: {list(TIERS)} or 'all'")
    return tuple(t for t in TIERS if t in chosen)


@dataclass
class SuiteResult:
    """What :func:`rollout_suite` returns: the suite folder, each member's
    :class:`~.runner.RolloutResult` by (env id, tier), and the suite_summary.json written."""

    out: Path
    runs: dict[tuple[str, str], RolloutResult]
    summary: dict[str, Any]

    @property
    def success_rate(self) -> float | None:
        rate: float | None = self.summary["overall"]["success_rate"]
        return rate


@dataclass(frozen=True)
class _Member:
    env_id: str
    tier: InstructionTier
    config: RolloutConfig

    @property
    def folder(self) -> str:
        return f"{env_name(self.env_id)}/{self.tier}"


def _members(env_ids: tuple[str, ...], tiers: tuple[InstructionTier, ...], spec: str, out: Path,
             options: dict[str, Any]) -> list[_Member]:
    valid = set(RolloutConfig.option_names()) - set(_SUITE_SET)
    unknown = sorted(set(options) - valid)
    if unknown:
        raise ConfigError(f"unknown suite option(s) {unknown}; valid: {sorted(valid - set(_NOT_IN_SUITES))}")
    refused = [name for name in _NOT_IN_SUITES if options.get(name) is not None]
    if refused:
        raise ConfigError(f"a suite run takes no {', '.join(refused)}: each task and tier samples its own "
                          "instructions (run one --env with one tier to override the instruction)")
    members: list[_Member] = []
    shard = options.get("shard")
    count = len(env_ids) * len(tiers)
    for env_id in env_ids:
        for tier in tiers:
            folder = out / env_name(env_id) / tier
            cfg = RolloutConfig(env_id=env_id, policy=spec, out=str(folder), instruction_tier=tier, **options)
            if isinstance(cfg.shard, Shard) and shard is not None:
                # episodes are dealt round-robin over task × tier × episode, not per member
                cfg = replace(cfg, shard=cfg.shard.member(len(members), count))
            members.append(_Member(env_id, tier, cfg))
    return members


def _preflight(out: Path, members: list[_Member]) -> None:
    """Refuse before any episode runs when a member folder holds another run (the error names it)."""
    RunFolder(out)  # an out naming a file
    for member in members:
        folder = RunFolder(member.config.out)
        if folder.exists() and not member.config.overwrite:
            folder.check(member.config.identity())


def _recorded(member: _Member) -> list[dict[str, Any]] | None:
    """The member folder's result lines when it holds this member's run, else None."""
    folder = RunFolder(member.config.out)
    if not folder.holds(member.config.identity()):
        return None
    return parse_results(folder.results_file)[0]


def _policy_info(members: list[_Member], spec: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    for member in reversed(members):  # what the last member that ran recorded (class, repr)
        try:
            info = json.loads((Path(member.config.out) / SUMMARY_FILE).read_text()).get("policy")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(info, dict) and info.get("spec") == spec:
            return info
    return {"spec": spec, "args": redact_kwargs(kwargs)}


def _suite_summary(root: Path, members: list[_Member], suite: str | None,
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


def merge_suite_summary(root: Path, shards: list[Path]) -> dict[str, Any] | None:
    """Write ``root/suite_summary.json`` over member folders merged from suite shards (the first
    shard's suite summary names the suite, its tasks and tiers)."""
    try:
        first = json.loads((shards[0] / SUITE_SUMMARY_FILE).read_text())
        env_ids, tiers, suite = list(first["tasks"]), list(first["tiers"]), first.get("suite")
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(f"{shards[0] / SUITE_SUMMARY_FILE} is unreadable or not a suite summary") from None
    members = []
    for env_id in env_ids:
        for tier in tiers:
            folder = root / env_name(env_id) / tier
            identity = RunFolder(folder).recorded_identity()
            if identity is None:
                raise ConfigError(f"{folder} was not merged: no shard holds {env_name(env_id)}/{tier}")
            members.append(_Member(env_id, tier, RolloutConfig.from_identity(identity, out=str(folder))))
    return _write(root, _suite_summary(root, members, suite))


def _write(root: Path, summary: dict[str, Any] | None) -> dict[str, Any] | None:
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


def rollout_suite(
    policy: str | Policy,
    *,
    suite: str | None = None,
    tasks: str | Sequence[str] | None = None,
    tiers: str | Sequence[str] = "default",
    out: str | os.PathLike[str] = "runs/suite",
    progress: bool | None = None,
    quiet: bool = False,
    **options: Any,
) -> SuiteResult:
    """Run ``episodes`` episodes of every task of ``suite`` (or of ``tasks``) in every tier.

    suite: a name of :data:`~robosim_cosmos.envs.SUITES`; tasks: env ids, env names or task
    names (see :func:`resolve_tasks`); give exactly one. tiers: ``"all"``, names or a
    comma-separated string (default: ``default`` only). options: any other
    :class:`~.config.RolloutConfig` field (``episodes``, ``seed``, ``video``, ``num_envs``,
    ``overwrite``, ...); every member uses the same seeds, so a seed shows the same scene in
    every tier. Each member is :func:`~.runner.rollout` into ``out/<EnvName>/<tier>/`` (same
    resume, identity and error rules); then ``out/suite_summary.json`` is written and, unless
    ``quiet``, a task × tier success table goes to stderr. A member folder holding another run is
    refused before any episode runs. SIGINT / SIGTERM write the suite summary of what finished
    and raise :class:`~.runner.RolloutInterrupted`.
    """
    if (suite is None) == (tasks is None):
        raise ConfigError("give exactly one of suite= (a suite name) and tasks= (task names)")
    env_ids = suite_env_ids(suite) if suite is not None else resolve_tasks(tasks or ())
    chosen = parse_tiers(tiers)
    if not isinstance(policy, (str, Policy)):
        raise ConfigError(f"policy must be a spec string or a Policy, got {type(policy).__name__}")
    spec = policy if isinstance(policy, str) else f"<object {type(policy).__name__}>"
    if isinstance(policy, str):
        spec_kind(policy)  # an unknown spec fails before any work
    root = Path(out)
    members = _members(env_ids, chosen, spec, root, options)
    _preflight(root, members)
    runs: dict[tuple[str, str], RolloutResult] = {}
    talk = not quiet and progress is not False
    member = members[0]
    try:
        for i, member in enumerate(members, 1):
            if talk:
                print(f"suite {i}/{len(members)}: {env_name(member.env_id)}, tier {member.tier} -> {member.config.out}",
                      file=sys.stderr, flush=True)
            runs[(member.env_id, member.tier)] = rollout(member.config, policy if isinstance(policy, Policy) else None,
                                                         progress=progress, quiet=quiet)
    except RolloutInterrupted as exc:
        interrupted = _write(root, _suite_summary(root, members, suite, interrupted=exc.signal_name))
        where = (f"; {root / SUITE_SUMMARY_FILE} sums up the episodes recorded" if interrupted is not None
                 else "; nothing was written")
        raise RolloutInterrupted(exc.signum, f"interrupted by {exc.signal_name} in {member.folder}{where}; run the "
                                 "same command again to resume", interrupted) from None
    except BaseException:
        with contextlib.suppress(OSError, RobosimCosmosError):  # never hide the error that stopped the suite
            _write(root, _suite_summary(root, members, suite))  # the members that finished stay summed up
        raise
    summary = _write(root, _suite_summary(root, members, suite))
    assert summary is not None  # every member ran, so every member folder holds its run
    if talk:
        print(format_table(summary), file=sys.stderr, flush=True)
    return SuiteResult(root, runs, summary)
