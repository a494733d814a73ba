"""``robosim-cosmos rollout``: closed-loop episodes of one env, or of a suite of tasks × tiers.

Its flags come from :class:`~robosim_cosmos.rollout.RolloutConfig`'s fields (each with its help
and default written once there); ``--env | --suite | --tasks`` and ``--tiers`` choose the runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .. import rollout as runs  # looked up when called, so a caller may stand in for them
from ..datasets.writer import Recording
from ..envs import SUITES, TIERS, task_of
from ..errors import ConfigError
from ..records.files import RESULTS_FILE, SUITE_SUMMARY_FILE
from ..rollout import RolloutConfig, RolloutInterrupted, parse_tiers
from .common import add_config_flags, config_fields, given_options, outcome_exit, print_outcome

_CHOSEN_HERE = ("env_id", "instruction_tier")
"""Fields the command sets from --env / --suite / --tasks and --tiers rather than a flag of their own."""


def _print_adaptive(summary: dict[str, Any]) -> None:
    """One line on why an adaptive run stopped (nothing for a fixed number of episodes)."""
    adaptive = summary.get("adaptive")
    if not adaptive:
        return
    lo, hi = summary["overall"]["ci95_beta"]
    why = {"ci_width": f"stopped: width <= {adaptive['ci_width']:g} over >= {adaptive['min_episodes']} completed",
           "max_episodes": f"reached the maximum of {adaptive['max_episodes']} episodes"}.get(adaptive["reason"],
                                                                                          adaptive["reason"])
    print(f"adaptive: {summary['overall']['episodes']} episodes, Beta interval width {hi - lo:.3f} ({why})")


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The config options given on the command line (the rest keep RolloutConfig's defaults)."""
    options = given_options(args, config_fields())
    if "episodes" in options and "episodes_adaptive" in options:
        raise ConfigError("give --episodes N (a fixed count) or --episodes-adaptive MAX (a maximum), not both")
    if "episodes_adaptive" not in options and {"ci_width", "min_episodes"} & set(options):
        raise ConfigError("--ci-width and --min-episodes only apply with --episodes-adaptive MAX")
    return options


def print_dataset(recording: Recording | None) -> None:
    """One line per dataset a recording wrote."""
    if recording is None:
        return
    for split, summary in recording.datasets.items():
        what = f"{split} " if split else ""
        print(f"{what}dataset ({recording.schema}, {recording.video.codec}): {summary.episodes} episodes, "
              f"{summary.frames} frames, {summary.tasks} tasks, {summary.bytes / 1e6:.1f} MB -> {summary.root}")


def run_options(args: argparse.Namespace, options: dict[str, Any]) -> int:
    """Run what ``--env | --suite | --tasks`` and ``--tiers`` name with these config options (the
    rollout and record commands); print the outcome and the exit code."""
    tiers = parse_tiers(args.tiers)
    policy, out = options.pop("policy"), options.pop("out")
    try:
        if args.env is not None and len(tiers) == 1:  # one run folder, as ever
            config = RolloutConfig(env_id=args.env, policy=policy, out=out, instruction_tier=tiers[0], **options)
            result = runs.rollout(config, quiet=args.quiet)
            print_outcome(result.summary["overall"], result.out / RESULTS_FILE)
            _print_adaptive(result.summary)
            print_dataset(result.dataset)
            return outcome_exit(args.command, result.summary["overall"])
        if args.env is not None:
            task_of(args.env)  # --env takes an env id, as with one tier
        suite = runs.rollout_suite(policy, suite=args.suite, tasks=[args.env] if args.env else args.tasks,
                                   tiers=tiers, out=out, quiet=args.quiet, **options)
        print_outcome(suite.summary["overall"], suite.out / SUITE_SUMMARY_FILE)
        print_dataset(suite.dataset)
        return outcome_exit(args.command, suite.summary["overall"])
    except RolloutInterrupted as exc:  # the finished episodes are recorded and summarised
        print(f"robosim-cosmos {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code


def run(args: argparse.Namespace) -> int:
    return run_options(args, _options(args))


def add_run_choice(parser: argparse.ArgumentParser) -> None:
    """``--env | --suite | --tasks`` and ``--tiers``: what to run."""
    which = parser.add_mutually_exclusive_group(required=True)
    (env_field,) = config_fields("env_id")
    which.add_argument("--env", help=env_field.metadata["help"])
    which.add_argument("--suite", help=f"every task of a suite ({' | '.join(SUITES)}), each tier into "
                                       "OUT/<EnvName>/<tier>/, summed up in OUT/suite_summary.json")
    which.add_argument("--tasks", metavar="A,B,...",
                       help="these tasks, run like a suite: env ids, names (DroidCubeInBowl) or task names "
                            "(cube_in_bowl)")
    parser.add_argument("--tiers", default="default", metavar="T,...",
                        help=f"instruction tiers: {','.join(TIERS)} or all (default: default); with --env, more "
                             "than one tier runs each into OUT/<EnvName>/<tier>/ like a suite")


def add(sub: Any) -> None:
    ro = sub.add_parser("rollout", help="run closed-loop episodes; write results.jsonl, summary.json, videos")
    add_run_choice(ro)
    add_config_flags(ro, tuple(f for f in config_fields() if f.name not in _CHOSEN_HERE))
    ro.add_argument("-q", "--quiet", action="store_true",
                    help="no progress bar and no per-episode lines on stderr (the summary line still prints)")
    ro.set_defaults(func=run)
