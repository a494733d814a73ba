"""A minimal closed loop: a gymnasium env driven by any policy backend.

    python examples/gym_loop.py [--policy scripted] [--episodes 1] [--steps 300] [--open-loop-steps 8]
    python examples/gym_loop.py --policy diffusers:/ckpt/cosmos3 --policy-arg device=cuda
    python examples/gym_loop.py --policy cosmos3://127.0.0.1:8000

The env's action mode follows the policy's layout (cosmos_ee_delta -> "cosmos",
joint_pos -> "joint_position"); cameras are rendered only for policies that look at them.
"""

from __future__ import annotations

import argparse

import gymnasium as gym

import robosim_cosmos  # registers the env ids
from robosim_cosmos.policies.registry import parse_policy_args
from robosim_cosmos.policy_api import ENV_ACTION_MODE, Policy

ENV_ID = "robosim_cosmos/DroidCubeInBowl-v0"


def make_env_and_policy(spec: str, policy_kwargs: dict, env_kwargs: dict) -> tuple[gym.Env, Policy]:
    if spec == "scripted":  # reads privileged state from the env it drives
        env = gym.make(ENV_ID, action_mode="cosmos", obs_mode="state", **env_kwargs)
        return env, robosim_cosmos.create_policy("scripted", env=env, **policy_kwargs)
    policy = robosim_cosmos.create_policy(spec, **policy_kwargs)
    policy.connect()  # a remote server announces its layout on connect
    obs_mode = "rgb" if policy.needs_images else "state"
    env = gym.make(ENV_ID, action_mode=ENV_ACTION_MODE[policy.layout], obs_mode=obs_mode, **env_kwargs)
    return env, policy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default="scripted", help="scripted | replay:PATH | diffusers:PATH | cosmos3://HOST:PORT")
    parser.add_argument("--policy-arg", action="append", default=[], metavar="KEY=VALUE",
                        help="backend keyword argument, repeatable (e.g. num_inference_steps=4)")
    parser.add_argument("--episodes", type=int, default=1)
    parser.add_argument("--steps", type=int, default=None, help="time limit per episode (default: the env's)")
    parser.add_argument("--open-loop-steps", type=int, default=8, help="rows executed per chunk")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    policy_kwargs = parse_policy_args(args.policy_arg)
    env_kwargs = {"max_episode_steps": args.steps} if args.steps else {}
    env, policy = make_env_and_policy(args.policy, policy_kwargs, env_kwargs)
    for episode in range(args.episodes):
        obs, info = env.reset(seed=args.seed + episode)
        policy.reset()
        done, steps = False, 0
        while not done:
            env.unwrapped.reanchor()  # compose the chunk on the observed end-effector pose
            chunk = policy.get_actions(obs, info["instruction"])
            for row in chunk.actions[: args.open_loop_steps]:
                obs, _reward, terminated, truncated, info = env.step(row)
                steps += 1
                done = terminated or truncated
                if done:
                    break
        print(f"episode {episode}: {info['instruction']!r} success={info['is_success']} steps={steps}")
    env.close()


if __name__ == "__main__":
    main()
