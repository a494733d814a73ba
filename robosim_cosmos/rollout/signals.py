"""SIGINT and SIGTERM during a rollout: :class:`RolloutInterrupted` while it works, noted only
while it cleans up (so the summary of what finished still gets written)."""

from __future__ import annotations

import contextlib
import signal
import threading
import types
from typing import Any


class RolloutInterrupted(KeyboardInterrupt):
    """A rollout stopped by SIGINT or SIGTERM. The episodes that finished are recorded and
    summary.json is written (when the run had started); ``exit_code`` is 128 + the signal
    number (130 for SIGINT, 143 for SIGTERM), ``summary`` the summary written or None."""

    def __init__(self, signum: int, message: str | None = None, summary: dict[str, Any] | None = None) -> None:
        self.signum = int(signum)
        self.signal_name = signal.Signals(self.signum).name
        self.exit_code = 128 + self.signum
        self.summary = summary
        super().__init__(message or f"interrupted by {self.signal_name}")


class Signals:
    """SIGINT and SIGTERM raise :class:`RolloutInterrupted` in the main thread while the run
    works; once it is cleaning up (``cleaning = True``) they are only noted, so the summary
    still gets written. Previous handlers come back on exit. Off the main thread: no-op."""

    _SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: int | None = None
        self.cleaning = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: types.FrameType | None) -> None:
        if self.received is None:
            self.received = signum
        if not self.cleaning:
            raise RolloutInterrupted(signum)

    def __enter__(self) -> Signals:
        if threading.current_thread() is threading.main_thread():
            for sig in self._SIGNALS:
                with contextlib.suppress(ValueError, OSError):  # an embedding that forbids handlers
                    self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, signal.SIG_DFL if previous is None else previous)
