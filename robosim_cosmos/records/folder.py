"""The run folder: its identity (``run.json``), its lock (``.lock``) and starting over.

A folder holds the episodes of one run identity (:meth:`RolloutConfig.identity`). Re-running
that identity resumes it; another identity is refused with the fields that differ, and the
folder is left as it was. While a rollout writes into a folder it holds an exclusive
``flock`` on ``.lock`` (pid, host and start time written inside); a second rollout into the
same folder is refused at once. The kernel drops the lock when its holder dies however it
dies, so a lock file left by a killed run is simply taken over.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from pathlib import Path
from typing import IO, Any

from ..errors import RunFolderError
from ..observations import DROID_IMAGE_SIZE
from .files import LOCK_FILE, RESULTS_FILE, RUN_DIRS, RUN_FILE, RUN_FILES
from .results import parse_results, write_atomic

_IMPLIED: dict[str, Any] = {"instruction_tier": "default", "shard": None, "image_size": list(DROID_IMAGE_SIZE),
                            "camera_rig": "sim-evals", "room": "plain", "stats": None,
                            "steps_after_success": 0}
"""Identity fields added since run.json existed, with the value every earlier run had (its
instructions were the ``default`` tier's, its cameras the sim-evals poses, its room the plain
grey one, its action stats the embodiment's own, its episodes ended on success), so those folders
still resume."""

_HINT = ("use another --out (out=) for a new run, or --overwrite (overwrite=True) to delete its results and "
         "start over")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _normalized(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` as it reads back from JSON (tuples become lists, keys strings)."""
    loaded: dict[str, Any] = json.loads(json.dumps(doc, default=str))
    return loaded


def identity_differences(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """``"seed: 0 in the folder, 3 now"`` for every identity field that differs."""
    recorded, current = _normalized(recorded), _normalized(current)
    diffs = []
    for name in [*current, *(k for k in recorded if k not in current)]:
        if recorded.get(name) != current.get(name):
            before = _show(recorded[name]) if name in recorded else "(absent)"
            after = _show(current[name]) if name in current else "(absent)"
            diffs.append(f"{name}: {before} in the folder, {after} now")
    return diffs


class RunLock:
    """An exclusive, non-blocking ``flock`` on ``folder/.lock``, held until :meth:`release`.

    The file stays in the folder (removing it would race with a run that just opened it); who
    holds the lock is written inside as JSON {pid, host, started}. Without ``fcntl`` (Windows)
    no lock is taken.
    """

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / LOCK_FILE
        self._fh: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._fh is not None

    def holder(self) -> dict[str, Any]:
        """What the holder wrote into the lock file ({} when unreadable)."""
        try:
            doc = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return doc if isinstance(doc, dict) else {}

    def acquire(self) -> None:
        """Take the lock or raise :class:`RunFolderError` naming the holder's pid."""
        if self._fh is not None:
            return
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: run without a lock
            return
        try:
            fh = self.path.open("a+")
        except OSError as exc:
            raise RunFolderError(f"cannot open {self.path}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            who = self.holder()
            pid = who.get("pid", "unknown")
            where = f" on {who['host']}" if who.get("host") else ""
            since = f", started {who['started']}" if who.get("started") else ""
            raise RunFolderError(
                f"{self.path.parent} is in use by another rollout (pid {pid}{where}{since}); wait for it to "
                "finish or stop it, or use another --out"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": _now()}) + "\n")
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            fh.close()  # closing the last descriptor drops the flock

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class RunFolder:
    """One ``--out`` folder: check it can hold this run, lock it, create it, start it over."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise RunFolderError(f"--out {self.path} is a file; name a folder (it is created when missing)")
        self.lock = RunLock(self.path)

    @property
    def run_file(self) -> Path:
        return self.path / RUN_FILE

    @property
    def results_file(self) -> Path:
        return self.path / RESULTS_FILE

    def exists(self) -> bool:
        return self.path.is_dir()

    def create(self) -> None:
        """Make the folder (and its parents); an unusable path is a :class:`RunFolderError`."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunFolderError(f"cannot create --out {self.path}: {exc.strerror or exc}") from None
        if not self.path.is_dir():
            raise RunFolderError(f"--out {self.path} is a file; name a folder (it is created when missing)")

    def recorded_identity(self) -> dict[str, Any] | None:
        """run.json's identity (fields added since filled in with the value earlier runs had);
        None when the folder has no run.json."""
        if not self.run_file.is_file():
            return None
        try:
            doc = json.loads(self.run_file.read_text())
            identity = doc["identity"]
            if not isinstance(identity, dict):
                raise TypeError
        except (OSError, ValueError, KeyError, TypeError):
            raise RunFolderError(f"{self.run_file} is unreadable or not a run.json; {_HINT}") from None
        return {**_IMPLIED, **identity}

    def holds(self, identity: dict[str, Any]) -> bool:
        """Whether the folder's run.json records ``identity`` (False without a readable one)."""
        try:
            recorded = self.recorded_identity()
        except RunFolderError:
            return False
        return recorded is not None and not identity_differences(recorded, identity)

    def check(self, identity: dict[str, Any]) -> None:
        """Refuse (:class:`RunFolderError`, nothing changed) when the folder holds another run.

        With run.json: its identity must equal ``identity``. Without one (a folder written before
        run.json existed), every line of results.jsonl must be an episode of this env with this
        run's seed for it.
        """
        recorded = self.recorded_identity()
        if recorded is not None:
            diffs = identity_differences(recorded, identity)
            if diffs:
                raise RunFolderError(
                    f"{self.path} holds another run ({'; '.join(diffs)}); run with the folder's settings to resume "
                    f"it, {_HINT}"
                )
            return
        lines, _ = parse_results(self.results_file)
        for line in lines:
            episode = line.get("episode")
            expected = identity["seed"] + episode if isinstance(episode, int) else None
            if line.get("env_id") != identity["env_id"] or line.get("seed") != expected:
                raise RunFolderError(
                    f"{self.results_file} holds episode {episode} of {line.get('env_id')} with seed "
                    f"{line.get('seed')}, this run would run {identity['env_id']} with seed {expected}; {_HINT}"
                )

    def write_identity(self, identity: dict[str, Any], command: list[str]) -> bool:
        """Write run.json unless there is one; True when written."""
        if self.run_file.is_file():
            return False
        doc = {"identity": identity, "created": _now(), "command": command}
        write_atomic(self.run_file, json.dumps(doc, indent=2, default=str) + "\n")
        return True

    def recorded_episodes(self) -> int | None:
        """How many episodes the latest rollout into this folder set out to run (run.json's
        ``episodes``); None when it does not say (an adaptive run, a folder from before it was kept)."""
        try:
            value = json.loads(self.run_file.read_text()).get("episodes")
        except (OSError, ValueError, AttributeError):
            return None
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

    def note_episodes(self, episodes: int | None) -> None:
        """Keep in run.json how many episodes this rollout sets out to run (None: adaptive), so a
        run killed before its summary still says what it was to hold (``merge``, ``report``)."""
        try:
            doc = json.loads(self.run_file.read_text())
        except (OSError, ValueError):
            return
        if isinstance(doc, dict) and doc.get("episodes", "absent") != episodes:
            doc["episodes"] = episodes
            write_atomic(self.run_file, json.dumps(doc, indent=2, default=str) + "\n")

    def clear(self) -> list[str]:
        """Delete this folder's run (results, summary, eval_info, run.json, ray.log, videos/,
        dataset_episodes/); the names removed."""
        removed = []
        for name in RUN_FILES:
            for path in (self.path / name, self.path / f"{name}.tmp"):
                if path.is_file():
                    path.unlink()
                    if path.name == name:
                        removed.append(name)
        for name in RUN_DIRS:
            if (self.path / name).is_dir():
                shutil.rmtree(self.path / name)
                removed.append(f"{name}/")
        return removed
