"""``robosim-cosmos replay DATASET``: a LeRobot DROID dataset's joint-position actions played in
the station, with the tracking error against the recorded state (and, for datasets this project
recorded, the outcome and frames reproduced from the seeded scene)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..rollout.config import ROBOTS_HELP
from ..rollout.dataset_replay import DEFAULT_REPLAY_ENV, replay_episode


def _num(value: object, spec: str) -> str:
    return "n/a" if not isinstance(value, (int, float)) else format(value, spec)


def run(args: argparse.Namespace) -> int:
    report = replay_episode(args.dataset, args.episode, env_id=args.env, robot=args.robot,
                            compare_frames=not args.no_frames)
    doc = report.to_json()
    if args.out:
        Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    summary = doc["summary"]
    kind = "" if report.action_kind == "joint_position" else f" (from {report.action_kind} actions)"
    print(f"episode {report.episode} in {report.env_id}{' (seeded scene)' if report.seeded else ''}: "
          f"{report.steps} steps{kind}; joint error max {_num(summary['joint_error_rad']['max'], '.2e')} rad, "
          f"flange max {_num(summary['flange_position_mm']['max'], '.3f')} mm / "
          f"{_num(summary['flange_rotation_deg']['max'], '.3f')} deg")
    if report.clipped_values:
        print(f"  {report.clipped_values} action value(s) lay outside the joint limits or [0, 1] and were held at them")
    if report.reproduced is not None:
        print(f"  outcome: recorded {'success' if report.recorded_success else 'failure'}, replayed "
              f"{'success' if report.replayed_success else 'failure'} "
              f"({'reproduced' if report.reproduced else 'NOT reproduced'})")
    for key, frames in (report.frames or {}).items():
        print(f"  {key}: {frames['frames']} frames, PSNR mean {_num(frames['psnr_mean'], '.1f')} dB, "
              f"min {_num(frames['psnr_min'], '.1f')} dB")
    return 0


def add(sub: Any) -> None:
    rp = sub.add_parser(
        "replay", help="play a LeRobot DROID dataset's joint actions in the station; report the tracking error",
        description="Replay one episode of a LeRobot v3.0 dataset in any DROID schema (cosmos3-droid, openpi-droid, "
                    "lerobot-droid; joint velocities become targets q + 0.2 v) in joint-position mode, and report "
                    "per step the joint and flange error against the recorded state. Episodes robosim-cosmos "
                    "recorded are replayed in their seeded scene: the outcome and the frames are compared too.")
    rp.add_argument("dataset", metavar="DATASET", help="a dataset root (the folder holding meta/info.json)")
    rp.add_argument("--episode", type=int, default=0, metavar="N", help="episode index (default 0)")
    rp.add_argument("--env", default=None,
                    help=f"env id for a dataset recorded elsewhere (default {DEFAULT_REPLAY_ENV}); the arm starts "
                         "at the episode's first state")
    rp.add_argument("--robot", default=None, help=f"{ROBOTS_HELP} (default: the recording's, else embedded)")
    rp.add_argument("--no-frames", action="store_true", help="do not render and compare the frames")
    rp.add_argument("--out", default=None, metavar="FILE", help="write the per-step report as JSON")
    rp.set_defaults(func=run)
