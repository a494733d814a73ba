"""Loading finished runs for a report: a run folder or a suite folder, as one :class:`RunData`.

Both kinds become the same shape: success statistics per task × tier cell, per task, per tier and
overall, the pooled world-model and trajectory summaries, and every episode's result line with the
folder holding its video. Keys added to run folders over time (``ci95_beta``, ``world_model``,
``trajectory``, ``events``, ...) are optional: an older folder loads with them absent. An unfinished
run (run.json and results.jsonl but no summary.json, or a summary older than its results: killed,
or still running) and an unfinished suite (member folders, no suite_summary.json) load from their
result lines, marked ``unfinished`` with how to resume them.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..envs import TIERS
from ..errors import ConfigError, ResourceNotFoundError, RunFolderError
from ..metrics.success import outcome_summary
from ..metrics.trajectory import trajectory_summary
from ..metrics.world_model import world_model_summary
from ..records.files import RESULTS_FILE, RUN_FILE, SUITE_SUMMARY_FILE, SUMMARY_FILE
from ..records.folder import RunFolder
from ..records.results import parse_results

log = logging.getLogger(__name__)

DEFAULT_TIER = "default"
"""The tier of a run folder whose config names none (runs from before instruction tiers)."""

Stats = dict[str, Any]


@dataclass(frozen=True)
class Episode:
    """One result line and where it lives: ``folder`` is the run folder its ``video`` is relative to."""

    line: dict[str, Any]
    folder: Path
    tier: str

    @property
    def env_id(self) -> str:
        return str(self.line["env_id"])

    @property
    def outcome(self) -> str:
        if self.line.get("error"):
            return "error"
        return "success" if self.line.get("success") else "failure"


@dataclass
class RunData:
    """A run or a suite, loaded. ``cells`` maps (env id, tier) to success statistics (the
    ``outcome_summary`` shape: episodes, completed, successes, errors, success_rate, ci95 and,
    when recorded, ci95_beta, mean_progress, events)."""

    path: Path
    kind: Literal["run", "suite"]
    policy: str
    env_ids: list[str]
    tiers: list[str]
    overall: Stats
    per_task: dict[str, Stats]
    per_tier: dict[str, Stats]
    cells: dict[tuple[str, str], Stats]
    world_model: dict[str, Any] | None
    trajectory: dict[str, Any] | None
    versions: dict[str, Any]
    created: str | None
    interrupted: str | None
    episodes: list[Episode]
    adaptive: dict[str, Any] | None = None
    unfinished: str | None = None
    label: str = field(default="")


BETA = "beta"
WILSON = "wilson"
INTERVAL_NAMES = {
    BETA: "Beta(k+1, n−k+1) equal-tailed 95 % credible interval",
    WILSON: "Wilson score 95 % interval",
}


def interval(stats: Stats) -> tuple[tuple[float, float] | None, str]:
    """The 95 % interval to show for success statistics and which it is: ``ci95_beta`` when
    recorded (newer runs), else the Wilson ``ci95``; (None, method) when neither is usable."""
    for key, method in (("ci95_beta", BETA), ("ci95", WILSON)):
        value = stats.get(key)
        if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
            return (float(value[0]), float(value[1])), method
    return None, WILSON


def _read_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise RunFolderError(f"{path}: cannot read it as JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise RunFolderError(f"{path}: expected a JSON object, got {type(doc).__name__}")
    return doc


def _stats(doc: dict[str, Any], key: str, where: Path) -> Stats:
    value = doc.get(key)
    if not isinstance(value, dict) or not isinstance(value.get("episodes"), int):
        raise RunFolderError(f"{where}: no {key!r} success statistics; not a summary written by robosim-cosmos")
    return value


def _section(doc: dict[str, Any], key: str) -> dict[str, Any]:
    """``doc[key]`` when it is an object, else {} (absent in older files)."""
    value = doc.get(key)
    return value if isinstance(value, dict) else {}


def _created(folder: Path) -> str | None:
    try:
        value = json.loads((folder / RUN_FILE).read_text()).get("created")
    except (OSError, ValueError, AttributeError):
        return None
    return str(value) if value else None


def _spec(policy: object, config: object) -> str:
    if isinstance(policy, dict) and policy.get("spec"):
        return str(policy["spec"])
    if isinstance(config, dict) and config.get("policy"):
        return str(config["policy"])
    return "unknown policy"


def tier_order(tiers: Sequence[str]) -> list[str]:
    """Tiers in the order of :data:`~robosim_cosmos.envs.TIERS` (vague, default, specific), others after."""
    known = [t for t in TIERS if t in tiers]
    return known + [t for t in dict.fromkeys(tiers) if t not in TIERS]


def _load_run(folder: Path) -> RunData:
    summary = _read_json(folder / SUMMARY_FILE)
    overall = _stats(summary, "overall", folder / SUMMARY_FILE)
    lines = parse_results(folder / RESULTS_FILE)[0]
    if len(lines) > overall["episodes"] and (folder / RUN_FILE).is_file():  # a later rollout into it never finished
        return _load_unfinished_run(folder, f"summary.json sums up {overall['episodes']} of them")
    config = _section(summary, "config")
    tier = str(config.get("instruction_tier") or DEFAULT_TIER)
    per_env = _section(summary, "per_env")
    env_ids = list(per_env) or list(dict.fromkeys(str(r["env_id"]) for r in lines))
    if not env_ids and config.get("env_id"):
        env_ids = [str(config["env_id"])]
    # summary.json keeps mean_progress and events beside overall; a run has one env, so they are its own.
    extra: dict[str, Any] = {k: summary[k] for k in ("mean_progress", "events") if k in summary}
    overall = {**overall, **extra}
    per_task = {e: {**per_env.get(e, overall), **(extra if len(env_ids) == 1 else {})} for e in env_ids}
    return RunData(
        path=folder, kind="run", policy=_spec(summary.get("policy"), config), env_ids=env_ids, tiers=[tier],
        overall=overall, per_task=per_task, per_tier={tier: overall},
        cells={(e, tier): stats for e, stats in per_task.items()},
        world_model=summary.get("world_model") or None, trajectory=summary.get("trajectory") or None,
        versions=summary.get("versions") or {}, created=_created(folder), interrupted=summary.get("interrupted"),
        episodes=[Episode(line, folder, tier) for line in lines], adaptive=summary.get("adaptive") or None,
        unfinished=_partial_note(folder, summary),
    )


def _partial_note(path: Path, summary: dict[str, Any], name: str = SUMMARY_FILE) -> str | None:
    """What a partial merge (``merge --allow-partial``) lacks, from its summary's ``partial``."""
    partial = summary.get("partial")
    if not isinstance(partial, dict):
        return None
    missing = partial.get("missing_episodes")
    count = sum(map(len, missing.values())) if isinstance(missing, dict) else len(missing or [])
    shards = ", ".join(map(str, partial.get("missing_shards") or [])) or "none"
    members = len(partial.get("missing_members") or [])
    note = (f"partial merge: shards not given: {shards}; {count} episode(s) missing"
            + (f"; {members} suite member(s) missing" if members else "") + f" ({name}'s \"partial\")")
    log.warning("%s: %s", path, note)
    return note


