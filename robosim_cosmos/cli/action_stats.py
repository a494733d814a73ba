"""``robosim-cosmos action-stats DATASET... --out FILE``: the Cosmos 3 10D action statistics of
recorded datasets (q01 / q99 over 16-step windows, the JSON form ``--stats PATH`` loads), and how
they compare with DROID's."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..datasets import layout
from ..datasets.action_stats import WINDOW, compare, compute_action_stats, format_comparison, stats_document
from ..datasets.reader import DatasetReader
from ..errors import DatasetError


def dataset_roots(path: str) -> list[Path]:
    """``path`` itself when it is a dataset, else the ``success/`` and ``failure/`` datasets in it."""
    root = Path(path)
    if (root / layout.INFO_PATH).is_file():
        return [root]
    splits = [root / s for s in layout.SPLITS if (root / s / layout.INFO_PATH).is_file()]
    if not splits:
        raise DatasetError(f"{root} is not a LeRobot dataset (no {layout.INFO_PATH}) and holds no success/ or "
                           "failure/ dataset")
    return splits


def run(args: argparse.Namespace) -> int:
    roots = [root for path in args.datasets for root in dataset_roots(path)]
    source = f"robosim-cosmos action-stats over {', '.join(map(str, roots))}"
    result = compute_action_stats([DatasetReader(r) for r in roots], args.window, source=source)
    table = compare(result.stats)
    doc = stats_document(result, source)
    doc["compared_with_droid_lerobot"] = table
    Path(args.out).write_text(json.dumps(doc, indent=2) + "\n")
    print(format_comparison(table))
    print(f"{result.windows} windows of {args.window} steps from {result.episodes - result.skipped_short} of "
          f"{result.episodes} episodes -> {args.out} (use it with --stats {args.out})")
    return 0


def add(sub: Any) -> None:
    st = sub.add_parser(
        "action-stats", help="Cosmos 3 action statistics (q01/q99) of recorded datasets, compared with DROID's",
        description="Encode every episode's flange trajectory as Cosmos 3 cosmos_ee delta rows [tx, ty, tz, r0..r5, "
                    "grasp] and write their q01/q99 (and min, max, mean, std) per column over every window of "
                    "--window steps, in the JSON form of stats/droid_lerobot.json (rollout, decode: --stats FILE). "
                    "Prints each column next to DROID's.")
    st.add_argument("datasets", metavar="DATASET", nargs="+",
                    help="dataset roots (or a recording folder holding success/ and failure/)")
    st.add_argument("--out", required=True, metavar="FILE", help="the stats JSON to write")
    st.add_argument("--window", type=int, default=WINDOW, metavar="STEPS",
                    help=f"steps per window (default {WINDOW}, the DROID chunk)")
    st.set_defaults(func=run)
