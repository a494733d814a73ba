"""``robosim-cosmos record DIR``: closed-loop episodes of any policy (the scripted expert by
default) written as a LeRobot v3.0 dataset in a DROID schema.

It is ``rollout --record-dataset DIR`` with a recorder's defaults: no side-by-side videos (the
dataset has the cameras), the cameras rendered at the schema's image size, and the run folders it
resumes from kept beside the dataset in ``DIR.runs`` unless ``--out`` names another place.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..datasets.schemas import DEFAULT_SCHEMA, get_schema
from ..errors import ConfigError
from ..rollout.options import parse_image_size
from .common import add_config_flags, config_fields, given_options
from .rollout import add_run_choice, run_options

_SET_HERE = ("env_id", "instruction_tier", "record_dataset", "policy", "out", "video", "image_size")
"""Fields the command sets itself (from DIR, --env/--suite/--tasks/--tiers and its own defaults)."""


def runs_folder(dataset: str) -> str:
    """Where ``record DIR`` keeps its run folders by default: ``DIR.runs`` beside the dataset (so
    that the dataset folder holds the dataset only)."""
    path = Path(dataset).resolve()
    return str(path.with_name(path.name + ".runs"))


def run(args: argparse.Namespace) -> int:
    fields = tuple(f for f in config_fields() if f.name not in _SET_HERE)
    options: dict[str, Any] = given_options(args, fields)
    if "episodes" in options and "episodes_adaptive" in options:
        raise ConfigError("give --episodes N (a fixed count) or --episodes-adaptive MAX (a maximum), not both")
    schema = get_schema(options.get("dataset_schema", DEFAULT_SCHEMA))
    options.update(record_dataset=args.dataset, policy=args.policy, out=args.out or runs_folder(args.dataset),
                   video=args.video, image_size=args.image_size or schema.image_size)
    return run_options(args, options)


def add(sub: Any) -> None:
    rec = sub.add_parser(
        "record", help="record episodes of a policy as a LeRobot v3.0 dataset (DROID schemas)",
        description="Run closed-loop episodes (as rollout does: tiers, seeds, worker processes or Ray, shards, "
                    "resume) and write the completed ones as a LeRobot v3.0 dataset into DIR: with the default "
                    "cosmos3-droid schema, DIR/success/ and DIR/failure/ side by side. The same command again "
                    "resumes a killed recording and rebuilds the dataset from every episode recorded.")
    rec.add_argument("dataset", metavar="DIR", help="the dataset folder (created; must be empty or hold a "
                                                    "dataset this recording wrote)")
    add_run_choice(rec)
    rec.add_argument("--policy", default="scripted", help="policy spec (default: scripted, the privileged expert)")
    rec.add_argument("--out", default=None, metavar="RUNS",
                     help="the run folders the recording resumes from (default: DIR.runs beside the dataset)")
    rec.add_argument("--video", action="store_true",
                     help="also write the rollout's side-by-side videos into the run folders")
    rec.add_argument("--image-size", type=parse_image_size, default=None, metavar="HxW",
                     help="the size the cameras render at (default: the schema's; other sizes are resized to it)")
    add_config_flags(rec, tuple(f for f in config_fields() if f.name not in _SET_HERE))
    rec.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no per-episode lines on stderr")
    rec.set_defaults(func=run)
