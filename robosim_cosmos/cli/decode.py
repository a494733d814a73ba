"""``robosim-cosmos decode``: a normalized Cosmos action chunk -> Franka joint targets (JSON)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..rollout.config import ROBOTS_HELP


def _parse_q(text: str) -> np.ndarray:
    from ..kinematics.frames import DROID_HOME, JOINT_LIMITS

    if text == "droid_home":
        return DROID_HOME.copy()
    try:
        q = np.asarray(json.loads(text), dtype=np.float64)
    except (json.JSONDecodeError, TypeError, ValueError):
        raise InvalidInputError(f"--q-init must be 'droid_home' or a JSON list of 7 numbers, got {text!r}") from None
    if q.shape != (7,) or not np.all(np.isfinite(q)):
        raise InvalidInputError(f"--q-init must hold 7 finite joint angles, got shape {q.shape}")
    outside = [
        f"joint {i + 1} is {q[i]:.4f} rad, outside its limits [{lo:.4f}, {hi:.4f}]"
        for i, (lo, hi) in enumerate(JOINT_LIMITS)
        if not lo <= q[i] <= hi
    ]
    if outside:
        raise InvalidInputError(f"--q-init is not a Franka configuration: {'; '.join(outside)}")
    return q


def run(args: argparse.Namespace) -> int:
    from ..action_files import load_action_file
    from ..kinematics.decode import ChunkDecoder

    actions = load_action_file(args.action_file)
    if actions.layout not in (None, "cosmos_ee_delta"):
        raise InvalidInputError(
            f"{args.action_file}: decode takes cosmos_ee_delta chunks, file says {actions.layout!r}"
        )
    q_init = _parse_q(args.q_init)
    decoder = ChunkDecoder(args.embodiment, stats=args.stats, robot=args.robot)
    result = decoder.decode(actions.chunks[0], q_init)
    text = json.dumps(result.to_json_dict())
    if args.out:
        Path(args.out).write_text(text + "\n")
    else:
        print(text)
    # The JSON is written either way (it says what went wrong); stderr says it in a line.
    if result.clipped:
        print(f"robosim-cosmos decode: warning: {result.clipped} normalized value(s) lay outside [-1, 1] "
              "and were clipped before de-normalizing", file=sys.stderr)
    converged = np.asarray(result.ik.converged, dtype=bool)
    steps, failed = converged.size, int(np.count_nonzero(~converged))
    if failed:
        worst = (f"position error up to {float(np.max(result.ik.position_error_mm)):.1f} mm, "
                 f"rotation up to {float(np.max(result.ik.rotation_error_deg)):.1f} deg")
        if failed == steps:
            print(f"robosim-cosmos decode: error: IK converged on none of the {steps} steps ({worst}); "
                  "the joint targets do not reach the poses", file=sys.stderr)
            return 3
        first = int(np.flatnonzero(~converged)[0])
        print(f"robosim-cosmos decode: warning: IK did not converge on {failed} of {steps} steps "
              f"(first: step {first}; {worst})", file=sys.stderr)
    return 0


def add(sub: Any) -> None:
    dec = sub.add_parser(
        "decode", help="decode a normalized Cosmos action chunk into joint targets",
        description="Decode the first chunk of an action file into Franka joint targets (JSON). Warns on "
                    "stderr when normalized values were clipped into [-1, 1] or IK missed some steps; "
                    "exit 3 when IK converged on none (the JSON is still written).",
    )
    dec.add_argument("action_file", help="JSON: {shape,dtype,data}, {action_chunks}, or a list of rows")
    dec.add_argument("--embodiment", default="droid")
    dec.add_argument("--stats", default=None, help="shipped domain name or a stats JSON path")
    dec.add_argument("--q-init", default="droid_home", help="'droid_home' or a JSON list of 7 angles")
    dec.add_argument("--robot", default="embedded", help=f"{ROBOTS_HELP} to a Panda MJCF")
    dec.add_argument("--out", default=None, help="write JSON here instead of stdout")
    dec.set_defaults(func=run)
