"""``robosim-cosmos demo``: one scripted DroidCubeInBowl-v0 episode with video (the set-up's main
job), the README's media, or a still of the station."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import gymnasium as gym
import imageio.v2 as imageio
import numpy as np

from ..envs.scene import RENDER_QUALITIES
from ..errors import RobosimCosmosError
from ..observations import CAMERAS, DROID_IMAGE_SIZE
from ..rollout import RolloutInterrupted, rollout
from ..rollout.demo_media import export_media
from .common import add_config_flags, config_fields

DEMO_ENV = "robosim_cosmos/DroidCubeInBowl-v0"
DEMO_OUT = "runs/demo"


def demo_folder(render_quality: str) -> str:
    """The demo's own folder for a look: ``runs/demo``, ``runs/demo-faithful``, so trying another
    look never meets the first one's run."""
    return DEMO_OUT if render_quality == "fast" else f"{DEMO_OUT}-{render_quality}"


def _write_station_still(path: Path, seed: int = 0) -> Path:
    """PNG of the demo's station after a seeded reset: exterior 1, exterior 2 and wrist at
    180x320, the ``fast`` preset in the top row and ``faithful`` below."""
    rows = []
    for quality in RENDER_QUALITIES:
        env = gym.make(DEMO_ENV, image_size=DROID_IMAGE_SIZE, render_quality=quality)
        try:
            obs, _ = env.reset(seed=seed)
        finally:
            env.close()
        rows.append(np.concatenate([obs[camera] for camera in CAMERAS], axis=1))
    path.parent.mkdir(parents=True, exist_ok=True)
    imageio.imwrite(path, np.concatenate(rows, axis=0))
    return path


def run(args: argparse.Namespace) -> int:
    if args.station_still:
        print(_write_station_still(Path(args.station_still)))
        return 0
    out = Path(args.out or demo_folder(args.render_quality))
    try:  # an earlier demo whose episode errored runs it again
        result = rollout(DEMO_ENV, "scripted", episodes=1, seed=0, out=out, retry_errors=True,
                         render_quality=args.render_quality, overwrite=args.overwrite)
    except RolloutInterrupted as exc:
        print(f"robosim-cosmos {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    line = [r for r in result.results if r["env_id"] == DEMO_ENV and r["episode"] == 0][-1]
    if line["error"]:
        raise RobosimCosmosError(f"demo episode failed: {line['error']}")
    outcome = "success" if line["success"] else "failure"
    print(f"{line['instruction']!r}: {outcome} after {line['steps']} steps ({line['sim_seconds']:.1f} s simulated)")
    print(out / line["video"] if line["video"] else "(no video)")
    if args.media and line["video"]:
        for path in export_media(out / line["video"], Path(args.media)):
            print(path)
    return 0


def add(sub: Any) -> None:
    demo = sub.add_parser("demo", help="one scripted DroidCubeInBowl-v0 episode with video")
    demo.add_argument("--out", default=None,
                      help=f"output folder (default {DEMO_OUT}, {DEMO_OUT}-faithful with --render-quality faithful)")
    demo.add_argument("--media", default=None, metavar="DIR",
                      help="also write demo.mp4, demo.gif and demo_still.png into DIR (the README's media/)")
    add_config_flags(demo, config_fields("render_quality", "overwrite"), keep_defaults=True)
    demo.add_argument("--station-still", default=None, metavar="PNG",
                      help="only write a still of the station instead: the three DROID views at 180x320, "
                           "fast above faithful (the README's media/station.png)")
    demo.set_defaults(func=run)
