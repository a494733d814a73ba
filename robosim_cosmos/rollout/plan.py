"""What a run has left to do: the episodes its folder records, the ones to run (again) and the
note a resumed run prints."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..records.files import SUMMARY_FILE
from ..records.folder import RunFolder
from ..records.results import read_results
from ..records.shards import Shard
from .adaptive import episode_feed, satisfied
from .config import RolloutConfig


@dataclass
class Plan:
    lines: list[dict[str, Any]]
    todo: list[int]
    done: set[int]
    errored: set[int]
    new: list[int]
    rule_met: bool = False

    @classmethod
    def make(cls, folder: RunFolder, cfg: RolloutConfig) -> Plan:
        """What to run: for an adaptive run ``new`` is every episode up to the maximum that is
        not recorded (handed out lazily by :meth:`feed`), or none when the rule already holds."""
        lines = [] if cfg.overwrite or not folder.exists() else read_results(folder.results_file)
        mine = [r for r in lines if r["env_id"] == cfg.env_id]
        done = {int(r["episode"]) for r in mine}
        errored = {int(r["episode"]) for r in mine if r.get("error")}
        count = cfg.episodes if cfg.episodes_adaptive is None else cfg.episodes_adaptive
        rule_met = satisfied(cfg, mine)
        mine_to_run = range(count) if not isinstance(cfg.shard, Shard) else cfg.shard.episodes(count)
        new = [] if rule_met else [i for i in mine_to_run if i not in done]
        todo = sorted(set(new) | (errored if cfg.retry_errors else set()))
        return cls(lines, todo, done, errored, new, rule_met)

    def feed(self, cfg: RolloutConfig) -> Iterable[int]:
        """The episodes in the order they are handed out. Adaptive: errored ones to run again
        first, then new ones in order while the rule does not hold over ``lines`` (which the
        runner extends as results come in)."""
        if cfg.episodes_adaptive is None:
            return self.todo
        return episode_feed(cfg, sorted(self.errored) if cfg.retry_errors else [], self.new, self.lines)

    @property
    def total(self) -> int:
        return len(self.done | set(self.new))

    def describe(self, cfg: RolloutConfig, path: Path) -> str | None:
        if isinstance(cfg.shard, Shard) and not self.done and not self.new:
            n = cfg.episodes
            return (f"nothing to run: shard {cfg.shard.label} gets none of the {n} episode{'s' if n > 1 else ''} "
                    f"of {cfg.env_id} ({cfg.instruction_tier} tier; episodes are dealt round-robin over task x tier "
                    f"x episode); {path} records the empty shard, so `merge` takes it with the others")
        if not self.done:
            return None
        text = f"resuming {path}: {len(self.done)} episodes done, "
        if cfg.retry_errors:
            return text + f"{len(self.todo)} to run ({len(self.errored)} errored to run again, {len(self.new)} new)"
        if cfg.episodes_adaptive is None:
            text += f"{len(self.todo)} to run"
        elif self.rule_met:
            text += (f"{len(self.todo)} to run (the adaptive rule holds: a 95% Beta interval at most "
                     f"{cfg.ci_width:g} wide over at least {cfg.min_episodes} completed episodes)")
        else:
            text += f"up to {len(self.todo)} to run (adaptive)"
        if self.errored:
            n = len(self.errored)
            text += (f"; kept {n} errored episode{'s' if n > 1 else ''} (a line with an error; "
                     "--retry-errors runs them again)")
        return text


def previous_policy(folder: RunFolder, spec: str) -> dict[str, Any]:
    """The class/repr an earlier run of this folder recorded (when nothing is built now)."""
    try:
        previous = json.loads((folder.path / SUMMARY_FILE).read_text()).get("policy")
    except (OSError, ValueError, AttributeError):
        return {}
    if not isinstance(previous, dict) or previous.get("spec") != spec:
        return {}
    return {k: previous[k] for k in ("class", "repr") if k in previous}
