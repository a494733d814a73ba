"""``robosim-cosmos envs``: the env ids, their instruction templates by tier, and the suites."""

from __future__ import annotations

import argparse
from typing import Any

from ..envs import ENV_IDS, SUITES, instruction_templates, suite_env_ids
from ..envs.registry import max_episode_steps
from ..records.suite_summary import env_name


def run(args: argparse.Namespace) -> int:
    env_ids = suite_env_ids(args.suite) if args.suite else tuple(ENV_IDS)
    for env_id in env_ids:
        task = ENV_IDS[env_id]
        print(f"{env_id}  (task {task}, {max_episode_steps(task)} steps)")
        for tier, texts in instruction_templates(env_id).items():
            print(f"  {tier}:")
            for text in texts:
                print(f"    {text}")
    print()
    for name in [args.suite] if args.suite else SUITES:
        members = SUITES[name]
        print(f"suite {name}  ({len(members)} tasks; rollout --suite {name})")
        print(f"    {', '.join(env_name(e) for e in members)}")
    return 0


def add(sub: Any) -> None:
    envs = sub.add_parser("envs", help="list env ids, their instruction templates by tier, and the suites")
    envs.add_argument("--suite", default=None, help=f"only this suite's tasks ({' | '.join(SUITES)})")
    envs.set_defaults(func=run)
