"""Suite runs: one :func:`~.runner.rollout` per task × instruction tier, and one summary over them.

Each member run is an ordinary run folder, ``out/<EnvName>/<tier>/`` (``EnvName``: the env id
without ``robosim_cosmos/`` and ``-v0``), with its own run.json, results.jsonl and summary.json,
so resuming a suite is resuming each member: the same call again skips what is recorded.
``out/suite_summary.json`` adds up the members' results.jsonl lines per task × tier, per task,
per tier and overall.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..datasets.writer import Recording
from ..envs import ENV_IDS, TIERS, InstructionTier, check_tier, suite_env_ids
from ..errors import ConfigError, RobosimCosmosError
from ..policies.registry import spec_kind
from ..policy_api import Policy
from ..records.files import SUITE_SUMMARY_FILE
from ..records.folder import RunFolder
from ..records.results import read_results
from ..records.shards import Shard
from ..records.suite_summary import SuiteMember, env_name, format_table, suite_summary, write_suite_summary
from .config import RolloutConfig
from .recording import build_recording, check_staged
from .runner import RolloutResult, note_for, run_folder
from .signals import RolloutInterrupted

_SUITE_SET = ("env_id", "policy", "out", "instruction_tier")
"""RolloutConfig fields the suite sets itself for every member."""
_NOT_IN_SUITES = ("instruction",)
"""RolloutConfig fields a suite refuses: one fixed instruction would make every tier the same."""


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
    :class:`~.runner.RolloutResult` by (env id, tier), the suite_summary.json written, and the
    LeRobot dataset(s) built from every member's episodes (``record_dataset``; else None)."""

    out: Path
    runs: dict[tuple[str, str], RolloutResult]
    summary: dict[str, Any]
    dataset: Recording | None = None

    @property
    def success_rate(self) -> float | None:
        rate: float | None = self.summary["overall"]["success_rate"]
        return rate


def _members(env_ids: tuple[str, ...], tiers: tuple[InstructionTier, ...], spec: str, out: Path,
             options: dict[str, Any]) -> list[SuiteMember[RolloutConfig]]:
    valid = set(RolloutConfig.option_names()) - set(_SUITE_SET)
    unknown = sorted(set(options) - valid)
    if unknown:
        raise ConfigError(f"unknown suite option(s) {unknown}; valid: {sorted(valid - set(_NOT_IN_SUITES))}")
    refused = [name for name in _NOT_IN_SUITES if options.get(name) is not None]
    if refused:
        raise ConfigError(f"a suite run takes no {', '.join(refused)}: each task and tier samples its own "
                          "instructions (run one --env with one tier to override the instruction)")
    members: list[SuiteMember[RolloutConfig]] = []
    shard = options.get("shard")
    count = len(env_ids) * len(tiers)
    for env_id in env_ids:
        for tier in tiers:
            folder = out / env_name(env_id) / tier
            cfg = RolloutConfig(env_id=env_id, policy=spec, out=str(folder), instruction_tier=tier, **options)
            if isinstance(cfg.shard, Shard) and shard is not None:
                # episodes are dealt round-robin over task × tier × episode, not per member
                cfg = replace(cfg, shard=cfg.shard.member(len(members), count))
            members.append(SuiteMember(env_id, tier, cfg))
    return members


def _preflight(out: Path, members: list[SuiteMember[RolloutConfig]]) -> None:
    """Refuse before any episode runs when a member folder holds another run (the error names it)."""
    RunFolder(out)  # an out naming a file
    for member in members:
        folder = RunFolder(member.config.out)
        if folder.exists() and not member.config.overwrite:
            folder.check(member.config.identity())
            if member.config.record_dataset is not None:
                check_staged(folder.path, read_results(folder.results_file), member.config)


def _chosen(policy: str | Policy, suite: str | None, tasks: str | Sequence[str] | None,
            tiers: str | Sequence[str]) -> tuple[tuple[str, ...], tuple[InstructionTier, ...], str]:
    """(env ids, tiers, policy spec) of a suite call; ConfigError before any work when one is wrong."""
    if (suite is None) == (tasks is None):
        raise ConfigError("give exactly one of suite= (a suite name) and tasks= (task names)")
    env_ids = suite_env_ids(suite) if suite is not None else resolve_tasks(tasks or ())
    chosen = parse_tiers(tiers)
    if not isinstance(policy, (str, Policy)):
        raise ConfigError(f"policy must be a spec string or a Policy, got {type(policy).__name__}")
    spec = policy if isinstance(policy, str) else f"<object {type(policy).__name__}>"
    if isinstance(policy, str):
        spec_kind(policy)  # an unknown spec fails before any work
    return env_ids, chosen, spec


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
    and raise :class:`~.runner.RolloutInterrupted`. With ``record_dataset``, the episodes of every
    member are then written as one LeRobot dataset there (tasks by instruction).
    """
    root = Path(out)
    members = _members(*_chosen(policy, suite, tasks, tiers), root, options)
    _preflight(root, members)
    runs: dict[tuple[str, str], RolloutResult] = {}
    talk = not quiet and progress is not False
    member = members[0]
    try:
        for i, member in enumerate(members, 1):
            if talk:
                print(f"suite {i}/{len(members)}: {env_name(member.env_id)}, tier {member.tier} -> {member.config.out}",
                      file=sys.stderr, flush=True)
            runs[(member.env_id, member.tier)] = run_folder(member.config,
                                                            policy if isinstance(policy, Policy) else None,
                                                            progress=progress, quiet=quiet)
    except RolloutInterrupted as exc:
        interrupted = write_suite_summary(root, suite_summary(root, members, suite, interrupted=exc.signal_name))
        where = (f"; {root / SUITE_SUMMARY_FILE} sums up the episodes recorded" if interrupted is not None
                 else "; nothing was written")
        raise RolloutInterrupted(exc.signum, f"interrupted by {exc.signal_name} in {member.folder}{where}; run the "
                                 "same command again to resume", interrupted) from None
    except BaseException:
        with contextlib.suppress(OSError, RobosimCosmosError):  # never hide the error that stopped the suite
            write_suite_summary(root, suite_summary(root, members, suite))  # the members that finished stay summed up
        raise
    summary = write_suite_summary(root, suite_summary(root, members, suite))
    assert summary is not None  # every member ran, so every member folder holds its run
    if talk:
        print(format_table(summary), file=sys.stderr, flush=True)
    staged = [(runs[(m.env_id, m.tier)].out, runs[(m.env_id, m.tier)].results, m.env_id) for m in members]
    dataset = build_recording(members[0].config, staged, note_for(quiet, progress))
    return SuiteResult(root, runs, summary, dataset)
