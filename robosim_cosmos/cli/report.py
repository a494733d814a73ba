"""``robosim-cosmos report``: one self-contained HTML page comparing runs or suites side by side."""

from __future__ import annotations

import argparse
from typing import Any


def run(args: argparse.Namespace) -> int:
    from ..analysis.report import build_report

    # An unfinished run is reported with a logged warning (what is missing, how to resume), which
    # main's command_warnings turns into one stderr line.
    print(build_report(args.run_dirs, args.out, labels=args.label or None, max_stills=args.max_stills))
    return 0


def add(sub: Any) -> None:
    rep = sub.add_parser(
        "report", help="one self-contained HTML page comparing runs or suites side by side",
        description="Write one HTML page (no external files or addresses; plots and stills embedded) comparing "
                    "run folders (summary.json) or suite folders (suite_summary.json): success per task and tier "
                    "with 95 % intervals, errored episodes and their errors, world-model error by horizon step, "
                    "events, trajectory metrics and a still from each episode's video. An unfinished run or suite "
                    "(killed: no summary) is reported from the episodes it recorded, marked unfinished. Needs "
                    "matplotlib: pip install 'robosim_cosmos[report]'.",
    )
    rep.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="a run folder or a suite folder (repeatable)")
    rep.add_argument("--out", default="report.html", help="the HTML file to write (default report.html)")
    rep.add_argument("--label", action="append", metavar="NAME", default=[],
                     help="a name for each RUN_DIR, in order (default: each run's policy spec, made unique)")
    rep.add_argument("--max-stills", type=int, default=24, metavar="N",
                     help="at most N video stills per run (default 24; 0: none)")
    rep.set_defaults(func=run)
