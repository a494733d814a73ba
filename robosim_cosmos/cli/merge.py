"""``robosim-cosmos merge``: shard folders (``rollout --shard I/N``) combined into one run."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..records.merge import merge
from ..rollout.config import RolloutConfig


def run(args: argparse.Namespace) -> int:
    report = merge(args.out, args.shards, RolloutConfig.from_identity, allow_partial=args.allow_partial)
    for conflict in report.conflicts:
        print(f"robosim-cosmos merge: conflicting duplicate (kept the first): {conflict}", file=sys.stderr)
    for gap in report.missing:
        print(f"robosim-cosmos merge: warning: missing: {gap}", file=sys.stderr)
    members = f" in {len(report.members)} suite members" if report.members else ""
    partial = " (partial: the summaries name what is missing in \"partial\")" if report.partial else ""
    print(f"merged {len(args.shards)} shards: {report.episodes} episodes{members}, {report.duplicates} exact "
          f"duplicates dropped, {len(report.conflicts)} conflicting -> {report.out}{partial}")
    return 0


def add(sub: Any) -> None:
    mg = sub.add_parser(
        "merge", help="combine shard folders (rollout --shard I/N) into one run",
        description="Combine the folders of every shard 0..N-1 of one run (or suite) into one run folder, as the "
                    "unsharded run would have written it. A set missing a shard, an episode (a killed shard) or a "
                    "suite member is refused, naming what is missing, unless --allow-partial.")
    mg.add_argument("out", metavar="OUT_DIR", help="the merged run folder (must not hold a run)")
    mg.add_argument("shards", metavar="SHARD_DIR", nargs="+", help="shard folders: all run folders or all suites")
    mg.add_argument("--allow-partial", action="store_true",
                    help="merge an incomplete set anyway: summary.json (and suite_summary.json) record what is "
                         "missing under \"partial\"; the unsharded rollout into OUT_DIR runs the missing episodes")
    mg.set_defaults(func=run)
