"""The ``robosim-cosmos`` command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import NoReturn

import numpy as np

from ._version import __version__
from .analysis.score import SCORE_MODES
from .envs import SUITES, TIERS
from .errors import ConfigError, InvalidInputError, RobosimCosmosError
from .policies.registry import SPEC_FORMS, parse_policy_args
from .rollout.config import EXECUTIONS, EXECUTORS, RENDER_QUALITIES, ROBOTS_HELP
from .rollout.world_model import SCORINGS
from .service.protocol import DIALECTS


def _parse_q(text: str) -> np.ndarray:
    from .kinematics.frames import DROID_HOME, JOINT_LIMITS

    if text == "droid_home":
        return DROID_HOME.copy()
    try:
        q = np.asarray(json.loads(text), dtype=np.float64)
    except (json.JSONDecodeError, TypeError, ValueError):
        raise InvalidInputError(f"--q-init must be 'droid_home' or a JSON list of 7 numbers, got {text!r}") from None
    if q.shape != (7,) or not np.all(np.isfinite(q)):
        raise InvalidInputError(f"--q-init must hold 7 finite joint angles, got shape {q.shape}")
    outside = [
        f"joint {i + 1} is {q[i]:.4f} rad, outside its limits [{lo:.4f}, {hi:.4f}]"
        for i, (lo, hi) in enumerate(JOINT_LIMITS)
        if not lo <= q[i] <= hi
    ]
    if outside:
        raise InvalidInputError(f"--q-init is not a Franka configuration: {'; '.join(outside)}")
    return q


class _OneLineParser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2), like the command errors main() prints."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def _port(text: str) -> int:
    """argparse type for --port: an integer 0..65535 (0 picks a free port)."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be an integer 0..65535 (0 picks a free port), got {text!r}")
    return port


def _image_size(text: str) -> tuple[int, int]:
    height, sep, width = text.lower().partition("x")
    if not sep or not height.strip().isdigit() or not width.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH such as 180x320, got {text!r}")
    return int(height), int(width)


def _megabytes(text: str) -> float:
    """argparse type for --max-frame-mb: a positive number of MiB."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of MiB, got {text!r}")
    return value


def _stdout_is_a_closed_pipe() -> bool:
    """Whether stdout is a pipe whose reader has gone (e.g. ``| head``)."""
    import select

    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # replaced by a non-file (pytest's capture)
        return False
    try:
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll() (Windows): trust the error
        return True


def _silence_stdout() -> None:
    """Point stdout at devnull so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass


def _needs_rendering(args: argparse.Namespace) -> bool:
    """Commands that certainly render camera images: demo, and rollout with video."""
    if args.command == "demo":
        return True
    if args.command == "rollout":
        video = getattr(args, "video", None)
        return (not getattr(args, "no_video", False)) if video is None else bool(video)
    return False


class _CommandLogFormatter(logging.Formatter):
    def __init__(self, command: str) -> None:
        super().__init__()
        self.command = command

    def format(self, record: logging.LogRecord) -> str:
        return f"robosim-cosmos {self.command}: {record.levelname.lower()}: {super().format(record)}"


