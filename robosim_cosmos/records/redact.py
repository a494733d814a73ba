"""Keep secrets (API keys, tokens, passwords) out of everything a run writes or prints.

A policy argument is secret when its name contains ``key``, ``token``, ``secret``,
``password`` or ``auth`` (case-insensitive); its value is written as ``***`` in run.json,
summary.json, results.jsonl and log lines, and wherever the raw value shows up in a text
(an error message, the command line) it is replaced by ``***`` as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

REDACTED = "***"
SECRET_WORDS: tuple[str, ...] = ("key", "token", "secret", "password", "auth")
_MIN_SCRUB_LEN = 3  # shorter values are not searched for in free text (they would mangle it)


def is_secret_key(name: str) -> bool:
    """Whether an argument of this name holds a secret (``api_key``, ``auth_token``, ``--api-key``)."""
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def redact_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """A copy with every secret value (nested dicts included) replaced by ``***``."""
    out: dict[str, Any] = {}
    for key, value in kwargs.items():
        if is_secret_key(str(key)):
            out[key] = REDACTED
        elif isinstance(value, Mapping):
            out[key] = redact_kwargs(value)
        else:
            out[key] = value
    return out


def secret_values(kwargs: Mapping[str, Any]) -> tuple[str, ...]:
    """The text of every secret value in ``kwargs`` (to scrub from free text), longest first."""
    found: list[str] = []

    def walk(mapping: Mapping[str, Any]) -> None:
        for key, value in mapping.items():
            if isinstance(value, Mapping):
                walk(value)
            elif is_secret_key(str(key)) and value is not None:
                text = str(value)
                if len(text) >= _MIN_SCRUB_LEN:
                    found.append(text)

    walk(kwargs)
    return tuple(sorted(set(found), key=len, reverse=True))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of a secret value replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def _redact_pair(pair: str) -> str:
    key, sep, _ = pair.partition("=")
    return f"{key}={REDACTED}" if sep and is_secret_key(key) else pair


def redact_argv(argv: Sequence[str], secrets: Iterable[str] = ()) -> list[str]:
    """A command line with secret values hidden: ``--policy-arg api_key=X`` (and ``--policy-arg=api_key=X``)
    becomes ``api_key=***``, ``--api-key X`` / ``--api-key=X`` (any ``--option`` named like a secret)
    ``--api-key ***``, and any known secret value elsewhere ``***``."""
    secrets = tuple(secrets)
    out: list[str] = []
    pending: str | None = None  # what the previous option makes of this argument
    for raw in argv:
        arg = str(raw)
        if pending == "pair":
            out.append(_redact_pair(arg))
        elif pending == "value":
            out.append(REDACTED)
        elif arg.startswith("--policy-arg="):
            out.append("--policy-arg=" + _redact_pair(arg[len("--policy-arg="):]))
        elif arg.startswith("--") and "=" in arg and is_secret_key(arg.partition("=")[0]):
            out.append(arg.partition("=")[0] + "=" + REDACTED)
        else:
            out.append(arg)
        if pending is not None:
            pending = None
        elif arg == "--policy-arg":
            pending = "pair"
        elif arg.startswith("--") and "=" not in arg and is_secret_key(arg):
            pending = "value"
    return [scrub(a, secrets) for a in out]
