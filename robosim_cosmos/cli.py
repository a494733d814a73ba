"""The ``robosim-cosmos`` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from ._version import __version__
from .errors import ConfigError, InvalidInputError, RobosimCosmosError
from .policies.registry import SPEC_FORMS, parse_policy_args
from .rollout.config import EXECUTIONS, ROBOTS_HELP


def _parse_q(text: str) -> np.ndarray:
    from .kinematics.frames import DROID_HOME

    if text == "droid_home":
        return DROID_HOME.copy()
    try:
        q = np.asarray(json.loads(text), dtype=np.float64)
    except (json.JSONDecodeError, TypeError, ValueError):
        raise InvalidInputError(f"--q-init must be 'droid_home' or a JSON list of 7 numbers, got {text!r}") from None
    if q.shape != (7,) or not np.all(np.isfinite(q)):
        raise InvalidInputError(f"--q-init must hold 7 finite joint angles, got shape {q.shape}")
    return q


def _cmd_decode(args: argparse.Namespace) -> int:
    from .action_files import load_action_file
    from .kinematics.decode import ChunkDecoder

    actions = load_action_file(args.action_file)
    if actions.layout not in (None, "cosmos_ee_delta"):
        raise InvalidInputError(
            f"{args.action_file}: decode takes cosmos_ee_delta chunks, file says {actions.layout!r}"
        )
    decoder = ChunkDecoder(args.embodiment, stats=args.stats, robot=args.robot)
    result = decoder.decode(actions.chunks[0], _parse_q(args.q_init))
    text = json.dumps(result.to_json_dict())
    if args.out:
        Path(args.out).write_text(text + "\n")
    else:
        print(text)
    return 0


def _cmd_rollout(args: argparse.Namespace) -> int:
    from .rollout import RolloutConfig, rollout

    config = RolloutConfig(
        env_id=args.env, policy=args.policy, episodes=args.episodes, seed=args.seed, out=args.out,
        open_loop_steps=args.open_loop_steps, instruction=args.instruction, video=not args.no_video,
        robot=args.robot, num_envs=args.num_envs, execution=args.execution, max_steps=args.max_steps,
        policy_kwargs=parse_policy_args(args.policy_arg),
    )
    result = rollout(config)
    overall = result.summary["overall"]
    lo, hi = overall["ci95"]
    rate = overall["success_rate"]
    rate_text = "n/a" if rate is None else f"{rate:.3f}"
    print(
        f"{overall['successes']}/{overall['episodes']} successful (rate {rate_text}, 95% CI [{lo:.3f}, {hi:.3f}]"
        f", {overall['errors']} errors) -> {result.out / 'results.jsonl'}"
    )
    return 0


def _cmd_envs(args: argparse.Namespace) -> int:
    from .envs import ENV_IDS
    from .envs.tasks import TASKS

    for env_id, task in ENV_IDS.items():
        cls = TASKS[task]
        print(f"{env_id}  (task {task}, {cls.max_episode_steps} steps)")
        for text in cls.instructions:
            print(f"    {text}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .rollout import rollout

    out = Path(args.out)
    result = rollout("robosim_cosmos/DroidCubeInBowl-v0", "scripted", episodes=1, seed=0, out=out)
    line = [r for r in result.results if r["env_id"] == "robosim_cosmos/DroidCubeInBowl-v0" and r["episode"] == 0][-1]
    if line["error"]:
        raise RobosimCosmosError(f"demo episode failed: {line['error']}")
    outcome = "success" if line["success"] else "failure"
    print(f"{line['instruction']!r}: {outcome} after {line['steps']} steps ({line['sim_seconds']:.1f} s simulated)")
    print(out / line["video"] if line["video"] else "(no video)")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from .policies.registry import NEEDS_ENV, create_policy, spec_kind

    if spec_kind(args.policy) in NEEDS_ENV:
        raise ConfigError(
            f"the {args.policy!r} policy reads privileged simulator state and cannot be served; "
            "serve replay:PATH or diffusers:PATH"
        )
    from .service.server import PolicyServer

    policy = create_policy(args.policy, **parse_policy_args(args.policy_arg))
    PolicyServer(policy, host=args.host, port=args.port, api_key=args.api_key,
                 decode_video=args.decode_video).serve_forever()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="robosim-cosmos",
        description="Cosmos 3 robot policies in closed loop against a simulated DROID Franka.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    dec = sub.add_parser("decode", help="decode a normalized Cosmos action chunk into joint targets")
    dec.add_argument("action_file", help="JSON: {shape,dtype,data}, {action_chunks}, or a list of rows")
    dec.add_argument("--embodiment", default="droid")
    dec.add_argument("--stats", default=None, help="shipped domain name or a stats JSON path")
    dec.add_argument("--q-init", default="droid_home", help="'droid_home' or a JSON list of 7 angles")
    dec.add_argument("--robot", default="embedded", help="embedded | menagerie | PATH to a Panda MJCF")
    dec.add_argument("--out", default=None, help="write JSON here instead of stdout")
    dec.set_defaults(func=_cmd_decode)

    ro = sub.add_parser("rollout", help="run closed-loop episodes; write results.jsonl, summary.json, videos")
    ro.add_argument("--env", required=True, help="env id, e.g. robosim_cosmos/DroidCubeInBowl-v0 (see `envs`)")
    ro.add_argument("--policy", required=True, help=f"policy spec: {' | '.join(SPEC_FORMS)}")
    ro.add_argument("--policy-arg", action="append", metavar="KEY=VALUE", default=[],
                    help="keyword argument for the policy backend, repeatable "
                         "(e.g. num_inference_steps=4, device=cuda, dtype=bfloat16)")
    ro.add_argument("--episodes", type=int, default=1)
    ro.add_argument("--seed", type=int, default=0, help="episode i uses seed SEED + i")
    ro.add_argument("--out", required=True, help="output folder (re-running into it resumes)")
    ro.add_argument("--open-loop-steps", type=int, default=8, help="rows executed per chunk")
    ro.add_argument("--instruction", default=None, help="override the sampled instruction")
    ro.add_argument("--no-video", action="store_true", help="skip the mp4s")
    ro.add_argument("--robot", default="embedded", help=f"{ROBOTS_HELP} (a Panda MJCF)")
    ro.add_argument("--num-envs", type=int, default=1, help="worker processes (one env + policy each)")
    ro.add_argument("--execution", default="native", choices=list(EXECUTIONS),
                    help="joint_position: decode cosmos chunks to joint targets and run the env in joint mode")
    ro.add_argument("--max-steps", type=int, default=None, help="override the env's time limit (steps)")
    ro.set_defaults(func=_cmd_rollout)

    envs = sub.add_parser("envs", help="list env ids and their instructions")
    envs.set_defaults(func=_cmd_envs)

    demo = sub.add_parser("demo", help="one scripted DroidCubeInBowl-v0 episode with video")
    demo.add_argument("--out", default="runs/demo")
    demo.set_defaults(func=_cmd_demo)

    srv = sub.add_parser("serve", help="serve a policy over the Cosmos 3 websocket protocol")
    srv.add_argument("--policy", required=True, help="replay:PATH | diffusers:PATH")
    srv.add_argument("--policy-arg", action="append", metavar="KEY=VALUE", default=[],
                    help="keyword argument for the policy backend, repeatable "
                         "(e.g. num_inference_steps=4, device=cuda, dtype=bfloat16)")
    srv.add_argument("--host", default="127.0.0.1")
    srv.add_argument("--port", type=int, default=8000)
    srv.add_argument("--api-key", default=None)
    srv.add_argument("--decode-video", action="store_true", help="decode predicted videos in replies")
    srv.set_defaults(func=_cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"robosim-cosmos {args.command}: interrupted", file=sys.stderr)
        return 130
    except RobosimCosmosError as exc:  # one line, no traceback (ROBOSIM_COSMOS_DEBUG=1 shows it)
        if os.environ.get("ROBOSIM_COSMOS_DEBUG"):
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"robosim-cosmos {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
