"""Closed-loop rollouts: env + policy -> results.jsonl, summary.json and videos."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import PolicyError
from ..observations import DEFAULT_CAMERA
from ..policies.base import ENV_ACTION_MODE
from .stats import success_summary
from .video import VideoWriter, compose_frame

VIDEO_CAMERA = DEFAULT_CAMERA
EXECUTIONS = ("native", "joint_position")
ROBOTS_HELP = "embedded | menagerie | PATH"
_OUTRO_FRAMES = 8  # the last frame, held ~0.5 s with the outcome in the caption


@dataclass
class RolloutConfig:
    """Everything a run depends on (written into summary.json)."""

    env_id: str
    policy: str
    episodes: int = 1
    seed: int = 0
    out: str = "runs/rollout"
    open_loop_steps: int = 8
    instruction: str | None = None
    video: bool = True
    robot: str = "embedded"
    num_envs: int = 1
    execution: str = "native"
    max_steps: int | None = None
    policy_kwargs: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        from ..envs import task_of

        task_of(self.env_id)  # ValueError listing the ids
        for name in ("episodes", "open_loop_steps", "num_envs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed must be an integer, got {self.seed!r}")
        if self.max_steps is not None and (not isinstance(self.max_steps, int) or self.max_steps < 1):
            raise ValueError(f"max_steps must be a positive integer or None, got {self.max_steps!r}")
        if self.execution not in EXECUTIONS:
            raise ValueError(f"unknown execution {self.execution!r}; valid: {list(EXECUTIONS)}")


@dataclass
class RolloutResult:
    """What :func:`rollout` returns: every result line in the folder and the summary."""

    out: Path
    results: list[dict]
    summary: dict

    @property
    def success_rate(self) -> float | None:
        return self.summary["overall"]["success_rate"]


# -- building env + policy ------------------------------------------------------------------

def _make_env(cfg: RolloutConfig, layout: str, obs_mode: str):
    import gymnasium as gym

    action_mode = ENV_ACTION_MODE[layout]
    if cfg.execution == "joint_position":
        action_mode = "joint_position"
    kwargs: dict[str, Any] = dict(action_mode=action_mode, obs_mode=obs_mode, robot=cfg.robot)
    if cfg.instruction:
        kwargs["instruction"] = cfg.instruction
    if cfg.max_steps is not None:
        kwargs["max_episode_steps"] = cfg.max_steps
    return gym.make(cfg.env_id, **kwargs)


def build(cfg: RolloutConfig, policy: Any = None):
    """(env, policy) for a config; ``policy`` overrides ``cfg.policy`` with a ready object."""
    from ..policies.registry import NEEDS_ENV, create_policy, needs_images, spec_kind

    if policy is None and spec_kind(cfg.policy) in NEEDS_ENV:
        # The scripted policy reads privileged state and never looks at images.
        env = _make_env(cfg, "cosmos_ee_delta", "state")
        try:
            # with video on, its right-hand panel is a forward simulation of each chunk
            kwargs = {"predict_video": bool(cfg.video), **cfg.policy_kwargs}
            policy = create_policy(cfg.policy, env=env, **kwargs)
        except BaseException:
            env.close()
            raise
        layout = policy.layout
        if ENV_ACTION_MODE.get(layout) != "cosmos" and cfg.execution == "native":
            env.close()
            env = _make_env(cfg, layout, "state")
        return env, policy
    if policy is None:
        policy = create_policy(cfg.policy, **cfg.policy_kwargs)
        if not cfg.video and "return_video" not in cfg.policy_kwargs and hasattr(policy, "return_video"):
            policy.return_video = False  # nobody will look at it: skip the video decode
    if callable(getattr(policy, "connect", None)):
        policy.connect()  # a remote server announces its layout in the metadata frame
    layout = getattr(policy, "layout", None)
    if layout not in ENV_ACTION_MODE:
        raise PolicyError(f"policy {type(policy).__name__} has layout {layout!r}; valid: {sorted(ENV_ACTION_MODE)}")
    obs_mode = "rgb" if needs_images(policy) else "state"
    return _make_env(cfg, layout, obs_mode), policy


# -- one episode ------------------------------------------------------------------------------

def _stats(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"mean": None, "max": None}
    arr = np.asarray(values, dtype=np.float64)
    return {"mean": float(arr.mean()), "max": float(arr.max())}


def _prediction_frame(video: np.ndarray | None, step: int) -> np.ndarray | None:
    if video is None or len(video) == 0:
        return None
    return video[min(step, len(video) - 1)]


def _check_chunk(chunk: Any, layout: str) -> Any:
    from ..policies.base import ActionChunk

    if not isinstance(chunk, ActionChunk):
        raise PolicyError(f"get_actions must return an ActionChunk, got {type(chunk).__name__}")
    # Re-validate (shape, layout, NaN): a policy may have mutated the arrays after construction.
    checked = ActionChunk(chunk.actions, chunk.layout, chunk.embodiment, chunk.predicted_video, chunk.info)
    if checked.layout != layout:
        raise PolicyError(f"policy declared layout {layout!r} but returned a {checked.layout!r} chunk")
    if len(checked) == 0:
        raise PolicyError("policy returned an empty action chunk")
    return checked


def run_episode(env, policy, cfg: RolloutConfig, episode: int, out: Path) -> dict:
    """Run one episode; never raises for policy/env failures (they become ``error``)."""
    from ..envs import task_of

    seed = cfg.seed + episode
    task = task_of(cfg.env_id)
    base = env.unwrapped
    layout = policy.layout
    convert = cfg.execution == "joint_position" and layout == "cosmos_ee_delta"
    line: dict[str, Any] = {
        "env_id": cfg.env_id, "task": task, "instruction": cfg.instruction, "seed": seed,
        "episode": episode, "success": False, "steps": 0, "sim_seconds": 0.0, "wall_seconds": 0.0,
        "policy_latency_s": _stats([]), "ik_error": None, "tracking_error": None,
        "chunks": 0, "video": None, "error": None,
    }
    latencies: list[float] = []
    ik_p: list[float] = []
    ik_r: list[float] = []
    tr_p: list[float] = []
    tr_r: list[float] = []
    writer: VideoWriter | None = None
    t_start = time.perf_counter()
    success = False
    caption_head = ""
    try:
        obs, info = env.reset(seed=seed)
        instruction = info["instruction"]
        line["instruction"] = instruction
        policy.reset()
        if cfg.video:
            writer = VideoWriter(out / "videos", f"{task}_ep{episode}")
        chunk_index = 0
        done = False
        while not done:
            base.reanchor()
            t0 = time.perf_counter()
            chunk = policy.get_actions(obs, instruction)
            latencies.append(time.perf_counter() - t0)
            chunk = _check_chunk(chunk, layout)
            rows = chunk.actions[: cfg.open_loop_steps]
            if convert:
                decoded = base.decoder.decode(rows, np.asarray(obs["joint_position"], dtype=np.float64))
                rows = np.concatenate([decoded.joint_positions, decoded.gripper[:, None]], axis=1)
                space = env.action_space
                rows = np.clip(rows, space.low, space.high).astype(np.float32)
                ik_p.extend(np.asarray(decoded.ik.position_error_mm, dtype=float).tolist())
                ik_r.extend(np.asarray(decoded.ik.rotation_error_deg, dtype=float).tolist())
            for j, row in enumerate(rows):
                obs, _, terminated, truncated, info = env.step(row)
                line["steps"] += 1
                if not convert and base.action_mode == "cosmos":
                    ik_p.append(info["ik_position_error_mm"])
                    ik_r.append(info["ik_rotation_error_deg"])
                tr_p.append(info["tracking_position_error_mm"])
                tr_r.append(info["tracking_rotation_error_deg"])
                success = bool(info["is_success"])
                done = bool(terminated or truncated)
                if writer is not None:
                    camera = obs.get(VIDEO_CAMERA)
                    if camera is None:
                        camera = base.render_camera(VIDEO_CAMERA)
                    caption_head = instruction
                    writer.add(
                        camera, _prediction_frame(chunk.predicted_video, j + 1),
                        [caption_head, f"chunk {chunk_index}  step {j + 1}/{len(rows)}  t={info['sim_time']:.2f}s"],
                    )
                if done:
                    break
            chunk_index += 1
        line["chunks"] = chunk_index
        line["sim_seconds"] = float(info["sim_time"])
    except Exception as exc:  # noqa: BLE001 - recorded, the run goes on
        success = False
        line["error"] = f"{type(exc).__name__}: {exc}"
        if os.environ.get("ROBOSIM_COSMOS_DEBUG"):
            traceback.print_exc()
        try:
            line["sim_seconds"] = float(base.data.time)
        except Exception:  # noqa: BLE001
            pass
    line["success"] = success
    line["wall_seconds"] = time.perf_counter() - t_start
    line["policy_latency_s"] = _stats(latencies)
    if ik_p:
        line["ik_error"] = {"position_mm": _stats(ik_p), "rotation_deg": _stats(ik_r)}
    if tr_p:
        line["tracking_error"] = {"position_mm": _stats(tr_p), "rotation_deg": _stats(tr_r)}
    if writer is not None:
        outcome = "SUCCESS" if success else ("ERROR" if line["error"] else "FAILURE")
        try:
            name = f"{task}_ep{episode}_{'success' if success else 'failure'}.mp4"
            final = writer.finish(name, [caption_head, f"outcome: {outcome}  steps {line['steps']}"], _OUTRO_FRAMES)
            line["video"] = None if final is None else str(Path("videos") / name)
        except Exception as exc:  # noqa: BLE001
            line["video"] = None
            if line["error"] is None:
                line["error"] = f"video: {type(exc).__name__}: {exc}"
    return line


# -- bookkeeping ------------------------------------------------------------------------------

def read_results(path: Path) -> list[dict]:
    """Valid lines of results.jsonl; a torn last line (a crash mid-write) is dropped."""
    if not path.is_file():
        return []
    lines: list[dict] = []
    dropped = False
    for raw in path.read_text().splitlines():
        if not raw.strip():
            continue
        try:
            doc = json.loads(raw)
            if not isinstance(doc, dict) or "episode" not in doc or "env_id" not in doc:
                raise ValueError
            lines.append(doc)
        except ValueError:
            dropped = True
    if dropped:  # rewrite without the torn line so appends stay valid JSONL
        path.write_text("".join(json.dumps(d) + "\n" for d in lines))
    return lines


def _append(path: Path, line: dict) -> None:
    with path.open("a") as fh:
        fh.write(json.dumps(line) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in ("numpy", "mujoco", "mink", "gymnasium", "robosim_cosmos", "torch", "diffusers"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            if name == "robosim_cosmos":
                from .. import __version__

                out[name] = __version__
            elif name in ("torch", "diffusers"):
                continue  # optional: listed only when importable
            else:
                out[name] = None
    return out


def write_summary(out: Path, cfg: RolloutConfig, lines: list[dict], policy_repr: str | None = None) -> dict:
    per_env: dict[str, dict] = {}
    for env_id in sorted({r["env_id"] for r in lines}):
        per_env[env_id] = success_summary([r for r in lines if r["env_id"] == env_id])
    summary = {
        "overall": success_summary(lines),
        "per_env": per_env,
        "config": asdict(cfg),
        "policy": policy_repr,
        "versions": package_versions(),
        "command": sys.argv,
    }
    tmp = out / "summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    os.replace(tmp, out / "summary.json")
    return summary


# -- worker processes -------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _worker_init(cfg: RolloutConfig) -> None:
    from .. import _gl  # noqa: F401  (before mujoco)
    from ..envs import register_envs

    register_envs()
    env, policy = build(cfg)
    _WORKER.update(env=env, policy=policy, cfg=cfg)


def _worker_run(episode: int) -> dict:
    return run_episode(_WORKER["env"], _WORKER["policy"], _WORKER["cfg"], episode, Path(_WORKER["cfg"].out))


# -- the runner -------------------------------------------------------------------------------

def rollout(
    env_id: str,
    policy: Any,
    episodes: int = 1,
    seed: int = 0,
    out: str | os.PathLike = "runs/rollout",
    open_loop_steps: int = 8,
    instruction: str | None = None,
    video: bool = True,
    robot: str = "embedded",
    num_envs: int = 1,
    execution: str = "native",
    max_steps: int | None = None,
    policy_kwargs: dict[str, Any] | None = None,
    progress: bool | None = None,
) -> RolloutResult:
    """Run ``episodes`` closed-loop episodes of ``policy`` on ``env_id`` and write ``out/``.

    policy: a spec string (see :func:`robosim_cosmos.create_policy`) or a ready Policy
        object (objects need ``num_envs=1``; the scripted policy must be given as a spec,
        since it is built on the rollout's own env).
    Episode i uses seed ``seed + i``. Each chunk: re-anchor on the observed pose, ask the
    policy, execute the first ``open_loop_steps`` rows. ``execution="joint_position"``
    decodes cosmos chunks to joint targets (IK from the observed joints) and runs the env
    in joint-position mode. ``max_steps`` overrides the env's time limit.
    Episodes already in ``out/results.jsonl`` are skipped (resume); an episode that raises
    is recorded with ``error`` and the run continues. ``progress``: None = tqdm on a tty.
    """
    spec = policy if isinstance(policy, str) else f"<object {type(policy).__name__}>"
    cfg = RolloutConfig(
        env_id=env_id, policy=spec, episodes=episodes, seed=seed, out=str(out),
        open_loop_steps=open_loop_steps, instruction=instruction, video=bool(video), robot=str(robot),
        num_envs=num_envs, execution=execution, max_steps=max_steps, policy_kwargs=dict(policy_kwargs or {}),
    )
    cfg.validate()
    policy_obj = None
    if isinstance(policy, str):
        from ..policies.registry import spec_kind

        spec_kind(policy)  # unknown spec -> ValueError before any work
    else:
        if num_envs > 1:
            raise ValueError("num_envs > 1 needs a policy spec string (each worker builds its own policy)")
        policy_obj = policy

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    results_path = out_dir / "results.jsonl"
    lines = read_results(results_path)
    done: set[int] = set()
    for r in lines:
        if r["env_id"] != env_id:
            continue
        if r.get("seed") != seed + r["episode"]:
            raise ValueError(
                f"{results_path} holds episode {r['episode']} of {env_id} with seed {r.get('seed')}, "
                f"this run would use {seed + r['episode']}; use another --out or the same --seed"
            )
        done.add(int(r["episode"]))
    todo = [i for i in range(episodes) if i not in done]

    from tqdm.auto import tqdm

    bar = tqdm(total=episodes, initial=episodes - len(todo), desc=env_id.split("/")[-1], unit="ep",
               disable=None if progress is None else not progress)
    policy_repr = None

    def record(line: dict) -> None:
        lines.append(line)
        _append(results_path, line)
        bar.update(1)
        bar.set_postfix(success=sum(1 for r in lines if r["env_id"] == env_id and r["success"]))

    try:
        if todo and (num_envs == 1 or len(todo) == 1 or policy_obj is not None):
            env, pol = build(cfg, policy_obj)
            policy_repr = repr(pol)
            try:
                for episode in todo:
                    record(run_episode(env, pol, cfg, episode, out_dir))
            finally:
                env.close()
        elif todo:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor, as_completed

            ctx = mp.get_context("spawn")
            with ProcessPoolExecutor(max_workers=min(num_envs, len(todo)), mp_context=ctx,
                                     initializer=_worker_init, initargs=(cfg,)) as pool:
                futures = {pool.submit(_worker_run, ep): ep for ep in todo}
                for fut in as_completed(futures):
                    record(fut.result())
    finally:
        bar.close()
        summary = write_summary(out_dir, cfg, lines, policy_repr)
    return RolloutResult(out_dir, lines, summary)