def _resume_hint(folder: Path) -> str:
    """How to resume a run: the command run.json records, run again."""
    try:
        command = json.loads((folder / RUN_FILE).read_text()).get("command")
    except (OSError, ValueError, AttributeError):
        command = None
    if not isinstance(command, list) or not command:
        return "run its rollout again with the same settings to resume it"
    words = [str(w) for w in command]
    secret = " (with the secrets shown as *** put back)" if any("***" in w for w in words) else ""
    if len(words) > 1 and words[1] in ("rollout", "demo"):  # argv[0] is wherever the script was installed
        return f"run its command again to resume it{secret}: robosim-cosmos {shlex.join(words[1:])}"
    return f"run the same rollout again to resume it{secret} (it ran as: {shlex.join(words)})"


def _member(folder: Path) -> tuple[str, str, list[dict[str, Any]], int | None]:
    """An unfinished run folder's (env id, tier, result lines, episodes it set out to run)."""
    record = RunFolder(folder)
    identity = record.recorded_identity() or {}
    lines = parse_results(folder / RESULTS_FILE)[0]
    env_id = str(identity.get("env_id") or (lines[0]["env_id"] if lines else "unknown"))
    return env_id, str(identity.get("instruction_tier") or DEFAULT_TIER), lines, record.recorded_episodes()


