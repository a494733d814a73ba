"""Merging shard folders (``--shard I/N``) into one run: ``robosim-cosmos merge OUT SHARD...``.

:func:`merge` checks that the shards are shards of one run (identities equal but for the shard),
de-duplicates episodes by (env id, seed, episode), reports duplicates whose results disagree (the
first shard's line is kept), copies each episode's videos and saved chunks, and writes run.json,
results.jsonl, summary.json and eval_info.json (and suite_summary.json for suite shards) as one
unsharded run would have.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, RunFolderError
from .files import RESULTS_FILE, RUN_FILE, SUITE_SUMMARY_FILE, SUMMARY_FILE
from .folder import RunFolder, identity_differences
from .results import read_results, rewrite_results
from .shards import comparable
from .suite_summary import ConfigFromIdentity, MemberConfig, merge_suite_summary
from .summary import write_summary


@dataclass
class MergeReport:
    """What :func:`merge` did: episodes written, exact duplicates dropped, conflicting duplicates
    (key and the shard folders that disagree), and, for suites, the member folders merged."""

    out: Path
    episodes: int
    duplicates: int
    conflicts: list[str]
    members: list[str]


def _read_identity(folder: Path) -> dict[str, Any]:
    identity = RunFolder(folder).recorded_identity()
    if identity is None:
        raise RunFolderError(f"{folder} holds no run (no run.json); merge takes shard folders written by rollout")
    return identity


def _unsharded(identity: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in identity.items() if k != "shard"}


def _merge_run(shards: list[Path], out: Path, report: MergeReport,
               config_of: ConfigFromIdentity) -> list[dict[str, Any]]:
    """Merge run folders (shards of one run) into ``out``; the merged lines."""
    identities = [_read_identity(s) for s in shards]
    base = _unsharded(identities[0])
    for shard, identity in zip(shards[1:], identities[1:], strict=True):
        diffs = identity_differences(base, _unsharded(identity))
        if diffs:
            raise RunFolderError(f"{shard} is not a shard of the same run as {shards[0]} ({'; '.join(diffs)})")
    kept: dict[tuple[Any, Any, Any], tuple[dict[str, Any], Path]] = {}
    for shard in shards:
        for line in read_results(shard / RESULTS_FILE):
            key = (line.get("env_id"), line.get("seed"), line.get("episode"))
            if key in kept:
                first, where = kept[key]
                if comparable(first) != comparable(line):
                    report.conflicts.append(f"{key[0]} episode {key[2]} seed {key[1]}: {where} and {shard} disagree")
                else:
                    report.duplicates += 1
                continue
            kept[key] = (line, shard)
    folder = RunFolder(out)
    if folder.exists() and (folder.results_file.exists() or folder.run_file.exists()):
        raise RunFolderError(f"{out} already holds a run; merge into a new folder")
    folder.create()
    lines = sorted((line for line, _ in kept.values()), key=lambda r: (str(r.get("env_id")), int(r["episode"])))
    for line, shard in kept.values():
        for name in ("video", "pred_video", "saved_chunks"):
            rel = line.get(name)
            if isinstance(rel, str) and (shard / rel).is_file():
                (out / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(shard / rel, out / rel)
    episodes = max([int(r["episode"]) + 1 for r in lines] or [1])
    cfg = config_of({**base, "episodes": episodes}, str(out))
    folder.write_identity(cfg.identity(), ["robosim-cosmos", "merge", str(out), *map(str, shards)])
    rewrite_results(out / RESULTS_FILE, lines)
    _write_run_summaries(out, cfg, lines, shards)
    report.episodes += len(lines)
    return lines


def _write_run_summaries(out: Path, cfg: MemberConfig, lines: list[dict[str, Any]], shards: list[Path]) -> None:
    policy = None
    try:
        policy = json.loads((shards[0] / SUMMARY_FILE).read_text()).get("policy")
    except (OSError, ValueError, AttributeError):
        policy = None
    write_summary(out, cfg, lines, policy if isinstance(policy, dict) else None,
                  ["robosim-cosmos", "merge", str(out), *map(str, shards)])


def merge(out: str | Path, shards: list[str | Path], config_of: ConfigFromIdentity) -> MergeReport:
    """Merge shard folders (all run folders, or all suite folders) into ``out``; ``config_of``
    builds a run's configuration from its recorded identity and folder
    (``rollout.RolloutConfig.from_identity``)."""
    paths = [Path(s) for s in shards]
    if not paths:
        raise ConfigError("merge needs at least one shard folder")
    for path in paths:
        if not path.is_dir():
            raise RunFolderError(f"{path} is not a folder")
    target = Path(out)
    report = MergeReport(target, 0, 0, [], [])
    suites = [(p / SUITE_SUMMARY_FILE).is_file() for p in paths]
    if all(suites):
        members = sorted({str(run.parent.relative_to(p)) for p in paths for run in p.glob(f"*/*/{RUN_FILE}")})
        for member in members:
            holders = [p / member for p in paths if (p / member / RUN_FILE).is_file()]
            _merge_run(holders, target / member, report, config_of)
            report.members.append(member)
        merge_suite_summary(target, paths, config_of)
        return report
    if any(suites):
        raise RunFolderError("give only suite folders or only run folders to merge, not both")
    _merge_run(paths, target, report, config_of)
    return report
