"""``robosim-cosmos score``: a run's saved chunks scored offline by a world model (forward or
inverse dynamics)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..analysis.score import SCORE_MODES, score_run
from ..policies.registry import parse_policy_args
from .common import EXIT_NONE_COMPLETED, add_policy_flags, num


def run(args: argparse.Namespace) -> int:
    doc = score_run(args.run_dir, args.policy, args.mode, parse_policy_args(args.policy_arg), out=args.out)
    overall = doc["overall"] or {}
    if args.mode == "forward_dynamics":
        text = (f"{overall.get('frames', 0)} frames: PSNR {num(overall.get('psnr'))} dB, SSIM "
                f"{num(overall.get('ssim'), 3)}, robot PSNR {num(overall.get('robot_psnr'))} dB, robot SSIM "
                f"{num(overall.get('robot_ssim'), 3)}")
    else:
        text = (f"{overall.get('steps', 0)} steps: position {num(overall.get('position_mm'))} mm, rotation "
                f"{num(overall.get('rotation_deg'))} deg, gripper agreement "
                f"{num(overall.get('gripper_agreement'), 3)}")
    print(f"{args.mode}: {text} -> {doc['path']}")
    if doc["overall"] is None:  # nothing could be compared: a script must not read this as a score
        print(f"robosim-cosmos {args.command}: no frame or step could be scored (exit {EXIT_NONE_COMPLETED})",
              file=sys.stderr)
        return EXIT_NONE_COMPLETED
    return 0


def add(sub: Any) -> None:
    sc = sub.add_parser("score", help="score a run's saved chunks with a world model offline "
                                      "(forward or inverse dynamics)")
    sc.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written with --save-chunks")
    add_policy_flags(sc, "a policy with the mode, e.g. diffusers:PATH")
    sc.add_argument("--mode", required=True, choices=list(SCORE_MODES))
    sc.add_argument("--out", default=None, help="write the JSON here (default RUN_DIR/score_<mode>.json)")
    sc.set_defaults(func=run)
