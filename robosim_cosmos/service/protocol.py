"""Wire facts of the RoboLab / openpi websocket policy protocol, shared by client and server.

Frames are binary msgpack (:mod:`.codec`), no compression. On connect the server sends
one metadata map; each request map gets one reply map, or a text frame holding a
traceback followed by close code 1011.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any, Literal, get_args

from ..errors import ConfigError, ResourceNotFoundError
from ..observations import CAMERAS, DEFAULT_CAMERA
from ..policy_api import Layout

OBSERVATION_PREFIX = "observation/"
"""Request keys are the DROID observation keys with this prefix."""
SINGLE_IMAGE_KEY = OBSERVATION_PREFIX + "image"
"""A single image some clients send instead of the three cameras; it stands in for DEFAULT_CAMERA."""
IMAGE_KEYS: tuple[str, ...] = tuple(OBSERVATION_PREFIX + k for k in CAMERAS)
STATE_WIDTHS: dict[str, int] = {"joint_position": 7, "gripper_position": 1}
"""State entries a request carries (DROID names, without the prefix) and their widths."""
PROMPT_KEY = "prompt"

ACTION_KEYS: tuple[str, ...] = ("action", "actions")
"""Reply keys holding the action chunk: RoboLab says ``action``, openpi ``actions``."""
VIDEO_KEY = "video"
TIMING_KEY = "server_timing"

CLOSE_INTERNAL_ERROR = 1011
CLOSE_MESSAGE_TOO_BIG = 1009
"""Close code a peer sends when a frame is larger than it accepts (RFC 6455)."""
HEALTH_PATH = "/healthz"

DEFAULT_MAX_FRAME_BYTES = 16 * 2**20
"""Largest request frame a PolicyServer accepts by default (16 MiB).

The largest legitimate request, three 360x640x3 uint8 camera images plus state and a
prompt, is about 2.1 MB; 16 MiB leaves room for bigger cameras while a peer cannot make
the server buffer more. The limit is checked against the length in the frame header, so
an oversized frame is refused (close code 1009) before its payload is read.
"""

AuthScheme = Literal["Api-Key", "Bearer"]
AUTH_SCHEMES: tuple[AuthScheme, ...] = get_args(AuthScheme)
"""``Authorization: <scheme> <key>``: openpi sends Api-Key, the RoboLab client Bearer."""
AUTH_HEADER = "Authorization"
API_KEY_ENV = "ROBOSIM_COSMOS_API_KEY"
"""Environment variable holding the API key when no key option is given."""

DEFAULT_METADATA: dict[str, Any] = {
    "layout": "joint_pos",
    "action_dim": 8,
    "chunk_size": 32,
    "embodiment": "droid",
}
"""What NVIDIA's RoboLab Cosmos3-Nano-Policy-DROID server produces when its metadata says nothing."""

URL_SCHEME = "cosmos3://"
OPENPI_URL_SCHEME = "openpi://"
"""Spec prefix of an openpi / RoboArena DROID policy server (:mod:`.openpi_client`)."""
SERVE_HINT = "is the server running? start one with `robosim-cosmos serve --policy ...`"

Dialect = Literal["cosmos3", "openpi", "roboarena"]
DIALECTS: tuple[Dialect, ...] = get_args(Dialect)
"""How a server answers: ``cosmos3`` (the RoboLab server: reply ``action``, metadata naming the
layout), ``openpi`` (metadata ``{}``, reply ``actions``), ``roboarena`` (a config dict as metadata,
reply ``actions``, ``endpoint: "reset"`` requests)."""

ActionSpace = Literal["joint_velocity", "joint_position"]
ACTION_SPACES: tuple[ActionSpace, ...] = get_args(ActionSpace)
ACTION_SPACE_LAYOUT: dict[ActionSpace, Layout] = {"joint_velocity": "joint_vel", "joint_position": "joint_pos"}
"""The policy_api layout of each DROID action space's rows."""

ROBOARENA_DEFAULTS: dict[str, Any] = {
    "image_resolution": None,
    "needs_wrist_camera": True,
    "n_external_cameras": 1,
    "needs_stereo_camera": False,
    "needs_session_id": False,
    "action_space": "joint_position",
}
"""A RoboArena server's metadata keys and what the RoboArena client assumes when one is missing.
``image_resolution`` is ``[H, W]`` (images resized to it, aspect ratio not kept) or None (sent as
captured)."""
ENDPOINT_KEY = "endpoint"
"""RoboArena requests say ``"infer"`` or ``"reset"`` here; openpi servers never see it."""
SESSION_KEY = "session_id"
RESET_REPLY = "reset successful"
"""What RoboArena servers answer a reset with: a text frame (the reference client ignores it)."""