def _cmd_decode(args: argparse.Namespace) -> int:
    from .action_files import load_action_file
    from .kinematics.decode import ChunkDecoder

    actions = load_action_file(args.action_file)
    if actions.layout not in (None, "cosmos_ee_delta"):
        raise InvalidInputError(
            f"{args.action_file}: decode takes cosmos_ee_delta chunks, file says {actions.layout!r}"
        )
    q_init = _parse_q(args.q_init)
    decoder = ChunkDecoder(args.embodiment, stats=args.stats, robot=args.robot)
    result = decoder.decode(actions.chunks[0], q_init)
    text = json.dumps(result.to_json_dict())
    if args.out:
        Path(args.out).write_text(text + "\n")
    else:
        print(text)
    # The JSON is written either way (it says what went wrong); stderr says it in a line.
    if result.clipped:
        print(f"robosim-cosmos decode: warning: {result.clipped} normalized value(s) lay outside [-1, 1] "
              "and were clipped before de-normalizing", file=sys.stderr)
    converged = np.asarray(result.ik.converged, dtype=bool)
    steps, failed = converged.size, int(np.count_nonzero(~converged))
    if failed:
        worst = (f"position error up to {float(np.max(result.ik.position_error_mm)):.1f} mm, "
                 f"rotation up to {float(np.max(result.ik.rotation_error_deg)):.1f} deg")
        if failed == steps:
            print(f"robosim-cosmos decode: error: IK converged on none of the {steps} steps ({worst}); "
                  "the joint targets do not reach the poses", file=sys.stderr)
            return 3
        first = int(np.flatnonzero(~converged)[0])
        print(f"robosim-cosmos decode: warning: IK did not converge on {failed} of {steps} steps "
              f"(first: step {first}; {worst})", file=sys.stderr)
    return 0


def _print_outcome(overall: dict, path: Path) -> None:
    lo, hi = overall["ci95"]
    beta_lo, beta_hi = overall["ci95_beta"]
    rate = overall["success_rate"]
    rate_text = "n/a" if rate is None else f"{rate:.3f}"
    # The rate counts completed episodes; errored ones (policy, env or connection raised) beside it.
    print(
        f"{overall['successes']}/{overall['completed']} successful (rate {rate_text}, 95% CI Wilson [{lo:.3f}, "
        f"{hi:.3f}], Beta [{beta_lo:.3f}, {beta_hi:.3f}], {overall['errors']} errors) -> {path}"
    )


def _print_adaptive(summary: dict) -> None:
    """One line on why an adaptive run stopped (nothing for a fixed number of episodes)."""
    adaptive = summary.get("adaptive")
    if not adaptive:
        return
    lo, hi = summary["overall"]["ci95_beta"]
    why = {"ci_width": f"stopped: width <= {adaptive['ci_width']:g} over >= {adaptive['min_episodes']} completed",
           "max_episodes": f"reached the maximum of {adaptive['max_episodes']} episodes"}.get(adaptive["reason"],
                                                                                          adaptive["reason"])
    print(f"adaptive: {summary['overall']['episodes']} episodes, Beta interval width {hi - lo:.3f} ({why})")


