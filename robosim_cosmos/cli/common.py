"""What the commands share: one-line usage errors, the log line format, the options generated
from :class:`~robosim_cosmos.rollout.RolloutConfig`'s fields and the outcome lines."""

from __future__ import annotations

import argparse
import contextlib
import logging
import re
import sys
from collections.abc import Iterator
from dataclasses import Field, fields
from typing import Any, NoReturn

from ..rollout.config import RolloutConfig
from ..rollout.options import flag_help

SIGNED_VALUE_FLAGS = ("--shard",)
"""Flags whose value may start with ``-`` (``--shard -1/2``): argparse would take it for a flag."""


class OneLineParser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2), like the command errors main() prints; a
    value starting with ``-`` after one of :data:`SIGNED_VALUE_FLAGS` is kept as its value, so the
    option's own check says what is wrong with it."""

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        for i in range(len(argv) - 2, -1, -1):
            if argv[i] in SIGNED_VALUE_FLAGS and re.match(r"-\d", argv[i + 1]):
                argv[i: i + 2] = [f"{argv[i]}={argv[i + 1]}"]
        return super().parse_known_args(argv, namespace)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


class CommandLogFormatter(logging.Formatter):
    """``robosim-cosmos CMD: warning: ...``: the project's warnings as the CLI's own lines."""

    def __init__(self, command: str) -> None:
        super().__init__()
        self.command = command

    def format(self, record: logging.LogRecord) -> str:
        return f"robosim-cosmos {self.command}: {record.levelname.lower()}: {super().format(record)}"


@contextlib.contextmanager
def command_warnings(command: str) -> Iterator[None]:
    """While a command runs, the project's logged warnings (the server's, a client's) go to stderr
    as one line each, prefixed like its own messages."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(CommandLogFormatter(command))
    logger = logging.getLogger("robosim_cosmos")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def config_fields(*names: str) -> tuple[Field[Any], ...]:
    """RolloutConfig's fields (these, in this order, when named)."""
    by_name = {f.name: f for f in fields(RolloutConfig)}
    return tuple(by_name[n] for n in names) if names else tuple(by_name.values())


def add_config_flags(parser: argparse.ArgumentParser, config: tuple[Field[Any], ...], *,
                     keep_defaults: bool = False) -> None:
    """One flag per field that declares one. Unset flags leave the config's own default in force
    (absent from the namespace); ``keep_defaults`` puts the default there instead."""
    for f in config:
        meta = f.metadata
        if not meta.get("flag"):
            continue
        kwargs: dict[str, Any] = {"dest": f.name, "help": flag_help(f).replace("%", "%%")}
        if meta["required"]:
            kwargs["required"] = True
        else:
            kwargs["default"] = f.default if keep_defaults else argparse.SUPPRESS
        for key, name in (("arg", "type"), ("choices", "choices"), ("action", "action"), ("metavar", "metavar")):
            if meta[key] is not None:
                kwargs[name] = list(meta[key]) if key == "choices" else meta[key]
        parser.add_argument(meta["flag"], **kwargs)


def given_options(args: argparse.Namespace, config: tuple[Field[Any], ...]) -> dict[str, Any]:
    """The config values of the fields whose flags were given."""
    out: dict[str, Any] = {}
    for f in config:
        if f.metadata.get("flag") and f.name in vars(args):
            value = getattr(args, f.name)
            parse = f.metadata["parse"]
            out[f.name] = parse(value) if parse is not None else value
    return out


def add_policy_flags(parser: argparse.ArgumentParser, policy_help: str | None = None) -> None:
    """``--policy`` and ``--policy-arg``, as rollout has them (``policy_kwargs`` collected as a list)."""
    policy, kwargs = config_fields("policy", "policy_kwargs")
    parser.add_argument("--policy", required=True, help=policy_help or flag_help(policy))
    parser.add_argument("--policy-arg", action="append", metavar="KEY=VALUE", default=[], help=flag_help(kwargs))


EXIT_ERRORED = 4
"""Exit code: some episodes ended with an error (the others are recorded and summarised)."""
EXIT_NONE_COMPLETED = 5
"""Exit code: episodes ran but none completed (every one ended with an error), or nothing was scored."""


def outcome_exit(command: str, overall: dict[str, Any]) -> int:
    """0 when no episode ended with an error; else :data:`EXIT_ERRORED`, or
    :data:`EXIT_NONE_COMPLETED` when none completed; a line on stderr says which."""
    errors, completed = int(overall["errors"]), int(overall["completed"])
    if not errors:
        return 0
    code = EXIT_NONE_COMPLETED if completed == 0 else EXIT_ERRORED
    what = "every episode" if completed == 0 else f"{errors} of {errors + completed} episodes"
    print(f"robosim-cosmos {command}: {what} ended with an error (exit {code}; each line's `error` in "
          "results.jsonl says why; --retry-errors runs them again)", file=sys.stderr)
    return code


def num(value: object, digits: int = 2) -> str:
    return "n/a" if not isinstance(value, (int, float)) else f"{value:.{digits}f}"


def print_outcome(overall: dict[str, Any], path: object) -> None:
    lo, hi = overall["ci95"]
    beta_lo, beta_hi = overall["ci95_beta"]
    rate = overall["success_rate"]
    rate_text = "n/a" if rate is None else f"{rate:.3f}"
    # The rate counts completed episodes; errored ones (policy, env or connection raised) beside it.
    print(
        f"{overall['successes']}/{overall['completed']} successful (rate {rate_text}, 95% CI Wilson [{lo:.3f}, "
        f"{hi:.3f}], Beta [{beta_lo:.3f}, {beta_hi:.3f}], {overall['errors']} errors) -> {path}"
    )
