"""``robosim-cosmos``: the parser made of every command's module, and one way to end (exit codes,
one-line errors, a closed pipe, Ctrl-C)."""

from __future__ import annotations

import argparse
import os
import sys

from .._gl import require_rendering
from .._version import __version__
from ..errors import RobosimCosmosError
from . import action_stats, decode, demo, envs, merge, record, replay, report, rollout, score, serve, train
from .common import OneLineParser, command_warnings

COMMANDS = (decode, rollout, record, replay, action_stats, train, envs, demo, merge, score, report, serve)
"""Each command's module, in the order ``--help`` lists them; each has ``add(subparsers)``."""


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(  # subparsers inherit the class: every usage error is one line
        prog="robosim-cosmos",
        description="Cosmos 3 robot policies in closed loop against a simulated DROID Franka.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add(sub)
    return parser


def _needs_rendering(args: argparse.Namespace) -> bool:
    """Commands that certainly render camera images: demo, record, replay (comparing frames), and
    rollout with video or a dataset recording."""
    if args.command in ("demo", "record"):
        return True
    if args.command == "replay":
        return not getattr(args, "no_frames", False)
    return args.command == "rollout" and (getattr(args, "video", True) or getattr(args, "record_dataset", None)
                                          is not None)


def _stdout_is_a_closed_pipe() -> bool:
    """Whether stdout is a pipe whose reader has gone (e.g. ``| head``)."""
    import select

    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # replaced by a non-file (pytest's capture)
        return False
    try:
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll() (Windows): trust the error
        return True


def _silence_stdout() -> None:
    """Point stdout at devnull so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if _needs_rendering(args):
            require_rendering()  # a MUJOCO_GL mujoco refused: one line now, not an error per episode
        with command_warnings(args.command):
            code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows up here, not as "Exception ignored" at exit
        return code
    except BrokenPipeError:
        if not _stdout_is_a_closed_pipe():
            raise  # some other pipe or socket: not ours to hide
        # The reader went away (`| head`): stop quietly, as Unix tools do (141 = 128 + SIGPIPE).
        _silence_stdout()
        return 141
    except KeyboardInterrupt:
        print(f"robosim-cosmos {args.command}: interrupted", file=sys.stderr)
        return 130
    except RobosimCosmosError as exc:  # one line, no traceback (ROBOSIM_COSMOS_DEBUG=1 shows it)
        if os.environ.get("ROBOSIM_COSMOS_DEBUG"):
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"robosim-cosmos {args.command}: error: {message}", file=sys.stderr)
        return 2
