"""The ``robosim-cosmos`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from . import __version__


def _parse_q(text: str) -> np.ndarray:
    from .kinematics.frames import DROID_HOME

    if text == "droid_home":
        return DROID_HOME.copy()
    try:
        q = np.asarray(json.loads(text), dtype=np.float64)
    except (json.JSONDecodeError, TypeError, ValueError):
        raise ValueError(f"--q-init must be 'droid_home' or a JSON list of 7 numbers, got {text!r}") from None
    if q.shape != (7,) or not np.all(np.isfinite(q)):
        raise ValueError(f"--q-init must hold 7 finite joint angles, got shape {q.shape}")
    return q


def _cmd_decode(args: argparse.Namespace) -> int:
    from .action_files import load_action_file
    from .kinematics.decode import ChunkDecoder

    actions = load_action_file(args.action_file)
    if actions.layout not in (None, "cosmos_ee_delta"):
        raise ValueError(f"{args.action_file}: decode takes cosmos_ee_delta chunks, file says {actions.layout!r}")
    decoder = ChunkDecoder(args.embodiment, stats=args.stats, robot=args.robot)
    result = decoder.decode(actions.chunks[0], _parse_q(args.q_init))
    text = json.dumps(result.to_json_dict())
    if args.out:
        Path(args.out).write_text(text + "\n")
    else:
        print(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="robosim-cosmos",
        description="Cosmos 3 robot policies in closed loop against a simulated DROID Franka.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    dec = sub.add_parser("decode", help="decode a normalized Cosmos action chunk into joint targets")
    dec.add_argument("action_file", help="JSON: {shape,dtype,data}, {action_chunks}, or a list of rows")
    dec.add_argument("--embodiment", default="droid")
    dec.add_argument("--stats", default=None, help="shipped domain name or a stats JSON path")
    dec.add_argument("--q-init", default="droid_home", help="'droid_home' or a JSON list of 7 angles")
    dec.add_argument("--robot", default="embedded", help="embedded | menagerie | PATH to a Panda MJCF")
    dec.add_argument("--out", default=None, help="write JSON here instead of stdout")
    dec.set_defaults(func=_cmd_decode)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, ImportError) as exc:
        print(f"robosim-cosmos {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"robosim-cosmos {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
