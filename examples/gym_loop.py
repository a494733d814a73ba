"""A minimal closed loop: a gymnasium env in cosmos mode driven by the scripted policy.

    python examples/gym_loop.py [--episodes 1] [--steps 300] [--open-loop-steps 8]
"""

from __future__ import annotations

import argparse

import gymnasium as gym

import robosim_cosmos  # registers the env ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1)
    parser.add_argument("--steps", type=int, default=None, help="time limit per episode (default: the env's)")
    parser.add_argument("--open-loop-steps", type=int, default=8, help="rows executed per chunk")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    kwargs = {"max_episode_steps": args.steps} if args.steps else {}
    env = gym.make("robosim_cosmos/DroidCubeInBowl-v0", action_mode="cosmos", obs_mode="state", **kwargs)
    policy = robosim_cosmos.create_policy("scripted", env=env)
    for episode in range(args.episodes):
        obs, info = env.reset(seed=args.seed + episode)
        policy.reset()
        done, steps = False, 0
        while not done:
            env.unwrapped.reanchor()  # compose the chunk on the observed end-effector pose
            chunk = policy.get_actions(obs, info["instruction"])
            for row in chunk.actions[: args.open_loop_steps]:
                obs, reward, terminated, truncated, info = env.step(row)
                steps += 1
                done = terminated or truncated
                if done:
                    break
        print(f"episode {episode}: {info['instruction']!r} success={info['is_success']} steps={steps}")
    env.close()


if __name__ == "__main__":
    main()
