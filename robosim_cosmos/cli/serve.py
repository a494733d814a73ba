"""``robosim-cosmos serve``: a policy behind the Cosmos 3 (or openpi, RoboArena) websocket protocol."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..policies.registry import parse_policy_args
from ..service.protocol import DIALECTS
from .common import add_policy_flags


def _port(text: str) -> int:
    """argparse type for --port: an integer 0..65535 (0 picks a free port)."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be an integer 0..65535 (0 picks a free port), got {text!r}")
    return port


def _megabytes(text: str) -> float:
    """argparse type for --max-frame-mb: a positive number of MiB."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of MiB, got {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    from ..policies.registry import NEEDS_ENV, create_policy, spec_kind, spec_stats

    if spec_kind(args.policy) in NEEDS_ENV:
        raise ConfigError(
            f"the {args.policy!r} policy reads privileged simulator state and cannot be served; "
            "serve replay:PATH, diffusers:PATH or baseline:PATH"
        )
    from ..service.protocol import DEFAULT_MAX_FRAME_BYTES, resolve_api_key
    from ..service.server import PolicyServer

    # Before loading the policy (a checkpoint can take minutes): a bad key source fails now.
    api_key = resolve_api_key(args.api_key, env=args.api_key_env, file=args.api_key_file)
    max_frame_bytes = (DEFAULT_MAX_FRAME_BYTES if args.max_frame_mb is None
                       else max(1, int(args.max_frame_mb * 2**20)))
    # The server's warnings (no key on a public address, refused keys, oversized frames) are
    # one stderr line each: main() runs every command under cli.common.command_warnings.
    metadata = parse_policy_args(args.metadata, option="--metadata")  # KEY=JSON pairs, like --policy-arg
    policy = create_policy(args.policy, **parse_policy_args(args.policy_arg))
    own_stats = spec_stats(args.policy)
    if own_stats is not None:  # the wire carries normalized rows, not the statistics they need
        print(f"note: {args.policy}'s chunks are normalized with its own statistics: run the client with "
              f"--stats {own_stats}", file=sys.stderr)
    PolicyServer(policy, host=args.host, port=args.port, api_key=api_key,
                 decode_video=args.decode_video, max_frame_bytes=max_frame_bytes,
                 dialect=args.dialect, metadata=metadata).serve_forever()
    return 0


def add(sub: Any) -> None:
    srv = sub.add_parser(
        "serve", help="serve a policy over the Cosmos 3 websocket protocol",
        description="Serve a policy over the Cosmos 3 (RoboLab / openpi) websocket protocol. The API key "
                    "comes from at most one of --api-key, --api-key-env, --api-key-file; with none of "
                    "them, from $ROBOSIM_COSMOS_API_KEY when it is set and not empty; otherwise the "
                    "server asks for no key.",
    )
    add_policy_flags(srv, "replay:PATH (--policy-arg layout=joint_vel: 8-wide rows are velocities) | diffusers:PATH "
                                 "| baseline:PATH")
    srv.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1); any other without a key draws a warning")
    srv.add_argument("--port", type=_port, default=8000, help="0..65535, 0 picks a free port (default 8000)")
    keys = srv.add_mutually_exclusive_group()
    keys.add_argument("--api-key", default=None, metavar="KEY",
                      help="require this key (other users can see it in `ps`: prefer the next two)")
    keys.add_argument("--api-key-env", default=None, metavar="NAME", help="read the key from environment variable NAME")
    keys.add_argument("--api-key-file", default=None, metavar="PATH",
                      help="read the key from a file (surrounding whitespace stripped)")
    srv.add_argument("--max-frame-mb", type=_megabytes, default=None, metavar="N",
                     help="refuse request frames over N MiB, before reading them (default 16)")
    srv.add_argument("--decode-video", action="store_true", help="decode predicted videos in replies")
    srv.add_argument("--dialect", choices=list(DIALECTS), default="cosmos3",
                     help="answer as a cosmos3 (RoboLab) server (default), an openpi DROID server (metadata {} "
                          "or the --metadata entries, reply 'actions') or a RoboArena server (config metadata, "
                          "'endpoint: reset'); openpi and roboarena need a joint_pos or joint_vel policy, e.g. replay:"
                          "examples/droid_joint_velocities.json")
    srv.add_argument("--metadata", action="append", metavar="KEY=VALUE", default=[],
                     help="extra metadata entry, JSON value, repeatable; cosmos3 adds it to the policy's, openpi "
                          "announces the entries alone (as openpi servers send their policy's metadata; RoboArena "
                          "keys are refused), roboarena takes its config from them: image_resolution=[224,224], "
                          "n_external_cameras=2, needs_wrist_camera=true, needs_session_id=true")
    srv.set_defaults(func=run)