def _of(recorded: int, planned: int | None) -> str:
    return f"{recorded} of {planned}" if planned is not None and planned > recorded else str(recorded)


def _pooled(path: Path, kind: Literal["run", "suite"], policy: str, members: dict[tuple[str, str], list[Episode]],
            note: str) -> RunData:
    """RunData summed up from result lines alone (as summary.json would), marked unfinished."""
    episodes = [ep for eps in members.values() for ep in eps]
    lines = [ep.line for ep in episodes]
    env_ids = list(dict.fromkeys(e for e, _ in members))
    tiers = tier_order([t for _, t in members])
    if not lines:
        raise RunFolderError(f"{path}: {note}; it recorded no episode yet, nothing to report")
    log.warning("%s: %s; reporting the episodes recorded", path, note)
    return RunData(
        path=path, kind=kind, policy=policy, env_ids=env_ids, tiers=tiers, overall=outcome_summary(lines),
        per_task={e: outcome_summary([x for x in lines if x["env_id"] == e]) for e in env_ids},
        per_tier={t: outcome_summary([ep.line for ep in episodes if ep.tier == t]) for t in tiers},
        cells={key: outcome_summary([ep.line for ep in eps]) for key, eps in members.items()},
        world_model=world_model_summary(lines), trajectory=trajectory_summary(lines), versions={},
        created=min((c for c in (_created(ep.folder) for ep in episodes) if c), default=None), interrupted=None,
        episodes=episodes, unfinished=note,
    )


def _load_unfinished_run(folder: Path, why: str = "no summary.json") -> RunData:
    env_id, tier, lines, planned = _member(folder)
    identity = RunFolder(folder).recorded_identity() or {}
    note = (f"unfinished run: {_of(len(lines), planned)} episodes recorded, {why} (killed, or still running); "
            f"{_resume_hint(folder)}")
    return _pooled(folder, "run", _spec(None, identity), {(env_id, tier): [Episode(x, folder, tier) for x in lines]},
                   note)


def _load_unfinished_suite(root: Path) -> RunData:
    members: dict[tuple[str, str], list[Episode]] = {}
    short, policy = [], "unknown policy"
    folders = sorted(run.parent for run in root.glob(f"*/*/{RUN_FILE}"))
    for folder in folders:
        env_id, tier, lines, planned = _member(folder)
        members[(env_id, tier)] = [Episode(x, folder, tier) for x in lines]
        policy = _spec(None, RunFolder(folder).recorded_identity())
        if not (folder / SUMMARY_FILE).is_file() or (planned is not None and len(lines) < planned):
            short.append(f"{folder.relative_to(root).as_posix()} {_of(len(lines), planned)}")
    note = (f"unfinished suite: no {SUITE_SUMMARY_FILE}; {len(members)} member folder(s)"
            + (f", unfinished: {', '.join(short)} episodes" if short else "")
            + f" (killed, or still running; members not started are not shown); {_resume_hint(folders[0])}")
    return _pooled(root, "suite", policy, members, note)