def _cmd_rollout(args: argparse.Namespace) -> int:
    from .envs import task_of
    from .rollout import RolloutConfig, RolloutInterrupted, parse_tiers, rollout, rollout_suite
    from .rollout.suite import SUITE_SUMMARY_FILE

    tiers = parse_tiers(args.tiers)
    if args.episodes is not None and args.episodes_adaptive is not None:
        raise ConfigError("give --episodes N (a fixed count) or --episodes-adaptive MAX (a maximum), not both")
    if args.episodes_adaptive is None and (args.ci_width is not None or args.min_episodes is not None):
        raise ConfigError("--ci-width and --min-episodes only apply with --episodes-adaptive MAX")
    adaptive = {name: value for name, value in (("ci_width", args.ci_width), ("min_episodes", args.min_episodes))
                if value is not None}  # unset: RolloutConfig's defaults (RoboLab's 0.14 and 10)
    options = dict(
        episodes=1 if args.episodes is None else args.episodes, episodes_adaptive=args.episodes_adaptive, **adaptive,
        seed=args.seed, open_loop_steps=args.open_loop_steps, instruction=args.instruction,
        video=not args.no_video, robot=args.robot, num_envs=args.num_envs, execution=args.execution,
        max_steps=args.max_steps, policy_kwargs=parse_policy_args(args.policy_arg), overwrite=args.overwrite,
        retry_errors=args.retry_errors, render_quality=args.render_quality,
        world_model_scoring=args.world_model_scoring, save_chunks=args.save_chunks,
        executor=args.executor, ray_address=args.ray_address, shard=args.shard, image_size=args.image_size,
    )
    try:
        if args.env is not None and len(tiers) == 1:  # one run folder, as ever
            config = RolloutConfig(env_id=args.env, policy=args.policy, out=args.out, instruction_tier=tiers[0],
                                   **options)
            result = rollout(config, quiet=args.quiet)
            _print_outcome(result.summary["overall"], result.out / "results.jsonl")
            _print_adaptive(result.summary)
            return 0
        if args.env is not None:
            task_of(args.env)  # --env takes an env id, as with one tier
        suite = rollout_suite(args.policy, suite=args.suite, tasks=[args.env] if args.env else args.tasks,
                              tiers=tiers, out=args.out, quiet=args.quiet, **options)
        _print_outcome(suite.summary["overall"], suite.out / SUITE_SUMMARY_FILE)
        return 0
    except RolloutInterrupted as exc:  # the finished episodes are recorded and summarised
        print(f"robosim-cosmos {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code


def _cmd_envs(args: argparse.Namespace) -> int:
    from .envs import ENV_IDS, SUITES, instruction_templates, suite_env_ids
    from .envs.registry import max_episode_steps
    from .rollout.suite import env_name

    env_ids = suite_env_ids(args.suite) if args.suite else tuple(ENV_IDS)
    for env_id in env_ids:
        task = ENV_IDS[env_id]
        print(f"{env_id}  (task {task}, {max_episode_steps(task)} steps)")
        for tier, texts in instruction_templates(env_id).items():
            print(f"  {tier}:")
            for text in texts:
                print(f"    {text}")
    print()
    for name in [args.suite] if args.suite else SUITES:
        members = SUITES[name]
        print(f"suite {name}  ({len(members)} tasks; rollout --suite {name})")
        print(f"    {', '.join(env_name(e) for e in members)}")
    return 0


def _write_station_still(path: Path, seed: int = 0) -> Path:
    """PNG of the demo's station after a seeded reset: exterior 1, exterior 2 and wrist at
    180x320, the ``fast`` preset in the top row and ``faithful`` below."""
    import gymnasium as gym
    import imageio.v2 as imageio

    from .envs.scene import RENDER_QUALITIES
    from .observations import CAMERAS

    rows = []
    for quality in RENDER_QUALITIES:
        env = gym.make("robosim_cosmos/DroidCubeInBowl-v0", image_size=(180, 320), render_quality=quality)
        try:
            obs, _ = env.reset(seed=seed)
        finally:
            env.close()
        rows.append(np.concatenate([obs[camera] for camera in CAMERAS], axis=1))
    path.parent.mkdir(parents=True, exist_ok=True)
    imageio.imwrite(path, np.concatenate(rows, axis=0))
    return path


def _cmd_demo(args: argparse.Namespace) -> int:
    from .rollout import RolloutInterrupted, rollout

    if args.station_still:
        print(_write_station_still(Path(args.station_still)))
        return 0
    out = Path(args.out)
    try:  # an earlier demo whose episode errored runs it again
        result = rollout("robosim_cosmos/DroidCubeInBowl-v0", "scripted", episodes=1, seed=0, out=out,
                         retry_errors=True, render_quality=args.render_quality)
    except RolloutInterrupted as exc:
        print(f"robosim-cosmos {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    line = [r for r in result.results if r["env_id"] == "robosim_cosmos/DroidCubeInBowl-v0" and r["episode"] == 0][-1]
    if line["error"]:
        raise RobosimCosmosError(f"demo episode failed: {line['error']}")
    outcome = "success" if line["success"] else "failure"
    print(f"{line['instruction']!r}: {outcome} after {line['steps']} steps ({line['sim_seconds']:.1f} s simulated)")
    print(out / line["video"] if line["video"] else "(no video)")
    if args.media and line["video"]:
        from .rollout.media import export_media

        for path in export_media(out / line["video"], Path(args.media)):
            print(path)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .analysis.report import build_report

    print(build_report(args.run_dirs, args.out, labels=args.label or None, max_stills=args.max_stills))
    return 0


def _cmd_merge(args: argparse.Namespace) -> int:
    from .rollout.merge import merge

    report = merge(args.out, args.shards)
    for conflict in report.conflicts:
        print(f"robosim-cosmos merge: conflicting duplicate (kept the first): {conflict}", file=sys.stderr)
    members = f" in {len(report.members)} suite members" if report.members else ""
    print(f"merged {len(args.shards)} shards: {report.episodes} episodes{members}, {report.duplicates} exact "
          f"duplicates dropped, {len(report.conflicts)} conflicting -> {report.out}")
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    from .analysis.score import score_run

    doc = score_run(args.run_dir, args.policy, args.mode, parse_policy_args(args.policy_arg), out=args.out)
    overall = doc["overall"] or {}
    if args.mode == "forward_dynamics":
        text = (f"{overall.get('frames', 0)} frames: PSNR {_num(overall.get('psnr'))} dB, SSIM "
                f"{_num(overall.get('ssim'), 3)}, robot PSNR {_num(overall.get('robot_psnr'))} dB, robot SSIM "
                f"{_num(overall.get('robot_ssim'), 3)}")
    else:
        text = (f"{overall.get('steps', 0)} steps: position {_num(overall.get('position_mm'))} mm, rotation "
                f"{_num(overall.get('rotation_deg'))} deg, gripper agreement "
                f"{_num(overall.get('gripper_agreement'), 3)}")
    print(f"{args.mode}: {text} -> {doc['path']}")
    return 0


def _num(value: object, digits: int = 2) -> str:
    return "n/a" if not isinstance(value, (int, float)) else f"{value:.{digits}f}"


def _cmd_serve(args: argparse.Namespace) -> int:
    from .policies.registry import NEEDS_ENV, create_policy, spec_kind

    if spec_kind(args.policy) in NEEDS_ENV:
        raise ConfigError(
            f"the {args.policy!r} policy reads privileged simulator state and cannot be served; "
            "serve replay:PATH or diffusers:PATH"
        )
    from .service.protocol import DEFAULT_MAX_FRAME_BYTES, resolve_api_key
    from .service.server import PolicyServer

    # Before loading the policy (a checkpoint can take minutes): a bad key source fails now.
    api_key = resolve_api_key(args.api_key, env=args.api_key_env, file=args.api_key_file)
    max_frame_bytes = (DEFAULT_MAX_FRAME_BYTES if args.max_frame_mb is None
                       else max(1, int(args.max_frame_mb * 2**20)))
    # The server's warnings (no key on a public address, refused keys, oversized frames)
    # become one stderr line each, prefixed like the CLI's own messages.
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(_CommandLogFormatter(args.command))
    logger = logging.getLogger("robosim_cosmos")
    logger.addHandler(handler)
    try:
        metadata = parse_policy_args(args.metadata, option="--metadata")  # KEY=JSON pairs, like --policy-arg
        policy = create_policy(args.policy, **parse_policy_args(args.policy_arg))
        PolicyServer(policy, host=args.host, port=args.port, api_key=api_key,
                     decode_video=args.decode_video, max_frame_bytes=max_frame_bytes,
                     dialect=args.dialect, metadata=metadata).serve_forever()
    finally:
        logger.removeHandler(handler)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(  # subparsers inherit the class: every usage error is one line
        prog="robosim-cosmos",
        description="Cosmos 3 robot policies in closed loop against a simulated DROID Franka.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    dec = sub.add_parser(
        "decode", help="decode a normalized Cosmos action chunk into joint targets",
        description="Decode the first chunk of an action file into Franka joint targets (JSON). Warns on "
                    "stderr when normalized values were clipped into [-1, 1] or IK missed some steps; "
                    "exit 3 when IK converged on none (the JSON is still written).",
    )
    dec.add_argument("action_file", help="JSON: {shape,dtype,data}, {action_chunks}, or a list of rows")
    dec.add_argument("--embodiment", default="droid")
    dec.add_argument("--stats", default=None, help="shipped domain name or a stats JSON path")
    dec.add_argument("--q-init", default="droid_home", help="'droid_home' or a JSON list of 7 angles")
    dec.add_argument("--robot", default="embedded", help="embedded | menagerie | PATH to a Panda MJCF")
    dec.add_argument("--out", default=None, help="write JSON here instead of stdout")
    dec.set_defaults(func=_cmd_decode)

    ro = sub.add_parser("rollout", help="run closed-loop episodes; write results.jsonl, summary.json, videos")
    which = ro.add_mutually_exclusive_group(required=True)
    which.add_argument("--env", help="env id, e.g. robosim_cosmos/DroidCubeInBowl-v0 (see `envs`)")
    which.add_argument("--suite", help=f"every task of a suite ({' | '.join(SUITES)}), each tier into "
                                       "OUT/<EnvName>/<tier>/, summed up in OUT/suite_summary.json")
    which.add_argument("--tasks", metavar="A,B,...",
                       help="these tasks, run like a suite: env ids, names (DroidCubeInBowl) or task names "
                            "(cube_in_bowl)")
    ro.add_argument("--tiers", default="default", metavar="T,...",
                    help=f"instruction tiers: {','.join(TIERS)} or all (default: default); with --env, more than "
                         "one tier runs each into OUT/<EnvName>/<tier>/ like a suite")
    ro.add_argument("--policy", required=True, help=f"policy spec: {' | '.join(SPEC_FORMS)}")
    ro.add_argument("--policy-arg", action="append", metavar="KEY=VALUE", default=[],
                    help="keyword argument for the policy backend, repeatable "
                         "(e.g. num_inference_steps=4, device=cuda, dtype=bfloat16)")
    ro.add_argument("--episodes", type=int, default=None, help="how many episodes (default 1)")
    ro.add_argument("--episodes-adaptive", type=int, default=None, metavar="MAX",
                    help="adaptive sampling instead of --episodes: run episodes in order, at most MAX, and stop "
                         "once the 95%% Beta interval of the success rate is at most --ci-width wide over at "
                         "least --min-episodes completed episodes (in a suite, each task and tier on its own)")
    ro.add_argument("--ci-width", type=float, default=None, metavar="W",
                    help="with --episodes-adaptive: the interval width to stop at (default 0.14)")
    ro.add_argument("--min-episodes", type=int, default=None, metavar="N",
                    help="with --episodes-adaptive: completed episodes needed before stopping (default 10)")
    ro.add_argument("--image-size", type=_image_size, default=(180, 320), metavar="HxW",
                    help="camera image size (default 180x320, DROID's; 360x640 as RoboLab's Cosmos 3 client)")
    ro.add_argument("--executor", default="local", choices=list(EXECUTORS),
                    help="local: this process or --num-envs worker processes (default); ray: --num-envs Ray actors")
    ro.add_argument("--ray-address", default=None, metavar="ADDR",
                    help="with --executor ray: an existing cluster (HOST:PORT, ray://HOST:PORT or auto); "
                         "default: a local Ray instance for this run")
    ro.add_argument("--shard", default=None, metavar="I/N",
                    help="run only shard I (0-based) of N: episodes dealt round-robin over task x episode, into "
                         "this --out; combine the shard folders with `robosim-cosmos merge`")
    ro.add_argument("--seed", type=int, default=0, help="episode i uses seed SEED + i")
    ro.add_argument("--out", required=True,
                    help="output folder; re-running the same settings into it resumes, other settings are refused")
    ro.add_argument("--open-loop-steps", type=int, default=None,
                    help="rows executed per chunk (default: the policy's own, as its reference client runs it "
                         "(openpi: 8 for joint velocities, the whole chunk for joint positions), else 8)")
    ro.add_argument("--instruction", default=None, help="override the sampled instruction")
    ro.add_argument("--no-video", action="store_true", help="skip the mp4s")
    ro.add_argument("--robot", default="embedded", help=f"{ROBOTS_HELP} (a Panda MJCF)")
    ro.add_argument("--num-envs", type=int, default=1, help="worker processes (one env + policy each)")
    ro.add_argument("--execution", default="native", choices=list(EXECUTIONS),
                    help="joint_position: decode cosmos chunks to joint targets and run the env in joint mode")
    ro.add_argument("--max-steps", type=int, default=None, help="override the env's time limit (steps)")
    ro.add_argument("--overwrite", action="store_true",
                    help="delete the --out folder's run (results.jsonl, summary.json, run.json, videos/) "
                         "and start over")
    ro.add_argument("--retry-errors", action="store_true",
                    help="on resume, run the episodes that ended with an error again (same seeds) "
                         "and replace their lines")
    ro.add_argument("--render-quality", default="fast", choices=list(RENDER_QUALITIES),
                    help="fast: flat look (default); faithful: textures, shadows, anti-aliasing (slower)")
    ro.add_argument("--world-model-scoring", default="full", choices=list(SCORINGS),
                    help="score predicted videos against the simulator's frames: full (frames and robot pixels), "
                         "frames (whole frames only, cheaper), off")
    ro.add_argument("--save-chunks", action="store_true",
                    help="save each chunk's start frames, executed rows and following frames to chunks/ "
                         "(for `score`)")
    ro.add_argument("-q", "--quiet", action="store_true",
                    help="no progress bar and no per-episode lines on stderr (the summary line still prints)")
    ro.set_defaults(func=_cmd_rollout)

    envs = sub.add_parser("envs", help="list env ids, their instruction templates by tier, and the suites")
    envs.add_argument("--suite", default=None, help=f"only this suite's tasks ({' | '.join(SUITES)})")
    envs.set_defaults(func=_cmd_envs)

    demo = sub.add_parser("demo", help="one scripted DroidCubeInBowl-v0 episode with video")
    demo.add_argument("--out", default="runs/demo")
    demo.add_argument("--media", default=None, metavar="DIR",
                      help="also write demo.mp4, demo.gif and demo_still.png into DIR (the README's media/)")
    demo.add_argument("--render-quality", default="fast", choices=list(RENDER_QUALITIES),
                      help="fast: flat look (default); faithful: textures, shadows, anti-aliasing (slower)")
    demo.add_argument("--station-still", default=None, metavar="PNG",
                      help="only write a still of the station instead: the three DROID views at 180x320, "
                           "fast above faithful (the README's media/station.png)")
    demo.set_defaults(func=_cmd_demo)

    mg = sub.add_parser("merge", help="combine shard folders (rollout --shard I/N) into one run")
    mg.add_argument("out", metavar="OUT_DIR", help="the merged run folder (must not hold a run)")
    mg.add_argument("shards", metavar="SHARD_DIR", nargs="+", help="shard folders: all run folders or all suites")
    mg.set_defaults(func=_cmd_merge)

    sc = sub.add_parser("score", help="score a run's saved chunks with a world model offline "
                                      "(forward or inverse dynamics)")
    sc.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written with --save-chunks")
    sc.add_argument("--policy", required=True, help="a policy with the mode, e.g. diffusers:PATH")
    sc.add_argument("--policy-arg", action="append", metavar="KEY=VALUE", default=[],
                    help="keyword argument for the policy (repeatable)")
    sc.add_argument("--mode", required=True, choices=list(SCORE_MODES))
    sc.add_argument("--out", default=None, help="write the JSON here (default RUN_DIR/score_<mode>.json)")
    sc.set_defaults(func=_cmd_score)

    rep = sub.add_parser(
        "report", help="one self-contained HTML page comparing runs or suites side by side",
        description="Write one HTML page (no external files or addresses; plots and stills embedded) comparing "
                    "run folders (summary.json) or suite folders (suite_summary.json): success per task and tier "
                    "with 95 % intervals, world-model error by horizon step, events, trajectory metrics and a "
                    "still from each episode's video. Needs matplotlib: pip install 'robosim_cosmos[report]'.",
    )
    rep.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="a run folder or a suite folder (repeatable)")
    rep.add_argument("--out", default="report.html", help="the HTML file to write (default report.html)")
    rep.add_argument("--label", action="append", metavar="NAME", default=[],
                     help="a name for each RUN_DIR, in order (default: each run's policy spec, made unique)")
    rep.add_argument("--max-stills", type=int, default=24, metavar="N",
                     help="at most N video stills per run (default 24; 0: none)")
    rep.set_defaults(func=_cmd_report)

    srv = sub.add_parser(
        "serve", help="serve a policy over the Cosmos 3 websocket protocol",
        description="Serve a policy over the Cosmos 3 (RoboLab / openpi) websocket protocol. The API key "
                    "comes from at most one of --api-key, --api-key-env, --api-key-file; with none of "
                    "them, from $ROBOSIM_COSMOS_API_KEY when it is set and not empty; otherwise the "
                    "server asks for no key.",
    )
    srv.add_argument("--policy", required=True, help="replay:PATH | diffusers:PATH")
    srv.add_argument("--policy-arg", action="append", metavar="KEY=VALUE", default=[],
                    help="keyword argument for the policy backend, repeatable "
                         "(e.g. num_inference_steps=4, device=cuda, dtype=bfloat16)")
    srv.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1); any other without a key draws a warning")
    srv.add_argument("--port", type=_port, default=8000, help="0..65535, 0 picks a free port (default 8000)")
    keys = srv.add_mutually_exclusive_group()
    keys.add_argument("--api-key", default=None, metavar="KEY",
                      help="require this key (other users can see it in `ps`: prefer the next two)")
    keys.add_argument("--api-key-env", default=None, metavar="NAME", help="read the key from environment variable NAME")
    keys.add_argument("--api-key-file", default=None, metavar="PATH",
                      help="read the key from a file (surrounding whitespace stripped)")
    srv.add_argument("--max-frame-mb", type=_megabytes, default=None, metavar="N",
                     help="refuse request frames over N MiB, before reading them (default 16)")
    srv.add_argument("--decode-video", action="store_true", help="decode predicted videos in replies")
    srv.add_argument("--dialect", choices=list(DIALECTS), default="cosmos3",
                     help="answer as a cosmos3 (RoboLab) server (default), an openpi DROID server (metadata {}, "
                          "reply 'actions') or a RoboArena server (config metadata, 'endpoint: reset'); "
                          "openpi and roboarena need a joint_pos or joint_vel policy")
    srv.add_argument("--metadata", action="append", metavar="KEY=VALUE", default=[],
                     help="extra metadata entry, JSON value, repeatable (roboarena: image_resolution=[224,224], "
                          "n_external_cameras=2, needs_wrist_camera=true, needs_session_id=true)")
    srv.set_defaults(func=_cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if _needs_rendering(args):
            from ._gl import require_rendering

            require_rendering()  # a MUJOCO_GL mujoco refused: one line now, not an error per episode
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows up here, not as "Exception ignored" at exit
        return code
    except BrokenPipeError:
        if not _stdout_is_a_closed_pipe():
            raise  # some other pipe or socket: not ours to hide
        # The reader went away (`| head`): stop quietly, as Unix tools do (141 = 128 + SIGPIPE).
        _silence_stdout()
        return 141
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
