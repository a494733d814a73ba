"""Merging shard folders (``--shard I/N``) into one run: ``robosim-cosmos merge OUT SHARD...``.

:func:`merge` checks that the folders are shards of one run (identities equal but for the shard
index) and that the set is complete: every shard ``0..N-1`` given (N from the shards' identity) and
every episode they were to run recorded (the count from run.json or summary.json). An incomplete
set is refused before anything is written, or, with ``allow_partial``, merged into summaries
marked ``partial`` that name what is missing. Episodes are de-duplicated by (env id, seed,
episode); duplicates whose results disagree are reported (the first shard's line is kept). Each
episode's videos, saved chunks and staged dataset episode are copied, and run.json, results.jsonl, summary.json and
eval_info.json (and suite_summary.json for suite shards) written as one unsharded run would have.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from ..envs import InstructionTier
from ..errors import ConfigError, RunFolderError
from .files import RESULTS_FILE, RUN_FILE, SUITE_SUMMARY_FILE, SUMMARY_FILE
from .folder import RunFolder, identity_differences
from .results import read_results, rewrite_results, write_atomic
from .shard_set import Gaps, shard_of
from .shards import Shard, comparable
from .suite_summary import ConfigFromIdentity, MemberConfig, SuiteMember, env_name, suite_summary, write_suite_summary
from .summary import write_summary

Key = tuple[Any, Any, Any]


@dataclass
class MergeReport:
    """What :func:`merge` did: episodes written, exact duplicates dropped, conflicting duplicates
    (key and the shard folders that disagree), for suites the member folders merged, and what was
    missing (``partial`` as the summaries record it; None when the set was complete)."""

    out: Path
    episodes: int
    duplicates: int
    conflicts: list[str]
    members: list[str]
    missing: list[str] = field(default_factory=list)
    partial: dict[str, Any] | None = None


@dataclass
class _Run:
    """One run to merge: a run folder's shards, or one suite member's folder in each suite shard."""

    name: str
    folders: list[Path]
    identity: dict[str, Any]
    shards: list[Shard]
    planned: int | None
    kept: dict[Key, tuple[dict[str, Any], Path]]

    @property
    def shard(self) -> Shard:
        """The split as this run sees it (its place among a suite's members); the same in every folder."""
        return self.shards[0]

    @property
    def lines(self) -> list[dict[str, Any]]:
        return sorted((line for line, _ in self.kept.values()), key=lambda r: (str(r.get("env_id")), int(r["episode"])))

    def recorded(self) -> set[int]:
        return {int(line["episode"]) for line, _ in self.kept.values() if line.get("env_id") == self.identity["env_id"]}


def _read_identity(folder: Path) -> dict[str, Any]:
    identity = RunFolder(folder).recorded_identity()
    if identity is None:
        raise RunFolderError(f"{folder} holds no run (no run.json); merge takes shard folders written by rollout")
    return identity


def _unsharded(identity: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in identity.items() if k != "shard"}


def _planned(folder: Path) -> int | None:
    """The episodes a shard folder was to run: run.json's count, else its summary's fixed count."""
    counted = RunFolder(folder).recorded_episodes()
    if counted is not None:
        return counted
    try:
        config = json.loads((folder / SUMMARY_FILE).read_text()).get("config") or {}
        episodes = config.get("episodes")
        adaptive = config.get("episodes_adaptive")
    except (OSError, ValueError, AttributeError):
        return None
    return episodes if isinstance(episodes, int) and episodes > 0 and adaptive is None else None


def _collect(name: str, folders: list[Path], report: MergeReport) -> _Run:
    """Read one run's shard folders: check they are shards of it, de-duplicate their lines."""
    identities = [_read_identity(f) for f in folders]
    shards = [shard_of(identity, folder) for identity, folder in zip(identities, folders, strict=True)]
    base = _unsharded(identities[0])
    for folder, identity, shard in zip(folders[1:], identities[1:], shards[1:], strict=True):
        diffs = identity_differences(base, _unsharded(identity))
        if (shard.count, shard.stride, shard.offset) != (shards[0].count, shards[0].stride, shards[0].offset):
            diffs.append(f"shard: {shards[0].label} of {shards[0].stride} member(s) in {folders[0]}, "
                         f"{shard.label} of {shard.stride} in {folder}")
        if diffs:
            raise RunFolderError(f"{folder} is not a shard of the same run as {folders[0]} ({'; '.join(diffs)})")
    kept: dict[Key, tuple[dict[str, Any], Path]] = {}
    for folder in folders:
        for line in read_results(folder / RESULTS_FILE):
            key = (line.get("env_id"), line.get("seed"), line.get("episode"))
            if key in kept:
                first, where = kept[key]
                if comparable(first) != comparable(line):
                    report.conflicts.append(f"{key[0]} episode {key[2]} seed {key[1]}: {where} and {folder} disagree")
                else:
                    report.duplicates += 1
                continue
            kept[key] = (line, folder)
    planned = max((n for n in map(_planned, folders) if n is not None), default=None)
    return _Run(name, folders, base, shards, planned, kept)


def _is_suite(path: Path) -> bool:
    """A suite shard: a suite summary, or member folders (a suite killed before its summary)."""
    if (path / RUN_FILE).is_file():
        return False
    return (path / SUITE_SUMMARY_FILE).is_file() or any(path.glob(f"*/*/{RUN_FILE}"))


def _suite_runs(paths: list[Path], report: MergeReport) -> tuple[list[_Run], dict[Path, Shard]]:
    """One :class:`_Run` per suite member some shard holds, in suite order; each shard's split."""
    names = sorted({str(run.parent.relative_to(p)) for p in paths for run in p.glob(f"*/*/{RUN_FILE}")})
    runs = [_collect(name, [p / name for p in paths if (p / name / RUN_FILE).is_file()], report) for name in names]
    split = {}
    for path in paths:
        member = next((run for run in runs if path / run.name in run.folders), None)
        if member is None:
            raise RunFolderError(f"{path} holds no suite member (no */*/{RUN_FILE}); merge takes shard folders "
                                 "written by rollout")
        split[path] = shard_of(_read_identity(path / member.name), path / member.name)
    return sorted(runs, key=lambda r: r.shard.offset), split


Layout = tuple[str | None, dict[str, tuple[str, str]]]
"""A suite's name and its members in suite order: folder name -> (env id, tier)."""


def _suite_layout(paths: list[Path]) -> Layout | None:
    """The suite as the first shard holding a suite summary names it; None when no shard has one
    (every suite shard was killed before its summary)."""
    for path in paths:
        try:
            doc = json.loads((path / SUITE_SUMMARY_FILE).read_text())
            pairs = [(str(e), str(t)) for e in doc["tasks"] for t in doc["tiers"]]
            return doc.get("suite"), {f"{env_name(e)}/{t}": (e, t) for e, t in pairs}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
    return None


def _find_gaps(runs: list[_Run], split: dict[Path, Shard], suite: bool, expected: list[str] | None) -> Gaps:
    """What the shard folders lack: shards of the split not given, episodes not recorded and, for a
    suite, members no shard holds (``expected``: the suite's member names, when known)."""
    counts = {shard.count for shard in split.values()}
    if len(counts) > 1:
        shown = ", ".join(f"{shard.label} in {path}" for path, shard in split.items())
        raise RunFolderError(f"the folders are shards of different splits ({shown}); give the shards of one run")
    gaps = Gaps(counts.pop(), {})
    for path, shard in split.items():
        gaps.given.setdefault(shard.index, []).append(path)
    planned = max((run.planned for run in runs if run.planned is not None), default=None)
    for run in runs:
        recorded = run.recorded()
        total = planned if planned is not None else max(recorded, default=-1) + 1
        gaps.episodes[run.name] = sorted(set(range(total)) - recorded)
        gaps.splits[run.name] = run.shard
        if planned is None:
            gaps.unknown.append(run.name)
    present = {run.name for run in runs}
    if expected is not None:
        gaps.members = [name for name in expected if name not in present]
    elif suite and runs:  # no suite summary names them: count them from the split (every member records its place)
        stride, offsets = runs[0].shard.stride, {run.shard.offset for run in runs}
        gaps.members = [f"#{k + 1} of {stride} (task and tier unknown: no shard reached it)"
                        for k in range(stride) if k not in offsets]
    return gaps


def _policy(folders: list[Path]) -> dict[str, Any] | None:
    """The policy (spec, class, repr) the first shard with a summary recorded."""
    for folder in folders:
        try:
            policy = json.loads((folder / SUMMARY_FILE).read_text()).get("policy")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(policy, dict):
            return policy
    return None


def _write_run(run: _Run, out: Path, config: MemberConfig, partial: dict[str, Any] | None,
               command: list[str]) -> None:
    """Write one merged run folder: files copied, run.json, results.jsonl, summary.json (with
    ``partial``) and eval_info.json."""
    folder = RunFolder(out)
    folder.create()
    for line, shard in run.kept.values():
        for name in ("video", "pred_video", "saved_chunks", "dataset_episode"):
            rel = line.get(name)
            if isinstance(rel, str) and (shard / rel).is_file():
                (out / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(shard / rel, out / rel)
            elif isinstance(rel, str) and (shard / rel).is_dir():  # a staged dataset episode
                shutil.copytree(shard / rel, out / rel, dirs_exist_ok=True)
    folder.write_identity(config.identity(), command)
    folder.note_episodes(config.to_json()["episodes"])
    lines = run.lines
    rewrite_results(out / RESULTS_FILE, lines)
    summary = write_summary(out, config, lines, _policy(run.folders), command)
    summary["partial"] = partial
    write_atomic(out / SUMMARY_FILE, json.dumps(summary, indent=2, default=str) + "\n")


def _episodes(runs: list[_Run]) -> int:
    """The episodes the merged run holds: what the shards were to run, else what they recorded."""
    planned = [run.planned for run in runs if run.planned is not None]
    return max(planned or [max((e + 1 for run in runs for e in run.recorded()), default=1)])


def _refuse_taken(target: Path, names: list[str], suite: bool) -> None:
    taken = [target / name for name in names if (target / name / RESULTS_FILE).exists()
             or (target / name / RUN_FILE).exists()]
    if suite and (target / SUITE_SUMMARY_FILE).exists():
        taken.append(target / SUITE_SUMMARY_FILE)
    if taken:
        raise RunFolderError(f"{taken[0]} already holds a run; merge into a new folder")


def _read(paths: list[Path], report: MergeReport) -> tuple[list[_Run], dict[Path, Shard], Layout | None, bool]:
    """The runs to merge, each shard folder's split, the suite's layout (None when unknown or not
    a suite) and whether the folders are suite shards."""
    suites = [_is_suite(p) for p in paths]
    if all(suites):
        runs, split = _suite_runs(paths, report)
        return runs, split, _suite_layout(paths), True
    if any(suites):
        raise RunFolderError("give only suite folders or only run folders to merge, not both")
    run = _collect("", paths, report)
    return [run], dict(zip(run.folders, run.shards, strict=True)), None, False


def merge(out: str | Path, shards: list[str | Path], config_of: ConfigFromIdentity, *,
          allow_partial: bool = False) -> MergeReport:
    """Merge shard folders (all run folders, or all suite folders) into ``out``; ``config_of``
    builds a run's configuration from its recorded identity and folder
    (``rollout.RolloutConfig.from_identity``). An incomplete set (a shard not given, episodes not
    recorded, a suite member missing) is a RunFolderError naming what is missing, and nothing is
    written; with ``allow_partial`` it is merged and the summaries record it in ``partial``."""
    paths = [Path(s) for s in shards]
    if not paths:
        raise ConfigError("merge needs at least one shard folder")
    for path in paths:
        if not path.is_dir():
            raise RunFolderError(f"{path} is not a folder")
    target = Path(out)
    report = MergeReport(target, 0, 0, [], [])
    runs, split, layout, suited = _read(paths, report)
    gaps = _find_gaps(runs, split, suited, None if layout is None else list(layout[1]))
    report.missing = gaps.describe()
    if report.missing and not allow_partial:
        raise RunFolderError(
            f"the shards are not a whole run: {'; '.join(report.missing)}. Give every shard's folder, or pass "
            "--allow-partial (allow_partial=True) to merge what is there into summaries marked partial")
    _refuse_taken(target, [run.name for run in runs], suited)
    command = ["robosim-cosmos", "merge", str(target), *map(str, paths)]
    episodes = _episodes(runs)
    configs = {}
    for run in runs:
        configs[run.name] = config_of({**run.identity, "episodes": episodes}, str(target / run.name))
        _write_run(run, target / run.name, configs[run.name], gaps.partial(run.name), command)
        report.episodes += len(run.kept)
    report.partial = gaps.partial(None if suited else "")
    if suited:
        report.members = [run.name for run in runs]
        members = _suite_members(target, runs, configs, layout, config_of)
        summary = suite_summary(target, members, None if layout is None else layout[0])
        if summary is not None:
            summary["partial"] = report.partial
        write_suite_summary(target, summary)
    return report


def _suite_members(root: Path, runs: list[_Run], configs: dict[str, MemberConfig], layout: Layout | None,
                   config_of: ConfigFromIdentity) -> list[SuiteMember[Any]]:
    """The merged suite's members in suite order; one that no shard holds (named by a shard's suite
    summary) is a member with no episodes, configured as the others but for its task and tier."""
    by_name = {run.name: run for run in runs}
    order = layout[1] if layout is not None else {
        run.name: (str(run.identity["env_id"]), str(run.identity["instruction_tier"])) for run in runs}
    members: list[SuiteMember[Any]] = []
    for name, (env_id, tier) in order.items():
        if name in by_name:
            config = configs[name]
        else:
            episodes = configs[runs[0].name].to_json()["episodes"]
            config = config_of({**runs[0].identity, "env_id": env_id, "instruction_tier": tier, "episodes": episodes},
                               str(root / name))
        members.append(SuiteMember(env_id, cast(InstructionTier, tier), config))
    return members
