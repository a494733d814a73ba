"""Whether a set of shard folders is a whole run: which shards, suite members and episodes are missing.

A shard's identity records its split (``{index, count, stride, offset}``, :class:`.shards.Shard`),
so the shards a run was dealt into are known from any one of them; run.json records how many
episodes each was to run. :class:`Gaps` is what a set of shard folders lacks, said in words for the
command line and as the ``partial`` record a merged summary carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import RunFolderError
from .shards import Shard

SHOWN = 12
"""Episodes listed by number in a message; the rest are counted."""


def shard_of(identity: dict[str, Any], where: Path) -> Shard:
    """The split a recorded identity names; an unsharded run is shard 0 of 1."""
    doc = identity.get("shard")
    if doc is None:
        return Shard(0, 1)
    try:
        return Shard(int(doc["index"]), int(doc["count"]), int(doc.get("stride", 1)), int(doc.get("offset", 0)))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise RunFolderError(f"{where / 'run.json'} records an unreadable shard {doc!r}") from None


def episode_list(episodes: list[int]) -> str:
    """``2, 5, 8`` (at most :data:`SHOWN` numbers, then how many in all)."""
    text = ", ".join(map(str, episodes[:SHOWN]))
    return text + (f", ... ({len(episodes)} in all)" if len(episodes) > SHOWN else "")


@dataclass
class Gaps:
    """What a set of shard folders lacks.

    count: the shards the run was dealt into; given: shard index -> the folders given for it;
    episodes: run name ("" for a run, ``<EnvName>/<tier>`` for a suite member) -> the episodes it was
    to hold that no folder records; splits: each run's split (which shard an episode belongs to);
    members: suite members no folder holds; unknown: runs whose episode count no folder records.
    """

    count: int
    given: dict[int, list[Path]]
    episodes: dict[str, list[int]] = field(default_factory=dict)
    splits: dict[str, Shard] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @property
    def missing_shards(self) -> list[int]:
        return [i for i in range(self.count) if i not in self.given]

    @property
    def complete(self) -> bool:
        return not (self.missing_shards or any(self.episodes.values()) or self.members or self.unknown)

    def _of_shard(self, index: int) -> dict[str, list[int]]:
        """The missing episodes dealt to shard ``index``, by run."""
        out = {}
        for name, episodes in self.episodes.items():
            split = self.splits[name]
            mine = [e for e in episodes if (e * split.stride + split.offset) % self.count == index]
            if mine:
                out[name] = mine
        return out

    def describe(self) -> list[str]:
        """One line per gap: a shard not given, a shard folder short of episodes, a member, a count."""
        lines = [f"shard {i}/{self.count}: no folder given" for i in self.missing_shards]
        for index in sorted(self.given):
            short = self._of_shard(index)
            if short:
                where = ", ".join(map(str, self.given[index]))
                what = "; ".join(f"{name + ': ' if name else ''}{episode_list(eps)}" for name, eps in short.items())
                n = sum(map(len, short.values()))
                lines.append(f"shard {index}/{self.count} ({where}): {n} episode{'s' if n > 1 else ''} not recorded "
                             f"({what}); was it killed? running its command again finishes it")
        lines += [f"suite member {m}: in no shard folder" for m in self.members]
        lines += [f"{name or 'the run'}: no folder records how many episodes it was to run (no episodes in run.json, "
                  "no summary.json)" for name in self.unknown]
        return lines

    def partial(self, name: str | None = None) -> dict[str, Any] | None:
        """The ``partial`` record of a merged summary (None when nothing is missing): the shards not
        given, the missing episodes (of run ``name``, or by member for the suite summary), the suite
        members missing and whether the episode count was known."""
        if self.complete:
            return None
        doc: dict[str, Any] = {"missing_shards": [f"{i}/{self.count}" for i in self.missing_shards]}
        if name is not None:
            doc["missing_episodes"] = self.episodes.get(name, [])
            doc["episode_count_known"] = name not in self.unknown
            return doc
        doc["missing_episodes"] = {n: eps for n, eps in self.episodes.items() if eps}
        doc["missing_members"] = list(self.members)
        doc["episode_count_known"] = not self.unknown
        return doc