def auth_header(scheme: AuthScheme, api_key: str) -> dict[str, str]:
    """The handshake header carrying ``api_key``."""
    return {AUTH_HEADER: f"{scheme} {api_key}"}


def parse_auth(value: str) -> tuple[str, str]:
    """``"Bearer abc"`` -> ("bearer", "abc"): the scheme lower-cased, the token stripped."""
    scheme, _, token = value.strip().partition(" ")
    return scheme.lower(), token.strip()


def _checked_key(key: str, source: str) -> str:
    key = key.strip()
    if not key:
        raise ConfigError(f"the API key {source} is empty")
    if not (key.isascii() and key.isprintable()):
        raise ConfigError(f"the API key {source} must be printable ASCII on one line")
    return key


def resolve_api_key(
    value: str | None = None,
    env: str | None = None,
    file: str | os.PathLike[str] | None = None,
) -> str | None:
    """The API key from at most one source, or from ``$ROBOSIM_COSMOS_API_KEY``, or None.

    ``value`` is the key itself, ``env`` the name of an environment variable holding it,
    ``file`` a file holding it. Naming more than one is a ConfigError. A named variable
    that is unset or empty, a missing file (ResourceNotFoundError) or an empty one is an
    error. With none named, the key is ``$ROBOSIM_COSMOS_API_KEY`` if that is set and not
    empty, else None (no authentication). Keys are stripped of surrounding whitespace and
    must be printable ASCII.
    """
    named = [name for name, given in (("a key", value), ("env", env), ("file", file)) if given is not None]
    if len(named) > 1:
        raise ConfigError(f"give the API key one way only, got {' and '.join(named)}")
    if value is not None:
        return _checked_key(value, "given")
    if env is not None:
        if not env or env not in os.environ:
            raise ConfigError(f"environment variable {env!r} (named for the API key) is not set")
        return _checked_key(os.environ[env], f"in ${env}")
    if file is not None:
        path = Path(file)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ResourceNotFoundError(f"API key file {str(path)!r} not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the API key file {str(path)!r}: {exc}") from None
        return _checked_key(text, f"in file {str(path)!r}")
    default = os.environ.get(API_KEY_ENV, "")
    return _checked_key(default, f"in ${API_KEY_ENV}") if default.strip() else None


def is_loopback_host(host: str) -> bool:
    """True when ``host`` only reaches this machine: 127.0.0.0/8, ::1 or ``localhost``.

    Anything else (0.0.0.0, ::, "", a LAN address, another host name) counts as reachable
    from outside.
    """
    name = host.strip().strip("[]").lower()
    if name in ("localhost", "localhost.") or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def ws_url(host: str, port: int) -> str:
    """``ws://host:port`` (IPv6 hosts in brackets)."""
    return f"ws://[{host}]:{port}" if ":" in host else f"ws://{host}:{port}"


def parse_address(spec: str, scheme: str = URL_SCHEME) -> tuple[str, int]:
    """``cosmos3://HOST:PORT`` (or ``cosmos3://[IPv6]:PORT``; ``scheme`` names another prefix,
    e.g. ``openpi://``) -> (host, port)."""
    rest = spec[len(scheme):].rstrip("/") if spec.startswith(scheme) else ""
    if rest.startswith("["):
        host, _, port = rest[1:].partition("]:")
    else:
        host, _, port = rest.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(
            f"policy spec {spec!r}: expected {scheme}HOST:PORT (e.g. {scheme}127.0.0.1:8000)"
        )
    return host, int(port)


__all__ = [
    "ACTION_KEYS",
    "ACTION_SPACES",
    "ACTION_SPACE_LAYOUT",
    "API_KEY_ENV",
    "AUTH_HEADER",
    "AUTH_SCHEMES",
    "CLOSE_INTERNAL_ERROR",
    "CLOSE_MESSAGE_TOO_BIG",
    "DEFAULT_CAMERA",
    "DEFAULT_MAX_FRAME_BYTES",
    "DEFAULT_METADATA",
    "DIALECTS",
    "ENDPOINT_KEY",
    "HEALTH_PATH",
    "IMAGE_KEYS",
    "OBSERVATION_PREFIX",
    "OPENPI_URL_SCHEME",
    "PROMPT_KEY",
    "RESET_REPLY",
    "ROBOARENA_DEFAULTS",
    "SERVE_HINT",
    "SESSION_KEY",
    "SINGLE_IMAGE_KEY",
    "STATE_WIDTHS",
    "TIMING_KEY",
    "URL_SCHEME",
    "VIDEO_KEY",
    "ActionSpace",
    "AuthScheme",
    "Dialect",
    "auth_header",
    "is_loopback_host",
    "parse_address",
    "parse_auth",
    "resolve_api_key",
    "ws_url",
]
