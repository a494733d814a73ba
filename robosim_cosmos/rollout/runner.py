"""The loop over episodes: resume from ``results.jsonl``, run in-process or in worker
processes, record each episode as it finishes, and write ``summary.json``."""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from ..envs import register_envs
from ..errors import ConfigError
from ..policies.registry import spec_kind
from ..policy_api import Policy
from .build import build
from .config import RolloutConfig
from .episode import EpisodeResult, run_episode
from .results import RESULTS_FILE, append_result, read_results, write_summary


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


# -- worker processes -------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _worker_init(cfg: RolloutConfig) -> None:
    register_envs()
    env, policy = build(cfg)
    _WORKER.update(env=env, policy=policy, cfg=cfg)


def _worker_run(episode: int) -> dict[str, Any]:
    cfg: RolloutConfig = _WORKER["cfg"]
    return run_episode(_WORKER["env"], _WORKER["policy"], cfg, episode, Path(cfg.out)).to_json()


# -- the runner -------------------------------------------------------------------------------

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
    **options: Any,
) -> RolloutResult:
    """Run closed-loop episodes and write ``out/``: results.jsonl, summary.json, videos/.

    Call it with a :class:`RolloutConfig`, or with ``env_id``, ``policy`` and any of its
    fields as keywords (``episodes``, ``seed``, ``out``, ``open_loop_steps``, ...).
    policy: a spec string (see :func:`robosim_cosmos.create_policy`) or a ready Policy
        object (objects need ``num_envs=1``; the scripted policy must be given as a spec,
        since it is built on the rollout's own env).
    Episodes already in ``out/results.jsonl`` are skipped (resume); an episode that raises
    is recorded with ``error`` and the run continues. ``progress``: None = tqdm on a tty.
    """
    cfg = _config(env_id, policy, options)
    policy_obj = policy if isinstance(policy, Policy) else None
    if policy is not None and not isinstance(policy, (str, Policy)):
        raise ConfigError(f"policy must be a spec string or a Policy, got {type(policy).__name__}")
    if policy_obj is None:
        spec_kind(cfg.policy)  # an unknown spec fails before any work
    elif cfg.num_envs > 1:
        raise ConfigError("num_envs > 1 needs a policy spec string (each worker builds its own policy)")

    out_dir = Path(cfg.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    results_path = out_dir / RESULTS_FILE
    lines = read_results(results_path)
    done: set[int] = set()
    for r in lines:
        if r["env_id"] != cfg.env_id:
            continue
        if r.get("seed") != cfg.seed + r["episode"]:
            raise ConfigError(
                f"{results_path} holds episode {r['episode']} of {cfg.env_id} with seed {r.get('seed')}, "
                f"this run would use {cfg.seed + r['episode']}; use another --out or the same --seed"
            )
        done.add(int(r["episode"]))
    todo = [i for i in range(cfg.episodes) if i not in done]

    bar = tqdm(total=cfg.episodes, initial=cfg.episodes - len(todo), desc=cfg.env_id.split("/")[-1],
               unit="ep", disable=None if progress is None else not progress)
    policy_repr = None

    def record(line: dict[str, Any]) -> None:
        lines.append(line)
        append_result(results_path, line)
        bar.update(1)
        bar.set_postfix(success=sum(1 for r in lines if r["env_id"] == cfg.env_id and r["success"]))

    try:
        if todo and (cfg.num_envs == 1 or len(todo) == 1 or policy_obj is not None):
            env, pol = build(cfg, policy_obj)
            policy_repr = repr(pol)
            try:
                for episode in todo:
                    record(run_episode(env, pol, cfg, episode, out_dir).to_json())
            finally:
                env.close()
                if policy_obj is None:
                    pol.close()
        elif todo:
            ctx = mp.get_context("spawn")
            with ProcessPoolExecutor(max_workers=min(cfg.num_envs, len(todo)), mp_context=ctx,
                                     initializer=_worker_init, initargs=(cfg,)) as pool:
                futures = {pool.submit(_worker_run, ep): ep for ep in todo}
                for fut in as_completed(futures):
                    record(fut.result())
    finally:
        bar.close()
        summary = write_summary(out_dir, cfg, lines, policy_repr)
    return RolloutResult(out_dir, lines, summary)
