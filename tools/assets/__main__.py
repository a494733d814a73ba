"""``python -m tools.assets [--out DIR]``: write every generated asset (see :mod:`tools.assets`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from robosim_cosmos._resources import envs_dir
from robosim_cosmos.envs.objects import catalog

from .files import generate


def main(argv: list[str] | None = None) -> int:
    """Read the object catalog once and write every asset; prints each path and its size."""
    parser = argparse.ArgumentParser(prog="python -m tools.assets",
                                     description="Generate the faithful preset's textures and meshes and the "
                                                 "object library's meshes and MJCF.")
    parser.add_argument("--out", default=None, help="envs folder to write into (default: the package's)")
    args = parser.parse_args(argv)
    for path in generate(Path(args.out) if args.out else envs_dir(), catalog()):
        print(f"{path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
