"""A worker thread that handles queued items in order, so the rollout loop never waits on work
that can overlap with physics and rendering (video encoding, frame scoring)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any


class Background:
    """Runs ``handle(item)`` for every :meth:`put` item on one daemon thread, in order.

    The first exception stops the handling (later items are dropped) and is raised again by the
    next :meth:`put` or by :meth:`join`; ``maxsize`` bounds the queue so memory stays bounded
    when the thread falls behind.
    """

    def __init__(self, handle: Callable[[Any], None], name: str, maxsize: int) -> None:
        self._handle = handle
        self.error: BaseException | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=maxsize)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self.error is not None:
                continue
            try:
                self._handle(item)
            except BaseException as exc:  # noqa: BLE001 - raised again by put() or join()
                self.error = exc

    def put(self, item: Any) -> None:
        """Queue ``item`` (not None); raises what an earlier item raised."""
        if self.error is not None:
            raise self.error
        self._queue.put(item)

    def stop(self) -> None:
        """Wait until every queued item is handled; the thread ends."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def join(self) -> None:
        """:meth:`stop`, then raise what an item raised, if anything."""
        self.stop()
        if self.error is not None:
            raise self.error
