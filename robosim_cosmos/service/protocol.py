"""Wire facts of the RoboLab / openpi websocket policy protocol, shared by client and server.

Frames are binary msgpack (:mod:`.codec`), no compression. On connect the server sends
one metadata map; each request map gets one reply map, or a text frame holding a
traceback followed by close code 1011.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from ..errors import ConfigError
from ..observations import CAMERAS, DEFAULT_CAMERA

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
HEALTH_PATH = "/healthz"

AuthScheme = Literal["Api-Key", "Bearer"]
AUTH_SCHEMES: tuple[AuthScheme, ...] = get_args(AuthScheme)
"""``Authorization: <scheme> <key>``: openpi sends Api-Key, the RoboLab client Bearer."""
AUTH_HEADER = "Authorization"

DEFAULT_METADATA: dict[str, Any] = {
    "layout": "joint_pos",
    "action_dim": 8,
    "chunk_size": 32,
    "embodiment": "droid",
}
"""What NVIDIA's RoboLab Cosmos3-Nano-Policy-DROID server produces when its metadata says nothing."""

URL_SCHEME = "cosmos3://"
SERVE_HINT = "is the server running? start one with `robosim-cosmos serve --policy ...`"


def auth_header(scheme: AuthScheme, api_key: str) -> dict[str, str]:
    """The handshake header carrying ``api_key``."""
    return {AUTH_HEADER: f"{scheme} {api_key}"}


def parse_auth(value: str) -> tuple[str, str]:
    """``"Bearer abc"`` -> ("bearer", "abc"): the scheme lower-cased, the token stripped."""
    scheme, _, token = value.strip().partition(" ")
    return scheme.lower(), token.strip()


def ws_url(host: str, port: int) -> str:
    """``ws://host:port`` (IPv6 hosts in brackets)."""
    return f"ws://[{host}]:{port}" if ":" in host else f"ws://{host}:{port}"


def parse_address(spec: str) -> tuple[str, int]:
    """``cosmos3://HOST:PORT`` (or ``cosmos3://[IPv6]:PORT``) -> (host, port)."""
    rest = spec[len(URL_SCHEME):].rstrip("/") if spec.startswith(URL_SCHEME) else ""
    if rest.startswith("["):
        host, _, port = rest[1:].partition("]:")
    else:
        host, _, port = rest.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(
            f"policy spec {spec!r}: expected {URL_SCHEME}HOST:PORT (e.g. {URL_SCHEME}127.0.0.1:8000)"
        )
    return host, int(port)


__all__ = [
    "ACTION_KEYS",
    "AUTH_HEADER",
    "AUTH_SCHEMES",
    "CLOSE_INTERNAL_ERROR",
    "DEFAULT_CAMERA",
    "DEFAULT_METADATA",
    "HEALTH_PATH",
    "IMAGE_KEYS",
    "OBSERVATION_PREFIX",
    "PROMPT_KEY",
    "SERVE_HINT",
    "SINGLE_IMAGE_KEY",
    "STATE_WIDTHS",
    "TIMING_KEY",
    "URL_SCHEME",
    "VIDEO_KEY",
    "AuthScheme",
    "auth_header",
    "parse_address",
    "parse_auth",
    "ws_url",
]
