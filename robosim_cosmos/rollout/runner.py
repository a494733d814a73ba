"""The loop over episodes: check the run folder, build what the run needs, resume from
``results.jsonl``, run in-process or in worker processes, record and report each episode as it
finishes, and write ``summary.json`` (also when the run is interrupted).

Order matters. Everything that can fail before an episode runs (the config, the run folder's
identity and lock, the env, the policy and its connection) is checked before the folder is
created or changed, so a run that cannot start leaves nothing behind.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..datasets.writer import Recording
from ..errors import ConfigError, RobosimCosmosError, WorkerError
from ..policies.registry import spec_kind
from ..policy_api import Policy
from ..records.folder import RunFolder
from ..records.redact import redact_argv, redact_kwargs, scrub, secret_values
from ..records.results import EpisodeResult, append_result, rewrite_results
from ..records.summary import write_summary
from .config import RolloutConfig
from .executors import EpisodeRunner, start_executor
from .plan import Plan, previous_policy
from .progress import Progress
from .recording import build_recording, check_staged
from .signals import RolloutInterrupted, Signals


@dataclass
class RolloutResult:
    """What :func:`rollout` returns.

    results: every line of the folder's results.jsonl (dicts, this run's and earlier ones);
    summary: the summary.json written at the end; dataset: the LeRobot dataset(s) built
    (``record_dataset``; None otherwise).
    """

    out: Path
    results: list[dict[str, Any]]
    summary: dict[str, Any]
    dataset: Recording | None = None

    @property
    def episodes(self) -> list[EpisodeResult]:
        """The result lines as typed records."""
        return [EpisodeResult.from_json(r) for r in self.results]

    @property
    def success_rate(self) -> float | None:
        rate: float | None = self.summary["overall"]["success_rate"]
        return rate


# -- the runner ---------------------------------------------------------------------------------

def _config(env_id: str | RolloutConfig, policy: str | Policy | None, options: dict[str, Any]) -> RolloutConfig:
    unknown = sorted(set(options) - set(RolloutConfig.option_names()))
    if unknown:
        raise ConfigError(f"unknown rollout option(s) {unknown}; valid: {list(RolloutConfig.option_names())}")
    if isinstance(env_id, RolloutConfig):
        cfg = replace(env_id, **options) if options else env_id
        if isinstance(policy, str):
            cfg = replace(cfg, policy=policy)
        elif policy is not None:
            cfg = replace(cfg, policy=f"<object {type(policy).__name__}>")
        return cfg
    if policy is None:
        raise ConfigError("rollout needs a policy: a spec string or a Policy object")
    spec = policy if isinstance(policy, str) else f"<object {type(policy).__name__}>"
    return RolloutConfig(env_id=env_id, policy=spec, **options)


def rollout(
    env_id: str | RolloutConfig,
    policy: str | Policy | None = None,
    *,
    progress: bool | None = None,
    quiet: bool = False,
    **options: Any,
) -> RolloutResult:
    """Run closed-loop episodes and write ``out/``: run.json, results.jsonl, summary.json, videos/.

    Call it with a :class:`RolloutConfig`, or with ``env_id``, ``policy`` and any of its
    fields as keywords (``episodes``, ``seed``, ``out``, ``open_loop_steps``, ...).
    policy: a spec string (see :func:`robosim_cosmos.create_policy`) or a ready Policy
        object (objects need ``num_envs=1``; the scripted policy must be given as a spec,
        since it is built on the rollout's own env).

    The folder records the run's identity in run.json; running the same identity again
    resumes (episodes already in results.jsonl are skipped, ``episodes`` may grow), another
    identity raises :class:`~robosim_cosmos.errors.RunFolderError` and changes nothing, unless
    ``overwrite=True``. An episode that raises is recorded with ``error`` and the run continues;
    ``retry_errors=True`` runs such episodes again on resume. Another rollout writing into the
    same folder is refused. Nothing is written when the env or the policy cannot be built.

    progress: None = a tqdm bar when stderr is a terminal, True = always, False = nothing on
        stderr (like ``quiet=True``). Unless quiet, one line per finished episode goes to stderr.
    SIGINT / SIGTERM stop the run (workers are killed), write the summary of what finished and
    raise :class:`RolloutInterrupted`.

    With ``record_dataset``, the completed episodes (this run's and earlier ones) are then written
    as a LeRobot dataset there (``result.dataset``; nothing when the run is a shard).
    """
    cfg = _config(env_id, policy, options)
    if policy is not None and not isinstance(policy, (str, Policy)):
        raise ConfigError(f"policy must be a spec string or a Policy, got {type(policy).__name__}")
    result = run_folder(cfg, policy if isinstance(policy, Policy) else None, progress=progress, quiet=quiet)
    result.dataset = build_recording(cfg, [(result.out, result.results, cfg.env_id)], note_for(quiet, progress))
    return result


def note_for(quiet: bool, progress: bool | None) -> Callable[[str], None]:
    """Where a run's notes go: stderr, unless ``quiet`` or ``progress=False``."""

    def note(text: str) -> None:
        if not quiet and progress is not False:
            print(text, file=sys.stderr, flush=True)
    return note


def run_folder(cfg: RolloutConfig, policy_obj: Policy | None, *, progress: bool | None = None,
               quiet: bool = False) -> RolloutResult:
    """One run folder of :func:`rollout` (a suite's member), without building its dataset:
    ``policy_obj`` a ready Policy, or None to build ``cfg.policy``."""
    if policy_obj is None:
        spec_kind(cfg.policy)  # an unknown spec fails before any work
    elif cfg.num_envs > 1:
        raise ConfigError("num_envs > 1 needs a policy spec string (each worker builds its own policy)")
    elif cfg.executor == "ray":
        raise ConfigError("executor='ray' needs a policy spec string (each Ray actor builds its own policy)")
    folder = RunFolder(cfg.out)  # an --out naming a file fails here
    report = Progress(quiet=quiet or progress is False, bar=progress)
    try:
        with Signals() as signals:
            return _run(cfg, policy_obj, folder, report, signals)
    except RobosimCosmosError as exc:  # its message is printed: never with a secret in it
        secrets = secret_values(cfg.policy_kwargs)
        if exc.args and isinstance(exc.args[0], str) and scrub(exc.args[0], secrets) != exc.args[0]:
            exc.args = (scrub(exc.args[0], secrets), *exc.args[1:])
        raise


class _Run:
    """One :func:`rollout` call while it runs: the folder claimed, the executor, the lines."""

    def __init__(self, cfg: RolloutConfig, policy_obj: Policy | None, folder: RunFolder, report: Progress) -> None:
        self.cfg, self.policy_obj, self.folder, self.report = cfg, policy_obj, folder, report
        self.secrets = secret_values(cfg.policy_kwargs)
        self.command = redact_argv(sys.argv, self.secrets)
        self.identity = cfg.identity()
        self.policy_info: dict[str, Any] = {"spec": cfg.policy, "args": redact_kwargs(cfg.policy_kwargs)}
        self.executor: EpisodeRunner | None = None
        self.started = self.finished = False
        self.lines: list[dict[str, Any]] = []

    def _start_executor(self, plan: Plan) -> None:
        if plan.todo and self.executor is None:
            self.executor = start_executor(self.cfg, self.policy_obj, len(plan.todo), self.secrets, self.report.note)

    def _claim(self) -> Plan:
        """Lock and check the folder, build what runs the episodes, and only then create the
        folder and record the identity: a run that cannot start leaves nothing behind."""
        cfg, folder = self.cfg, self.folder
        if folder.exists():  # an existing folder: lock it, then it must hold this run (or be started over)
            folder.lock.acquire()
            if not cfg.overwrite:
                folder.check(self.identity)
        plan = Plan.make(folder, cfg)
        if cfg.record_dataset is not None:  # every recorded episode must be staged, before anything runs
            check_staged(folder.path, plan.lines, cfg)
        self._start_executor(plan)  # connect, probe a worker: failures leave no folder
        if not folder.lock.held:  # create and claim it, checking again: another run may have raced us
            folder.create()
            folder.lock.acquire()
            if not cfg.overwrite:
                folder.check(self.identity)
            plan = Plan.make(folder, cfg)
            self._start_executor(plan)
        if cfg.overwrite:
            removed = folder.clear()
            if removed:
                self.report.note(f"overwrite: deleted {', '.join(removed)} in {folder.path}")
        if folder.write_identity(self.identity, self.command) and plan.done:
            self.report.note(f"{folder.path} had no run.json (an older robosim_cosmos wrote it); its episodes match "
                             "this run, which is now recorded in run.json")
        folder.note_episodes(cfg.episodes if cfg.episodes_adaptive is None else None)
        return plan

    def episodes(self) -> None:
        plan = self._claim()
        self.started = True
        self.lines = plan.lines
        if self.executor is not None:
            self.policy_info.update(self.executor.info)
        else:
            self.policy_info.update(previous_policy(self.folder, self.cfg.policy))
        resume = plan.describe(self.cfg, self.folder.path)
        if resume:
            self.report.note(resume)
        self.report.start(plan.total, plan.total - len(plan.todo), self.cfg.env_id.split("/")[-1])
        index = {int(r["episode"]): i for i, r in enumerate(self.lines) if r["env_id"] == self.cfg.env_id}
        done = plan.total - len(plan.todo)
        if self.executor is not None and plan.todo:
            for line in self.executor.run(plan.feed(self.cfg)):
                self._record(line, index)
                done += 1
                self.report.episode(line, self.lines, done)
        self.finished = True

    def _record(self, line: dict[str, Any], index: dict[int, int]) -> None:
        """Append a finished episode's line durably (a retried episode replaces its line)."""
        if line.get("error"):
            line["error"] = scrub(str(line["error"]), self.secrets)
        episode = int(line["episode"])
        if episode in index:
            self.lines[index[episode]] = line
            rewrite_results(self.folder.results_file, self.lines)
        else:
            index[episode] = len(self.lines)
            self.lines.append(line)
            append_result(self.folder.results_file, line)

    def _in_episode_order(self) -> None:
        """Workers and Ray actors finish in any order and results.jsonl took each line as it came;
        at the end it lists them by episode, as a serial run's does."""
        ordered = sorted(self.lines, key=lambda r: (str(r["env_id"]), int(r["episode"])))
        if any(a is not b for a, b in zip(ordered, self.lines, strict=True)):
            self.lines[:] = ordered
            rewrite_results(self.folder.results_file, self.lines)

    def close(self, interrupted: RolloutInterrupted | None) -> dict[str, Any] | None:
        """Stop the executor, put results.jsonl in episode order, write the summary of what is
        recorded, release the folder."""
        try:
            if self.executor is not None:
                self.executor.close(abort=not self.finished)
        finally:
            self.report.close()
            summary = None
            if self.started:
                self._in_episode_order()
                name = None if interrupted is None else interrupted.signal_name
                summary = write_summary(self.folder.path, self.cfg, self.lines, self.policy_info, self.command,
                                        interrupted=name)
            self.folder.lock.release()
        return summary


def _run(cfg: RolloutConfig, policy_obj: Policy | None, folder: RunFolder, report: Progress,
         signals: Signals) -> RolloutResult:
    run = _Run(cfg, policy_obj, folder, report)
    interrupted: RolloutInterrupted | None = None
    summary: dict[str, Any] | None = None
    try:
        run.episodes()
    except RolloutInterrupted as exc:
        interrupted = exc
    except WorkerError:
        if signals.received is None:
            raise
        interrupted = RolloutInterrupted(signals.received)  # the signal also reached (and killed) the workers
    finally:
        signals.cleaning = True
        summary = run.close(interrupted)
    if interrupted is not None:
        if run.started:
            message = (f"interrupted by {interrupted.signal_name}: {len(run.lines)} episodes recorded in "
                       f"{folder.path} and summarised in summary.json; run the same command again to resume")
        else:
            message = f"interrupted by {interrupted.signal_name} before any episode ran; nothing was written"
        raise RolloutInterrupted(interrupted.signum, message, summary) from None
    assert summary is not None
    return RolloutResult(folder.path, run.lines, summary)
