"""Worker processes for ``num_envs > 1``: each builds its own env and policy and runs episodes.

Workers never outlive the rollout. Each one asks the kernel for SIGKILL when its parent dies
(``prctl(PR_SET_PDEATHSIG)`` on Linux) and runs a watchdog thread that exits the process as
soon as its parent pid changes (the portable fallback, and a guard against the parent dying
before the ``prctl``). They ignore SIGINT: a Ctrl-C reaches the whole process group, and the
parent decides (it kills the workers and writes the summary). On the parent side
:class:`WorkerPool` starts them, makes sure one of them could build the env and the policy
before anything is written (:meth:`WorkerPool.probe`), and kills them on :meth:`terminate`.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from ..envs import register_envs
from ..errors import WorkerError
from ..policy_api import ACTION_SPACE_LOG
from ..records.results import EpisodeResult
from .config import RolloutConfig
from .episode import run_episode
from .setup import build

PARENT_POLL_S = 0.5
_PR_SET_PDEATHSIG = 1

_WORKER: dict[str, Any] = {}


# -- inside a worker --------------------------------------------------------------------------

def _watch_parent(parent_pid: int, interval: float) -> None:
    while True:
        time.sleep(interval)
        if os.getppid() != parent_pid:
            os._exit(1)


def die_with_parent(parent_pid: int, interval: float = PARENT_POLL_S, *, pdeathsig: bool = True,
                    watchdog: bool = True) -> None:
    """Make this process die when ``parent_pid`` (its parent) dies, however it dies.

    pdeathsig: on Linux, ask the kernel for SIGKILL when the parent goes (strictly: when the
    parent *thread* that forked this process ends; the pool forks from the rollout's thread,
    which outlives its workers). watchdog: a daemon thread that polls ``os.getppid()`` every
    ``interval`` seconds and calls ``os._exit(1)`` once the parent is gone (any POSIX system).
    """
    if pdeathsig and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the prctl took effect
        os._exit(1)
    if watchdog:
        threading.Thread(target=_watch_parent, args=(parent_pid, interval), name="parent-watchdog",
                         daemon=True).start()


def _worker_init(cfg: RolloutConfig, parent_pid: int) -> None:
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Every worker would say it once; the parent does, from the result lines (executors.InPool).
    logging.getLogger(ACTION_SPACE_LOG).setLevel(logging.ERROR)
    register_envs()
    try:
        env, policy = build(cfg)
    except Exception as exc:  # noqa: BLE001 - reported by _worker_probe / as each episode's error
        _WORKER.update(error=exc, cfg=cfg)
        return
    _WORKER.update(env=env, policy=policy, cfg=cfg)


def _worker_probe() -> dict[str, Any]:
    """The built policy's class and repr; raises what building the env or policy raised."""
    if "error" in _WORKER:
        raise _WORKER["error"]
    policy = _WORKER["policy"]
    cls = type(policy)
    return {"class": f"{cls.__module__}.{cls.__qualname__}", "repr": repr(policy)}


def _worker_run(episode: int) -> dict[str, Any]:
    cfg: RolloutConfig = _WORKER["cfg"]
    if "error" in _WORKER:  # this worker could not build its env or policy: the episode errored
        exc = _WORKER["error"]
        return EpisodeResult.start(cfg, episode, error=f"{type(exc).__name__}: {exc}").to_json()
    return run_episode(_WORKER["env"], _WORKER["policy"], cfg, episode, Path(cfg.out)).to_json()


# -- in the parent ----------------------------------------------------------------------------

class WorkerPool:
    """``workers`` spawned processes running episodes of ``cfg``."""

    def __init__(self, cfg: RolloutConfig, workers: int) -> None:
        self.cfg = cfg
        self.workers = workers
        self._futures: list[Future[Any]] = []
        self._pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=mp.get_context("spawn"),
            initializer=_worker_init, initargs=(cfg, os.getpid()),
        )

    def probe(self) -> dict[str, Any]:
        """Wait until a worker has built the env and the policy; its policy's class and repr.

        Raises what building raised (a bad replay file, an unreachable server, ...), so a run
        that cannot start fails before its folder is touched."""
        future = self._pool.submit(_worker_probe)
        self._futures.append(future)
        try:
            info: dict[str, Any] = future.result()
        except BrokenProcessPool as exc:
            raise WorkerError(f"a worker process died while building the env and the policy ({exc})") from None
        return info

    def run(self, episodes: Iterable[int]) -> Iterator[dict[str, Any]]:
        """Run the episodes; yield each result line as it finishes.

        At most one episode per worker is handed out at a time, and the next one is taken from
        ``episodes`` only after the lines that finished were yielded (and recorded): an adaptive
        run's feed stops as soon as its rule holds, so few episodes run beyond it."""
        pending = iter(episodes)
        running: set[Future[Any]] = set()

        def hand_out() -> None:
            while len(running) < self.workers:
                episode = next(pending, None)
                if episode is None:
                    return
                future = self._pool.submit(_worker_run, episode)
                self._futures.append(future)
                running.add(future)

        hand_out()
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            running -= finished
            lines, broken = [], False
            for future in finished:
                try:
                    lines.append(future.result())
                except BrokenProcessPool:
                    broken = True
            yield from lines  # the episodes that did finish are recorded before the error
            if broken:
                raise WorkerError(
                    "a worker process died while running episodes (killed, out of memory, or a crash in native "
                    "code); the finished episodes are recorded, run the same command again to resume"
                )
            hand_out()

    def terminate(self) -> None:
        """Cancel what has not started and kill the workers now (an interrupted run)."""
        for future in self._futures:
            future.cancel()
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        for process in processes:
            with contextlib.suppress(OSError, ValueError):
                process.kill()
        self._pool.shutdown(wait=True, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(OSError, ValueError, AssertionError):
                process.join(5)

    def close(self) -> None:
        """Let the workers finish and exit (they close their env and policy with the process)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
