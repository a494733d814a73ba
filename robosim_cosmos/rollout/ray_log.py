"""Where Ray's own output goes while a rollout uses it: ``ray.log`` in the run folder, so stderr
and stdout carry the project's lines only.

Ray speaks in three ways: its Python loggers (the token-authentication notice on every start),
error messages it prints on the driver's stdout from a background thread (a paragraph from the
raylet when an actor's process dies) and what its native code writes to file descriptors 1 and 2
while it connects. All three are sent to a file. The run folder may not exist yet when Ray
starts (a run that cannot start leaves nothing behind), so the file begins in the temp directory
and moves into the folder once the run holds it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..records.files import RAY_LOG_FILE


class RayLog:
    """An open log file for Ray's output: installed on creation, removed by :meth:`close`."""

    def __init__(self) -> None:
        fd, name = tempfile.mkstemp(prefix="robosim-ray-log-", suffix=".log")
        self.path = Path(name)
        self._file = os.fdopen(fd, "a", encoding="utf-8")
        self._lock = threading.Lock()
        self._logger = logging.getLogger("ray")
        self._propagate = self._logger.propagate
        self._handler = logging.StreamHandler(self)
        self._handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self._logger.addHandler(self._handler)
        self._logger.propagate = False  # the application's root handlers would print it again
        self._printer: Any = None
        self._moved = self._closed = False
        worker: Any = sys.modules.get("ray._private.worker")
        if worker is not None and hasattr(worker, "print_to_stdstream"):
            # Ray's error listener looks this name up on each message; no public switch routes it
            self._printer = worker.print_to_stdstream
            worker.print_to_stdstream = self._print_to_stdstream

    def write(self, text: str) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.write(text)
                self._file.flush()

    def flush(self) -> None:
        """Nothing to do: every write is flushed (a stream for ``logging.StreamHandler``)."""

    def _print_to_stdstream(self, data: dict[str, Any], ignore_prefix: bool = False) -> None:
        head = f"{time.strftime('%Y-%m-%d %H:%M:%S')} ({data.get('pid', 'ray')})"
        self.write("".join(f"{head} {line}\n" for line in data.get("lines", [])))

    @contextlib.contextmanager
    def native_output(self) -> Iterator[None]:
        """File descriptors 1 and 2 point at the log meanwhile (Ray's native code writes there)."""
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        try:
            saved = (os.dup(1), os.dup(2))
        except OSError:  # no descriptors to redirect (a daemon): nothing of Ray's reaches a terminal
            yield
            return
        try:
            with self._lock:
                os.dup2(self._file.fileno(), 1)
                os.dup2(self._file.fileno(), 2)
            yield
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            for fd, target in zip(saved, (1, 2), strict=True):
                os.dup2(fd, target)
                os.close(fd)

    def move_into(self, folder: Path) -> None:
        """Continue in ``folder/ray.log`` (appended to: a resumed run keeps the earlier log)."""
        target = Path(folder) / RAY_LOG_FILE
        if self._moved or self._closed:
            return
        with self._lock:
            self._file.close()
            with target.open("a", encoding="utf-8") as out:
                out.write(self.path.read_text(encoding="utf-8", errors="replace"))
            self.path.unlink(missing_ok=True)
            self.path, self._file = target, target.open("a", encoding="utf-8")
            self._moved = True

    def close(self, keep: bool = False) -> Path | None:
        """Give Ray its output back. A log still in the temp directory is deleted, unless ``keep``
        and it holds something: then its path is returned. Once only: later calls do nothing."""
        if self._closed:
            return None
        self._closed = True
        self._logger.removeHandler(self._handler)
        self._logger.propagate = self._propagate
        worker: Any = sys.modules.get("ray._private.worker")
        if self._printer is not None and worker is not None:
            worker.print_to_stdstream = self._printer
            self._printer = None
        with self._lock:
            self._file.close()
        if self._moved:
            return None
        if keep and self.path.stat().st_size > 0:
            return self.path
        self.path.unlink(missing_ok=True)
        return None
