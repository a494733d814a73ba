"""``robosim-cosmos merge``: shard folders (``rollout --shard I/N``) combined into one run."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..records.merge import merge
from ..rollout.config import RolloutConfig


def run(args: argparse.Namespace) -> int:
    report = merge(args.out, args.shards, RolloutConfig.from_identity)
    for conflict in report.conflicts:
        print(f"robosim-cosmos merge: conflicting duplicate (kept the first): {conflict}", file=sys.stderr)
    members = f" in {len(report.members)} suite members" if report.members else ""
    print(f"merged {len(args.shards)} shards: {report.episodes} episodes{members}, {report.duplicates} exact "
          f"duplicates dropped, {len(report.conflicts)} conflicting -> {report.out}")
    return 0


def add(sub: Any) -> None:
    mg = sub.add_parser("merge", help="combine shard folders (rollout --shard I/N) into one run")
    mg.add_argument("out", metavar="OUT_DIR", help="the merged run folder (must not hold a run)")
    mg.add_argument("shards", metavar="SHARD_DIR", nargs="+", help="shard folders: all run folders or all suites")
    mg.set_defaults(func=run)
