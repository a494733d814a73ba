"""What a rollout says on stderr: notes, a progress bar and one line per finished episode."""

from __future__ import annotations

import os
import sys
from typing import Any

from tqdm.auto import tqdm

from ..metrics.success import success_summary


def episode_line(line: dict[str, Any], done: int, total: int) -> str:
    """``[3/20] reach ep2 seed 2: success in 41 steps (2.1 s)`` (or ``...: ERROR: Type: message``)."""
    head = f"[{done}/{total}] {line.get('task')} ep{line['episode']} seed {line.get('seed')}: "
    if line.get("error"):
        text = " ".join(str(line["error"]).split())
        return head + "ERROR: " + (text if len(text) <= 300 else text[:297] + "...")
    outcome = "success" if line.get("success") else "failure"
    return head + f"{outcome} in {line.get('steps')} steps ({float(line.get('wall_seconds') or 0.0):.1f} s)"


class Progress:
    """stderr: notes, a tqdm bar (on a terminal, unless ``bar`` says otherwise) and one line per
    finished episode; nothing at all when ``quiet``."""

    def __init__(self, quiet: bool, bar: bool | None) -> None:
        self.quiet = quiet
        self.bar_setting = bar
        self.bar: Any = None
        self.total = 0

    def note(self, text: str) -> None:
        if self.quiet:
            return
        if self.bar is not None:
            tqdm.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def start(self, total: int, initial: int, desc: str) -> None:
        self.total = total
        if self.quiet:
            return
        try:  # a terminal that reports no width (some ptys) would get an empty bar
            sized = os.get_terminal_size(sys.stderr.fileno()).columns > 0
        except (AttributeError, OSError, ValueError):
            sized = False
        self.bar = tqdm(total=total, initial=initial, desc=desc, unit="ep", file=sys.stderr,
                        dynamic_ncols=sized, ncols=None if sized else 100, nrows=None if sized else 24,
                        disable=None if self.bar_setting is None else not self.bar_setting)

    def episode(self, line: dict[str, Any], lines: list[dict[str, Any]], done: int) -> None:
        if self.quiet or self.bar is None:
            return
        stats = success_summary(lines)
        self.bar.update(1)
        postfix = {"success": stats["successes"]}
        if stats["success_rate"] is not None:
            postfix["rate"] = f"{stats['success_rate']:.2f}"
        if stats["errors"]:
            postfix["errors"] = stats["errors"]
        self.bar.set_postfix(postfix, refresh=False)
        tqdm.write(episode_line(line, done, self.total), file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
