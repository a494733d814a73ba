"""The loop over episodes: check the run folder, build what the run needs, resume from
``results.jsonl``, run in-process or in worker processes, record and report each episode as it
finishes, and write ``summary.json`` (also when the run is interrupted).

Order matters. Everything that can fail before an episode runs (the config, the run folder's
identity and lock, the env, the policy and its connection) is checked before the folder is
created or changed, so a run that cannot start leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import types
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from tqdm.auto import tqdm

from ..errors import ConfigError, RobosimCosmosError, WorkerError
from ..policies.registry import spec_kind
from ..policy_api import Policy
from .adaptive import episode_feed, satisfied
from .build import build
from .config import RolloutConfig
from .episode import EpisodeResult, run_episode
from .folder import RunFolder
from .redact import redact_argv, redact_kwargs, scrub, secret_values
from .results import SUMMARY_FILE, append_result, read_results, rewrite_results, write_summary
from .shards import Shard
from .stats import success_summary
from .workers import WorkerPool


@dataclass
class RolloutResult:
    """What :func:`rollout` returns.

    results: every line of the folder's results.jsonl (dicts, this run's and earlier ones);
    summary: the summary.json written at the end.
    """

    out: Path
    results: list[dict[str, Any]]
    summary: dict[str, Any]

    @property
    def episodes(self) -> list[EpisodeResult]:
        """The result lines as typed records."""
        return [EpisodeResult.from_json(r) for r in self.results]

    @property
    def success_rate(self) -> float | None:
        rate: float | None = self.summary["overall"]["success_rate"]
        return rate


class RolloutInterrupted(KeyboardInterrupt):
    """A rollout stopped by SIGINT or SIGTERM. The episodes that finished are recorded and
    summary.json is written (when the run had started); ``exit_code`` is 128 + the signal
    number (130 for SIGINT, 143 for SIGTERM), ``summary`` the summary written or None."""

    def __init__(self, signum: int, message: str | None = None, summary: dict[str, Any] | None = None) -> None:
        self.signum = int(signum)
        self.signal_name = signal.Signals(self.signum).name
        self.exit_code = 128 + self.signum
        self.summary = summary
        super().__init__(message or f"interrupted by {self.signal_name}")


# -- signals ------------------------------------------------------------------------------------

class _Signals:
    """SIGINT and SIGTERM raise :class:`RolloutInterrupted` in the main thread while the run
    works; once it is cleaning up (``cleaning = True``) they are only noted, so the summary
    still gets written. Previous handlers come back on exit. Off the main thread: no-op."""

    _SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: int | None = None
        self.cleaning = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: types.FrameType | None) -> None:
        if self.received is None:
            self.received = signum
        if not self.cleaning:
            raise RolloutInterrupted(signum)

    def __enter__(self) -> _Signals:
        if threading.current_thread() is threading.main_thread():
            for sig in self._SIGNALS:
                with contextlib.suppress(ValueError, OSError):  # an embedding that forbids handlers
                    self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, signal.SIG_DFL if previous is None else previous)


# -- progress -----------------------------------------------------------------------------------

def episode_line(line: dict[str, Any], done: int, total: int) -> str:
    """``[3/20] reach ep2 seed 2: success in 41 steps (2.1 s)`` (or ``...: ERROR: Type: message``)."""
    head = f"[{done}/{total}] {line.get('task')} ep{line['episode']} seed {line.get('seed')}: "
    if line.get("error"):
        text = " ".join(str(line["error"]).split())
        return head + "ERROR: " + (text if len(text) <= 300 else text[:297] + "...")
    outcome = "success" if line.get("success") else "failure"
    return head + f"{outcome} in {line.get('steps')} steps ({float(line.get('wall_seconds') or 0.0):.1f} s)"


class _Progress:
    """stderr: notes, a tqdm bar (on a terminal, unless ``bar`` says otherwise) and one line per
    finished episode; nothing at all when ``quiet``."""

    def __init__(self, quiet: bool, bar: bool | None) -> None:
        self.quiet = quiet
        self.bar_setting = bar
        self.bar: Any = None
        self.total = 0

    def note(self, text: str) -> None:
        if self.quiet:
            return
        if self.bar is not None:
            tqdm.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def start(self, total: int, initial: int, desc: str) -> None:
        self.total = total
        if self.quiet:
            return
        try:  # a terminal that reports no width (some ptys) would get an empty bar
            sized = os.get_terminal_size(sys.stderr.fileno()).columns > 0
        except (AttributeError, OSError, ValueError):
            sized = False
        self.bar = tqdm(total=total, initial=initial, desc=desc, unit="ep", file=sys.stderr,
                        dynamic_ncols=sized, ncols=None if sized else 100, nrows=None if sized else 24,
                        disable=None if self.bar_setting is None else not self.bar_setting)

    def episode(self, line: dict[str, Any], lines: list[dict[str, Any]], done: int) -> None:
        if self.quiet or self.bar is None:
            return
        stats = success_summary(lines)
        self.bar.update(1)
        postfix = {"success": stats["successes"]}
        if stats["success_rate"] is not None:
            postfix["rate"] = f"{stats['success_rate']:.2f}"
        if stats["errors"]:
            postfix["errors"] = stats["errors"]
        self.bar.set_postfix(postfix, refresh=False)
        tqdm.write(episode_line(line, done, self.total), file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


# -- what runs the episodes ---------------------------------------------------------------------

def _describe(policy: Policy, secrets: tuple[str, ...]) -> dict[str, Any]:
    cls = type(policy)
    info: dict[str, Any] = {"class": f"{cls.__module__}.{cls.__qualname__}"}
    text = repr(policy)
    if " at 0x" not in text:  # a default object repr says nothing and changes every run
        info["repr"] = scrub(text, secrets)
    return info


class _InProcess:
    """The env and the policy in this process (``num_envs=1``, or a Policy object)."""

    def __init__(self, cfg: RolloutConfig, policy: Policy | None, secrets: tuple[str, ...]) -> None:
        self.cfg = cfg
        self.own_policy = policy is None
        self.env, self.policy = build(cfg, policy)
        self.info = _describe(self.policy, secrets)

    def run(self, episodes: Iterable[int]) -> Iterator[dict[str, Any]]:
        for episode in episodes:  # taken one at a time: an adaptive feed decides after each line
            yield run_episode(self.env, self.policy, self.cfg, episode, Path(self.cfg.out)).to_json()

    def close(self, abort: bool) -> None:
        try:
            self.env.close()
        finally:
            if self.own_policy:
                self.policy.close()


class _Pool(Protocol):
    def probe(self) -> dict[str, Any]: ...
    def run(self, episodes: Iterable[int]) -> Iterator[dict[str, Any]]: ...
    def terminate(self) -> None: ...
    def close(self) -> None: ...


class _InPool:
    """Episodes on a pool of workers, one env and policy each: ``num_envs`` worker processes
    (:class:`.workers.WorkerPool`) or Ray actors (:class:`.ray_pool.RayPool`). Building waits
    until a worker could build the env and the policy, so a run that cannot start writes nothing."""

    def __init__(self, pool: _Pool, secrets: tuple[str, ...]) -> None:
        self.pool = pool
        try:
            info = self.pool.probe()
        except BaseException:
            self.pool.terminate()
            raise
        self.info = {"class": info["class"]}
        if " at 0x" not in info["repr"]:
            self.info["repr"] = scrub(info["repr"], secrets)

    def run(self, episodes: Iterable[int]) -> Iterator[dict[str, Any]]:
        return self.pool.run(episodes)

    def close(self, abort: bool) -> None:
        if abort:
            self.pool.terminate()
        else:
            self.pool.close()


# -- the plan -----------------------------------------------------------------------------------

@dataclass
class _Plan:
    lines: list[dict[str, Any]]
    todo: list[int]
    done: set[int]
    errored: set[int]
    new: list[int]
    rule_met: bool = False

    @classmethod
    def make(cls, folder: RunFolder, cfg: RolloutConfig) -> _Plan:
        """What to run: for an adaptive run ``new`` is every episode up to the maximum that is
        not recorded (handed out lazily by :meth:`feed`), or none when the rule already holds."""
        lines = [] if cfg.overwrite or not folder.exists() else read_results(folder.results_file)
        mine = [r for r in lines if r["env_id"] == cfg.env_id]
        done = {int(r["episode"]) for r in mine}
        errored = {int(r["episode"]) for r in mine if r.get("error")}
        count = cfg.episodes if cfg.episodes_adaptive is None else cfg.episodes_adaptive
        rule_met = satisfied(cfg, mine)
        mine_to_run = range(count) if not isinstance(cfg.shard, Shard) else cfg.shard.episodes(count)
        new = [] if rule_met else [i for i in mine_to_run if i not in done]
        todo = sorted(set(new) | (errored if cfg.retry_errors else set()))
        return cls(lines, todo, done, errored, new, rule_met)

    def feed(self, cfg: RolloutConfig) -> Iterable[int]:
        """The episodes in the order they are handed out. Adaptive: errored ones to run again
        first, then new ones in order while the rule does not hold over ``lines`` (which the
        runner extends as results come in)."""
        if cfg.episodes_adaptive is None:
            return self.todo
        return episode_feed(cfg, sorted(self.errored) if cfg.retry_errors else [], self.new, self.lines)

    @property
    def total(self) -> int:
        return len(self.done | set(self.new))

    def describe(self, cfg: RolloutConfig, path: Path) -> str | None:
        if not self.done:
            return None
        text = f"resuming {path}: {len(self.done)} episodes done, "
        if cfg.retry_errors:
            return text + f"{len(self.todo)} to run ({len(self.errored)} errored to run again, {len(self.new)} new)"
        if cfg.episodes_adaptive is None:
            text += f"{len(self.todo)} to run"
        elif self.rule_met:
            text += (f"{len(self.todo)} to run (the adaptive rule holds: a 95% Beta interval at most "
                     f"{cfg.ci_width:g} wide over at least {cfg.min_episodes} completed episodes)")
        else:
            text += f"up to {len(self.todo)} to run (adaptive)"
        if self.errored:
            n = len(self.errored)
            text += (f"; kept {n} errored episode{'s' if n > 1 else ''} (a line with an error; "
                     "--retry-errors runs them again)")
        return text


def _previous_policy(folder: RunFolder, spec: str) -> dict[str, Any]:
    """The class/repr an earlier run of this folder recorded (when nothing is built now)."""
    try:
        previous = json.loads((folder.path / SUMMARY_FILE).read_text()).get("policy")
    except (OSError, ValueError, AttributeError):
        return {}
    if not isinstance(previous, dict) or previous.get("spec") != spec:
        return {}
    return {k: previous[k] for k in ("class", "repr") if k in previous}


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
    """
    cfg = _config(env_id, policy, options)
    if policy is not None and not isinstance(policy, (str, Policy)):
        raise ConfigError(f"policy must be a spec string or a Policy, got {type(policy).__name__}")
    policy_obj = policy if isinstance(policy, Policy) else None
    if policy_obj is None:
        spec_kind(cfg.policy)  # an unknown spec fails before any work
    elif cfg.num_envs > 1:
        raise ConfigError("num_envs > 1 needs a policy spec string (each worker builds its own policy)")
    elif cfg.executor == "ray":
        raise ConfigError("executor='ray' needs a policy spec string (each Ray actor builds its own policy)")
    folder = RunFolder(cfg.out)  # an --out naming a file fails here
    report = _Progress(quiet=quiet or progress is False, bar=progress)
    try:
        with _Signals() as signals:
            return _run(cfg, policy_obj, folder, report, signals)
    except RobosimCosmosError as exc:  # its message is printed: never with a secret in it
        secrets = secret_values(cfg.policy_kwargs)
        if exc.args and isinstance(exc.args[0], str) and scrub(exc.args[0], secrets) != exc.args[0]:
            exc.args = (scrub(exc.args[0], secrets), *exc.args[1:])
        raise


