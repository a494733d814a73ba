"""Environment throughput, printed as JSON.

- state mode: env steps/s (joint_position and cosmos action modes) against the physics-only
  bound measured in the same run: raw mj_step/s of the same model divided by the 33 physics
  steps in one 15 Hz control step.
- rgb mode: env steps/s with the three 180x320 cameras.
- render presets (``--presets``): env steps/s with the three cameras for every render_quality
  x room (``plain``, the drawn ``droid`` rooms) x robot (embedded, and menagerie when
  MENAGERIE_ROOT is set) x image size (180x320, 360x640), with each row's cost ratio to ``fast``
  of the same room, robot and size and to the ``plain`` room of the same preset, measured in the
  same run. Every ``--episode-steps`` steps the env is reset (a new seed: a new room, new
  camera poses), so a drawn room's per-episode cost is counted.
- suite extremes (``--suite-extremes``): state and three-camera 180x320 steps/s, in both render
  presets, for the droid-tabletop task with the most objects next to the one with the fewest,
  measured in the same run (the lightest is the baseline of ``cost_vs_lightest``).
Usage: python benchmarks/env.py [--env robosim_cosmos/DroidCubeInBowl-v0] [--robot embedded]
       [--presets [--episode-steps 150] | --suite-extremes]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import gymnasium as gym
import mujoco
import numpy as np

import robosim_cosmos  # noqa: F401  (registers the envs, picks the GL backend)
from robosim_cosmos.envs.scene import PHYSICS_SUBSTEPS
from robosim_cosmos.kinematics import frames
from robosim_cosmos.kinematics.normalization import load_stats
from robosim_cosmos.kinematics.rot6d import IDENTITY_ROT6D


def raw_physics(model: mujoco.MjModel, seconds: float) -> float:
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    data.ctrl[:7] = frames.DROID_HOME
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        mujoco.mj_step(model, data, nstep=1000)
        n += 1000
    return n / (time.perf_counter() - t0)


def env_rate(env, actions, seconds: float, episode_steps: int | None = None) -> float:
    """Env steps per second, resetting when an episode ends or every ``episode_steps``."""
    env.reset(seed=0)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        _, _, term, trunc, _ = env.step(actions[n % len(actions)])
        n += 1
        if term or trunc or (episode_steps and n % episode_steps == 0):
            env.reset(seed=n)
    return n / (time.perf_counter() - t0)


PRESET_SIZES = ((180, 320), (360, 640))


def preset_rows(env_id: str, joint_actions, seconds: float, episode_steps: int) -> list[dict]:
    """steps/s with three cameras per render_quality x room x robot x image size, and the ratios
    to fast (same room) and to the plain room (same preset)."""
    from robosim_cosmos.envs.scene import RENDER_QUALITIES

    robots = ["embedded"] + (["menagerie"] if os.environ.get("MENAGERIE_ROOT") else [])
    rows = []
    for robot in robots:
        for size in PRESET_SIZES:
            plain_rate: dict[str, float] = {}
            for room in ("plain", "droid"):
                fast_rate = None
                for quality in RENDER_QUALITIES:
                    env = gym.make(env_id, obs_mode="rgb", robot=robot, image_size=size, render_quality=quality,
                                   room=room).unwrapped
                    env_rate(env, joint_actions[:3], 0.3)  # warm-up: GL context, shader compile, texture upload
                    rate = env_rate(env, joint_actions, seconds, episode_steps)
                    env.close()
                    fast_rate = rate if quality == "fast" else fast_rate
                    plain_rate.setdefault(quality, rate)
                    rows.append({
                        "render_quality": quality, "room": room, "robot": robot,
                        "image_size": f"{size[0]}x{size[1]}", "cameras": 3, "steps_per_s": round(rate, 2),
                        "cost_vs_fast": round(fast_rate / rate, 2) if fast_rate else None,
                        "cost_vs_plain_room": round(plain_rate[quality] / rate, 2),
                    })
    return rows


def suite_extremes(joint_actions, seconds: float) -> dict:
    """steps/s of the heaviest and lightest suite tasks (by object count), state and rgb, both presets."""
    from robosim_cosmos.envs.registry import SPECS, task_of
    from robosim_cosmos.envs.scene import RENDER_QUALITIES
    from robosim_cosmos.envs.task_library import COMPOSITIONAL_TASKS

    def count(env_id: str) -> int:
        task = task_of(env_id)
        return len(SPECS[task].objects) + int(SPECS[task].region) if task in SPECS else 0

    ids = [f"robosim_cosmos/{spec.env_name}-v0" for spec in COMPOSITIONAL_TASKS]  # the droid-tabletop tasks
    heavy, light = max(ids, key=count), min(ids, key=count)
    rows = []
    for env_id in (light, heavy):
        state = gym.make(env_id, obs_mode="state").unwrapped
        rates = {"state": env_rate(state, joint_actions, seconds)}
        state.close()
        for quality in RENDER_QUALITIES:
            env = gym.make(env_id, obs_mode="rgb", image_size=(180, 320), render_quality=quality).unwrapped
            env_rate(env, joint_actions[:3], 0.3)  # warm-up
            rates[f"rgb_{quality}"] = env_rate(env, joint_actions, seconds)
            env.close()
        rows.append({"env": env_id, "objects": count(env_id), "contacts_at_reset": None,
                     **{f"{k}_steps_per_s": round(v, 2) for k, v in rates.items()}})
    for key in ("state", "rgb_fast", "rgb_faithful"):
        rows[1][f"{key}_cost_vs_lightest"] = round(rows[0][f"{key}_steps_per_s"] / rows[1][f"{key}_steps_per_s"], 2)
    for row in rows:
        env = gym.make(row["env"], obs_mode="state").unwrapped
        env.reset(seed=0)
        row["contacts_at_reset"] = int(env.data.ncon)
        env.close()
    return {"lightest": rows[0], "heaviest": rows[1], "mujoco_gl": os.environ.get("MUJOCO_GL")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="robosim_cosmos/DroidCubeInBowl-v0")
    parser.add_argument("--robot", default="embedded")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--presets", action="store_true",
                        help="only the render_quality x robot x image size table")
    parser.add_argument("--episode-steps", type=int, default=150,
                        help="--presets: reset every N steps (a new room and camera poses)")
    parser.add_argument("--suite-extremes", action="store_true",
                        help="only the heaviest vs lightest droid-tabletop task, both presets")
    args = parser.parse_args()

    t = np.arange(60) / 15.0
    joint_actions = [
        np.append(frames.DROID_HOME + 0.2 * np.sin(2 * np.pi * 0.4 * ti) * np.ones(7), 0.0).astype(np.float32)
        for ti in t
    ]
    if args.suite_extremes:
        print(json.dumps(suite_extremes(joint_actions, args.seconds), indent=2))
        return
    if args.presets:
        print(json.dumps({"env": args.env, "mujoco_gl": os.environ.get("MUJOCO_GL"),
                          "episode_steps": args.episode_steps,
                          "rows": preset_rows(args.env, joint_actions, args.seconds, args.episode_steps)}, indent=2))
        return
    stats = load_stats(embodiment="droid")
    cosmos_actions = [
        stats.normalize(np.r_[0.006 * np.sin(2 * np.pi * 0.3 * ti), 0.004, 0.0, IDENTITY_ROT6D, 1.0]).astype(np.float32)
        for ti in t
    ]

    state = gym.make(args.env, obs_mode="state", robot=args.robot).unwrapped
    mj_steps = raw_physics(state.model, args.seconds)
    bound = mj_steps / PHYSICS_SUBSTEPS
    state_joint = env_rate(state, joint_actions, args.seconds)
    cosmos = gym.make(args.env, obs_mode="state", action_mode="cosmos", robot=args.robot).unwrapped
    state_cosmos = env_rate(cosmos, cosmos_actions, args.seconds)
    rgb = gym.make(args.env, obs_mode="rgb", robot=args.robot, image_size=(180, 320)).unwrapped
    rgb_joint = env_rate(rgb, joint_actions, args.seconds)
    print(json.dumps({
        "env": args.env,
        "robot": args.robot,
        "physics_substeps_per_control_step": PHYSICS_SUBSTEPS,
        "raw_mj_step_per_s": mj_steps,
        "physics_only_bound_steps_per_s": bound,
        "state_joint_position_steps_per_s": state_joint,
        "state_joint_position_vs_bound": state_joint / bound,
        "state_cosmos_steps_per_s": state_cosmos,
        "state_cosmos_vs_bound": state_cosmos / bound,
        "rgb_3x180x320_steps_per_s": rgb_joint,
        "realtime_factor_rgb": rgb_joint / 15.0,
        "mujoco_gl": os.environ.get("MUJOCO_GL"),
    }, indent=2))


if __name__ == "__main__":
    main()