def _load_suite(root: Path) -> RunData:
    path = root / SUITE_SUMMARY_FILE
    summary = _read_json(path)
    overall = _stats(summary, "overall", path)
    env_ids = [str(e) for e in summary.get("tasks") or []]
    tiers = tier_order([str(t) for t in summary.get("tiers") or []])
    grid = _section(summary, "per_task_tier")
    cells: dict[tuple[str, str], Stats] = {}
    episodes: list[Episode] = []
    created: list[str] = []
    for env_id in env_ids:
        for tier, stats in (grid.get(env_id) or {}).items():
            if not isinstance(stats, dict):
                continue
            cells[(env_id, tier)] = stats
            member = root / str(stats.get("folder") or "")
            if stats.get("folder") and member.is_dir():
                episodes += [Episode(line, member, tier) for line in parse_results(member / RESULTS_FILE)[0]]
                created += [c for c in [_created(member)] if c]
    # suite_summary.json has no world-model or trajectory section: pool the members' lines as a run would.
    lines = [ep.line for ep in episodes]
    return RunData(
        path=root, kind="suite", policy=_spec(summary.get("policy"), summary.get("config")), env_ids=env_ids,
        tiers=tiers, overall=overall, per_task=dict(summary.get("per_task") or {}),
        per_tier=dict(summary.get("per_tier") or {}), cells=cells,
        world_model=world_model_summary(lines), trajectory=trajectory_summary(lines),
        versions=summary.get("versions") or {}, created=min(created) if created else None,
        interrupted=summary.get("interrupted"), episodes=episodes,
        unfinished=_partial_note(root, summary, SUITE_SUMMARY_FILE),
    )


def load_run(path: str | os.PathLike[str]) -> RunData:
    """A run folder (summary.json, results.jsonl) or a suite folder (suite_summary.json and its
    ``<EnvName>/<tier>/`` members), finished or not (``unfinished`` says how to resume it; a
    warning is logged). ResourceNotFoundError for a missing folder, RunFolderError for a folder
    holding no run, an unreadable summary or a run without episodes."""
    folder = Path(path)
    if not folder.exists():
        raise ResourceNotFoundError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise RunFolderError(f"{folder}: not a folder; give a run folder or a suite folder")
    if (folder / SUITE_SUMMARY_FILE).is_file():
        run = _load_suite(folder)
    elif (folder / SUMMARY_FILE).is_file():
        run = _load_run(folder)
    elif (folder / RUN_FILE).is_file():
        run = _load_unfinished_run(folder)
    elif any(folder.glob(f"*/*/{RUN_FILE}")):
        run = _load_unfinished_suite(folder)
    else:
        raise RunFolderError(f"{folder}: holds neither {SUMMARY_FILE} (a run) nor {SUITE_SUMMARY_FILE} (a suite), "
                             f"nor a {RUN_FILE} of an unfinished run")
    if not run.overall.get("episodes"):
        raise RunFolderError(f"{folder}: the run recorded no episodes; nothing to report")
    return run


def unique_labels(runs: Sequence[RunData]) -> list[str]:
    """Each run's policy spec; specs that repeat get their folder's name added, then a number."""
    counts = Counter(r.policy for r in runs)
    labels = [r.policy if counts[r.policy] == 1 else f"{r.policy} ({r.path.name or r.path})" for r in runs]
    seen: Counter[str] = Counter()
    total = Counter(labels)
    out = []
    for label in labels:
        seen[label] += 1
        out.append(label if total[label] == 1 else f"{label} #{seen[label]}")
    return out


def load_runs(paths: Sequence[str | os.PathLike[str]], labels: Sequence[str] | None = None) -> list[RunData]:
    """:func:`load_run` for each path, labelled with ``labels`` (one per path, unique) or
    :func:`unique_labels`. ConfigError for no paths or labels that do not fit."""
    if not paths:
        raise ConfigError("no run folders given; name at least one run or suite folder")
    if labels is not None:
        labels = [str(label) for label in labels]
        if len(labels) != len(paths):
            raise ConfigError(f"{len(labels)} label(s) for {len(paths)} run folder(s); give one label per folder")
        if len(set(labels)) != len(labels) or any(not label.strip() for label in labels):
            raise ConfigError(f"labels must be unique and not empty, got {labels}")
    runs = [load_run(p) for p in paths]
    for run, label in zip(runs, labels if labels is not None else unique_labels(runs), strict=True):
        run.label = label
    return runs
