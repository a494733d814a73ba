"""What runs the episodes of a run: this process, worker processes or Ray actors, behind one
``run(episodes) -> result lines`` / ``close(abort)`` face."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from ..policy_api import ACTION_SPACE_LOG, Policy
from ..records.redact import scrub
from .config import RolloutConfig
from .episode import run_episode
from .process_pool import WorkerPool
from .setup import build

_warned_specs: set[str] = set()
"""Policy specs whose workers' replies looked like the other joint action space, already warned about."""


def _describe(policy: Policy, secrets: tuple[str, ...]) -> dict[str, Any]:
    cls = type(policy)
    info: dict[str, Any] = {"class": f"{cls.__module__}.{cls.__qualname__}"}
    text = repr(policy)
    if " at 0x" not in text:  # a default object repr says nothing and changes every run
        info["repr"] = scrub(text, secrets)
    return info


class InProcess:
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
    cfg: RolloutConfig

    def probe(self) -> dict[str, Any]: ...
    def run(self, episodes: Iterable[int]) -> Iterator[dict[str, Any]]: ...
    def terminate(self) -> None: ...
    def close(self) -> None: ...


class InPool:
    """Episodes on a pool of workers, one env and policy each: ``num_envs`` worker processes
    (:class:`.process_pool.WorkerPool`) or Ray actors (:class:`.ray_pool.RayPool`). Building waits
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
        for line in self.pool.run(episodes):
            self._check_action_space(line)
            yield line

    def _check_action_space(self, line: dict[str, Any]) -> None:
        """Warn here, once, for the workers: a client's own warning would print once per worker
        process (they are told to keep it: :mod:`.process_pool`), and Ray actors' never reaches us."""
        mismatches, spec = int(line.get("action_space_mismatches") or 0), self.pool.cfg.policy
        if not mismatches or spec in _warned_specs:
            return
        _warned_specs.add(spec)
        logging.getLogger(ACTION_SPACE_LOG).warning(
            "in episode %s, %d of %d replies of %s looked like the other DROID joint action space than the one "
            "they ran in (absolute joint positions run as velocities, or the reverse); for a server of absolute "
            "joint positions pass --policy-arg action_space=joint_position, for velocities action_space="
            "joint_velocity", line["episode"], mismatches, int(line.get("chunks") or 0), spec)

    def close(self, abort: bool) -> None:
        if abort:
            self.pool.terminate()
        else:
            self.pool.close()


EpisodeRunner = InProcess | InPool


def start_executor(cfg: RolloutConfig, policy: Policy | None, episodes: int, secrets: tuple[str, ...],
                   note: Callable[[str], None]) -> EpisodeRunner:
    """What runs ``episodes`` episodes of ``cfg``: Ray actors (``executor="ray"``), this process
    (one env, one episode, or a ready Policy object) or ``num_envs`` worker processes."""
    workers = min(cfg.num_envs, episodes)
    if cfg.executor == "ray":
        from .ray_pool import RayPool

        return InPool(RayPool(cfg, workers, cfg.ray_address, note=note), secrets)
    if cfg.num_envs == 1 or episodes == 1 or policy is not None:
        return InProcess(cfg, policy, secrets)
    return InPool(WorkerPool(cfg, workers), secrets)
