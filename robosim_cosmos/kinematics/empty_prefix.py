"""Attaching MJCF models with prefix ``""`` without mujoco's warning about it.

An empty attach prefix keeps the attached model's own names, which is what the rest of the
toolkit looks up; mujoco warns that such a model may not save back to XML, which this
project never does.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import mujoco


@contextmanager
def quiet_empty_prefix_warning() -> Iterator[None]:
    """Silence mujoco's empty-prefix warning inside the block; other warnings pass through."""
    previous = mujoco.get_mju_user_warning()

    def handler(message: str) -> None:
        if "empty prefix" in message:
            return
        if previous is not None:
            previous(message)
        else:
            print(f"WARNING: {message}", file=sys.stderr)

    mujoco.set_mju_user_warning(handler)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*empty prefix.*")
            yield
    finally:
        mujoco.set_mju_user_warning(previous)


def compile_spec(spec: mujoco.MjSpec) -> mujoco.MjModel:
    """``spec.compile()`` without mujoco's warning about the gripper's empty attach prefix."""
    with quiet_empty_prefix_warning():
        return spec.compile()
