"""Sharding without a cluster: ``--shard I/N`` runs a deterministic subset of a run's (or a
suite's) episodes into its own folder; :mod:`.merge` combines the shard folders into one run.

Episodes are dealt round-robin over task × tier × episode: a suite's members (task × tier, in
suite order) and episodes are flattened episode by episode, ``(e, m) → e · M + m``, and shard ``I``
(0-based) takes every index ``≡ I (mod N)``, so each shard gets every task and its share of the
seeds. A single run is the case M = 1. The shard is part of the folder's identity, so a shard
folder never resumes as another shard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
WALL_CLOCK_FIELDS: tuple[str, ...] = ("wall_seconds", "policy_latency_s")
"""Fields of a result line that measure the machine, not the episode: ignored when comparing."""


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (0-based) of ``count``; a suite member is at ``offset`` of ``stride`` members."""

    index: int
    count: int
    stride: int = 1
    offset: int = 0

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"I/N"`` with 0 <= I < N; ConfigError otherwise."""
        match = _SHARD.match(str(text))
        if not match:
            raise ConfigError(f"--shard must look like I/N (0-based shard I of N, e.g. 0/3), got {text!r}")
        index, count = int(match[1]), int(match[2])
        if count < 1 or not 0 <= index < count:
            raise ConfigError(f"--shard {text!r}: need N >= 1 and 0 <= I < N (shards are numbered 0 to N-1)")
        return cls(index, count)

    def member(self, offset: int, stride: int) -> Shard:
        """This shard as seen by suite member ``offset`` of ``stride``."""
        return Shard(self.index, self.count, stride, offset)

    def holds(self, episode: int) -> bool:
        return (episode * self.stride + self.offset) % self.count == self.index

    def episodes(self, total: int) -> list[int]:
        """The episodes of ``range(total)`` in this shard."""
        return [e for e in range(total) if self.holds(e)]

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"

    def to_json(self) -> dict[str, int]:
        return {"index": self.index, "count": self.count, "stride": self.stride, "offset": self.offset}


def comparable(line: dict[str, Any]) -> dict[str, Any]:
    """A result line without its wall-clock fields."""
    return {k: v for k, v in line.items() if k not in WALL_CLOCK_FIELDS}
