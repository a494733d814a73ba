"""Shared pytest fixtures."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

_REPO_ROOT = Path(__file__).resolve().parent.parent
if str(_REPO_ROOT) not in sys.path:
    # tools/ (the asset generator) is never installed; appended, not prepended, so that an
    # installed robosim_cosmos (a wheel under test) still wins over the checkout's sources
    sys.path.append(str(_REPO_ROOT))
REPLAY_CHUNK = _REPO_ROOT / "examples" / "droid_chunk.json"
"""A 16 x 10 cosmos_ee_delta chunk shipped with the examples (absolute path)."""


@pytest.fixture(scope="session")
def menagerie_root() -> Path:
    """MuJoCo Menagerie root (test data, never vendored): $MENAGERIE_ROOT or ../shared/assets/menagerie.

    Skips the test when it holds no ``franka_emika_panda/panda.xml``. ``MENAGERIE_ROOT`` may also
    name the ``franka_emika_panda`` folder itself; the fixture then returns its parent.
    """
    root = Path(os.environ.get("MENAGERIE_ROOT", _REPO_ROOT.parent / "shared" / "assets" / "menagerie"))
    if (root / "panda.xml").is_file() and root.name == "franka_emika_panda":
        root = root.parent
    if not (root / "franka_emika_panda" / "panda.xml").is_file():
        pytest.skip(f"MuJoCo Menagerie Panda not found under {root}; set MENAGERIE_ROOT")
    return root


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A tiny random Cosmos3 checkpoint saved to disk, loaded like a real one (built once per run).

    Skips the test when the ``cosmos`` extra (torch, diffusers, transformers, pillow) is missing.
    """
    for module in ("torch", "diffusers", "transformers", "PIL"):
        pytest.importorskip(module)
    from robosim_cosmos.testing import save_tiny_cosmos3_pipeline

    return save_tiny_cosmos3_pipeline(tmp_path_factory.mktemp("ckpt") / "tiny-cosmos3")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (absolute)."""
    return _REPO_ROOT


@pytest.fixture(scope="session")
def replay_chunk() -> Path:
    """Absolute path of ``examples/droid_chunk.json`` (for ``replay:PATH`` policy specs)."""
    assert REPLAY_CHUNK.is_file(), REPLAY_CHUNK
    return REPLAY_CHUNK


@contextlib.contextmanager
def asyncio_ws_server(
    handler: Callable[[Any], Awaitable[None]],
    process_request: Callable[[Any, Any], Any] | None = None,
    start_timeout: float = 5.0,
) -> Iterator[int]:
    """Run a ``websockets.asyncio.server.serve`` server on 127.0.0.1, port 0, in a thread; yield its port.

    ``handler(connection)`` and ``process_request(connection, request)`` are passed to
    ``serve`` as they are (no compression, no size limit, like the policy protocol). On exit
    the server is closed, the handlers still running are cancelled and the thread is joined,
    all within a few seconds.
    """
    from websockets.asyncio.server import serve

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def main() -> None:
        async with serve(handler, "127.0.0.1", 0, process_request=process_request, compression=None,
                         max_size=None, close_timeout=1) as server:
            state["port"] = server.sockets[0].getsockname()[1]
            state["stop"] = stop = loop.create_future()
            ready.set()
            await stop
            server.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 2)
        # A handler that ignores the close (e.g. one sleeping) must not keep the thread alive.
        leftover = asyncio.all_tasks(loop) - {asyncio.current_task()}
        for task in leftover:
            task.cancel()
        if leftover:
            await asyncio.wait(leftover, timeout=2)

    def run() -> None:
        try:
            loop.run_until_complete(main())
        except BaseException as exc:
            state["error"] = exc
            ready.set()

    thread = threading.Thread(target=run, name="ws-test-server", daemon=True)
    thread.start()
    if not ready.wait(start_timeout):
        raise RuntimeError("test websocket server did not start")
    if "error" in state:
        raise state["error"]
    try:
        yield state["port"]
    finally:
        stop = state["stop"]
        loop.call_soon_threadsafe(lambda: stop.done() or stop.set_result(None))
        thread.join(5)
        if not thread.is_alive():
            loop.close()
        assert not thread.is_alive(), "test websocket server did not stop"
        if "error" in state:
            raise state["error"]


@pytest.fixture
def ws_server() -> Callable[..., contextlib.AbstractContextManager[int]]:
    """:func:`asyncio_ws_server`, as a fixture: ``with ws_server(handler) as port: ...``."""
    return asyncio_ws_server


def sigkill_cli_after_first_result(args: list[str], results: Path, timeout: float = 120.0) -> None:
    """Run ``robosim-cosmos ARGS`` in its own process group and SIGKILL the whole group once
    ``results`` holds a line: a run killed mid-way, with no chance to write its summary."""
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, "-m", "robosim_cosmos.cli", *args], cwd=root, start_new_session=True,
                            env=dict(os.environ, PYTHONPATH=str(root)), stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + timeout
        while not (results.is_file() and results.read_text().count("\n") >= 1):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def sigkill_cli() -> Callable[..., None]:
    """:func:`sigkill_cli_after_first_result`, as a fixture."""
    return sigkill_cli_after_first_result


RECORDED_TASKS = ("robosim_cosmos/DroidReach-v0", "robosim_cosmos/DroidCubeInBowl-v0")
"""The recorded dataset's tasks: the scripted reach succeeds within 22 steps, the cube in bowl fails
at the 24-step limit, so both of Cosmos 3's datasets (success/, failure/) are written."""


@pytest.fixture(scope="session")
def recorded_dataset(tmp_path_factory) -> Path:
    """``robosim-cosmos record`` of 2 tasks x 3 episodes (seeds 0..2, at most 24 steps) in the default
    cosmos3-droid schema (360x640 AV1), recorded once per test session; the folder holding
    ``success/`` and ``failure/`` (the run folders are in ``<folder>.runs``)."""
    pytest.importorskip("pyarrow")
    pytest.importorskip("av")
    from robosim_cosmos.cli.main import main

    folder = tmp_path_factory.mktemp("recorded") / "droid_sim"
    code = main(["record", str(folder), "--tasks", ",".join(RECORDED_TASKS), "--episodes", "3", "--seed", "0",
                 "--max-steps", "24", "-q"])
    assert code == 0
    return folder