def _run(cfg: RolloutConfig, policy_obj: Policy | None, folder: RunFolder, report: _Progress,
         signals: _Signals) -> RolloutResult:
    secrets = secret_values(cfg.policy_kwargs)
    command = redact_argv(sys.argv, secrets)
    identity = cfg.identity()
    policy_info: dict[str, Any] = {"spec": cfg.policy, "args": redact_kwargs(cfg.policy_kwargs)}
    runner: _InProcess | _InPool | None = None
    started = finished = False
    lines: list[dict[str, Any]] = []
    summary: dict[str, Any] | None = None
    interrupted: RolloutInterrupted | None = None

    def start_runner(plan: _Plan) -> _InProcess | _InPool:
        workers = min(cfg.num_envs, len(plan.todo))
        if cfg.executor == "ray":
            from .ray_pool import RayPool

            return _InPool(RayPool(cfg, workers, cfg.ray_address, note=report.note), secrets)
        if cfg.num_envs == 1 or len(plan.todo) == 1 or policy_obj is not None:
            return _InProcess(cfg, policy_obj, secrets)
        return _InPool(WorkerPool(cfg, workers), secrets)

    try:
        # 1. An existing folder: lock it, then it must hold this run (or be started over).
        if folder.exists():
            folder.lock.acquire()
            if not cfg.overwrite:
                folder.check(identity)
        plan = _Plan.make(folder, cfg)
        # 2. Build the env and the policy (connect, probe a worker): failures leave no folder.
        if plan.todo:
            runner = start_runner(plan)
        # 3. Only now create and claim the folder (checking again: another run may have raced us).
        if not folder.lock.held:
            folder.create()
            folder.lock.acquire()
            if not cfg.overwrite:
                folder.check(identity)
            plan = _Plan.make(folder, cfg)
            if plan.todo and runner is None:
                runner = start_runner(plan)
        if cfg.overwrite:
            removed = folder.clear()
            if removed:
                report.note(f"overwrite: deleted {', '.join(removed)} in {folder.path}")
        if folder.write_identity(identity, command) and plan.done:
            report.note(f"{folder.path} had no run.json (an older robosim_cosmos wrote it); its episodes match "
                        "this run, which is now recorded in run.json")
        started = True
        lines = plan.lines
        if runner is not None:
            policy_info.update(runner.info)
        else:
            policy_info.update(_previous_policy(folder, cfg.policy))
        resume = plan.describe(cfg, folder.path)
        if resume:
            report.note(resume)
        report.start(plan.total, plan.total - len(plan.todo), cfg.env_id.split("/")[-1])
        index = {int(r["episode"]): i for i, r in enumerate(lines) if r["env_id"] == cfg.env_id}
        done = plan.total - len(plan.todo)
        if runner is not None and plan.todo:
            for line in runner.run(plan.feed(cfg)):
                if line.get("error"):
                    line["error"] = scrub(str(line["error"]), secrets)
                episode = int(line["episode"])
                if episode in index:  # a retried episode replaces its line
                    lines[index[episode]] = line
                    rewrite_results(folder.results_file, lines)
                else:
                    index[episode] = len(lines)
                    lines.append(line)
                    append_result(folder.results_file, line)
                done += 1
                report.episode(line, lines, done)
        finished = True
    except RolloutInterrupted as exc:
        interrupted = exc
    except WorkerError:
        if signals.received is None:
            raise
        interrupted = RolloutInterrupted(signals.received)  # the signal also reached (and killed) the workers
    finally:
        signals.cleaning = True
        try:
            if runner is not None:
                runner.close(abort=not finished)
        finally:
            report.close()
            if started:
                name = None if interrupted is None else interrupted.signal_name
                summary = write_summary(folder.path, cfg, lines, policy_info, command, interrupted=name)
            folder.lock.release()
    if interrupted is not None:
        if started:
            message = (f"interrupted by {interrupted.signal_name}: {len(lines)} episodes recorded in {folder.path} "
                       "and summarised in summary.json; run the same command again to resume")
        else:
            message = f"interrupted by {interrupted.signal_name} before any episode ran; nothing was written"
        raise RolloutInterrupted(interrupted.signum, message, summary) from None
    assert summary is not None
    return RolloutResult(folder.path, lines, summary)
