"""No process outlives a rollout: workers die with their parent however it dies, and a
SIGTERM / SIGINT stops the run cleanly (workers killed, summary written, exit 143 / 130).

The CLI runs in its own session (``start_new_session=True``), so every process it starts
(workers, the multiprocessing resource tracker, ffmpeg) shares that session id; "nothing left"
means no live process of that session (zombies, which a non-reaping init may keep, are dead).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from robosim_cosmos.cli import main

REACH = "robosim_cosmos/DroidReach-v0"
ROOT = Path(__file__).resolve().parent.parent


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("ROBOSIM_COSMOS_DEBUG", None)
    return env


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live (not zombie) process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def _session(sid: int) -> dict[int, str]:
    """Live processes of session ``sid``: pid -> command line."""
    members = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == sid and fields[0] not in "ZX":
            members[int(entry.name)] = cmdline
    return members


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def _gone_within(sid: int, timeout: float) -> float:
    t0 = time.monotonic()
    _wait_for(lambda: not _session(sid), timeout, f"session {sid} to end: {_session(sid)}")
    return time.monotonic() - t0


def _start_rollout(out: Path, replay_chunk: Path, logs: Path) -> subprocess.Popen:
    """12 video episodes of 150 steps on 2 workers (~1.5 s each): still running when signalled."""
    cmd = [sys.executable, "-m", "robosim_cosmos.cli", "rollout", "--env", REACH, "--policy", f"replay:{replay_chunk}",
           "--episodes", "12", "--max-steps", "150", "--num-envs", "2", "--out", str(out)]
    return subprocess.Popen(cmd, cwd=ROOT, env=_env(), start_new_session=True,
                            stdout=(logs / "stdout").open("w"), stderr=(logs / "stderr").open("w"))


def _running(proc: subprocess.Popen, out: Path) -> dict[int, str]:
    """Wait until an episode has finished and both workers run more; the session's processes then."""
    results = out / "results.jsonl"

    def ready() -> bool:
        assert proc.poll() is None, (out.parent / "stderr").read_text()
        workers = sum("multiprocessing.spawn" in c for c in _session(proc.pid).values())
        return (workers == 2 and results.is_file() and results.read_text().count("\n") >= 1
                and any((out / "videos").glob("*.partial.mp4")))

    _wait_for(ready, 60, "two workers running episodes")
    return _session(proc.pid)


def test_sigkill_of_the_parent_leaves_no_process_behind(tmp_path, replay_chunk):
    out = tmp_path / "run"
    proc = _start_rollout(out, replay_chunk, tmp_path)
    try:
        members = _running(proc, out)
        assert sum("multiprocessing.spawn" in c for c in members.values()) == 2
        assert sum("multiprocessing.resource_tracker" in c for c in members.values()) == 1
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
        assert _gone_within(proc.pid, 10) < 10  # workers, resource tracker and ffmpeg all gone
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert not (out / "summary.json").exists()  # a SIGKILL leaves no time for it
    # The lock died with its holder: the folder resumes.
    lines = (out / "results.jsonl").read_text().splitlines()
    assert 1 <= len(lines) < 12
    assert main(["rollout", "--env", REACH, "--policy", f"replay:{replay_chunk}", "--episodes", str(len(lines)),
                 "--max-steps", "150", "--num-envs", "2", "--out", str(out), "--quiet"]) == 0


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_sigterm_and_sigint_stop_workers_and_write_the_summary(tmp_path, replay_chunk, signum, code, capsys):
    out = tmp_path / "run"
    proc = _start_rollout(out, replay_chunk, tmp_path)
    try:
        _running(proc, out)
        os.kill(proc.pid, signum)
        assert proc.wait(15) == code
        assert _gone_within(proc.pid, 10) < 10
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    lines = [json.loads(t) for t in (out / "results.jsonl").read_text().splitlines()]
    assert 1 <= len(lines) < 12
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] == signal.Signals(signum).name
    assert summary["overall"]["episodes"] == len(lines)
    name = signal.Signals(signum).name
    assert (tmp_path / "stderr").read_text().splitlines()[-1] == (
        f"robosim-cosmos rollout: interrupted by {name}: {len(lines)} episodes recorded in {out} and summarised "
        "in summary.json; run the same command again to resume"
    )
    assert (tmp_path / "stdout").read_text() == ""  # no final summary line: the run did not finish
    # Resumable: the same command up to the last recorded episode runs only the ones not recorded (two
    # workers can finish episode 1 before episode 0).
    count = 1 + max(int(r["episode"]) for r in lines)
    assert main(["rollout", "--env", REACH, "--policy", f"replay:{replay_chunk}", "--episodes", str(count),
                 "--max-steps", "150", "--num-envs", "2", "--out", str(out)]) == 0
    assert f"resuming {out}: {len(lines)} episodes done, {count - len(lines)} to run" in capsys.readouterr().err
    assert sorted(json.loads(t)["episode"] for t in (out / "results.jsonl").read_text().splitlines()) == list(
        range(count))


# -- the two parent-death mechanisms, one at a time -----------------------------------------------

_MIDDLE = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]])
print(child.pid, flush=True)
time.sleep(120)
"""

_CHILD = """
import os, sys, time
from robosim_cosmos.rollout.process_pool import die_with_parent
mode = sys.argv[1]
die_with_parent(os.getppid(), interval=0.1, pdeathsig=mode == "pdeathsig", watchdog=mode == "watchdog")
print("ready", flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; PR_SET_PDEATHSIG is Linux-only")
@pytest.mark.parametrize("mode", ["pdeathsig", "watchdog", "neither"])
def test_each_parent_death_mechanism_alone_kills_an_orphaned_worker(mode):
    middle = subprocess.Popen([sys.executable, "-c", _MIDDLE, _CHILD, mode], cwd=ROOT, env=_env(),
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert middle.stdout is not None
        child = int(middle.stdout.readline())
        assert middle.stdout.readline() == "ready\n"  # die_with_parent has run in the child
        os.kill(middle.pid, signal.SIGKILL)
        middle.wait(10)
        if mode == "neither":  # the control: without either mechanism the orphan lives on
            time.sleep(1.5)
            assert _alive(child)
        else:
            _wait_for(lambda: not _alive(child), 5, f"the orphan ({mode}) to die")
    finally:
        if middle.poll() is None:
            middle.kill()
        if _session(middle.pid):
            os.killpg(middle.pid, signal.SIGKILL)
