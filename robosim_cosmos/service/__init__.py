"""Policies over the network: the RoboLab / openpi websocket protocol, its msgpack-numpy codec,
a server for any Policy, and the clients that are themselves Policies (``cosmos3://`` for Cosmos 3
servers, ``openpi://`` for openpi and RoboArena DROID servers)."""

from .client import Cosmos3ServicePolicy
from .codec import packb, unpackb
from .connection import ConnectionOptions
from .openpi_client import OpenpiPolicy
from .request import observation_to_request, request_to_observation
from .server import PolicyServer, ServerOptions

__all__ = ["ConnectionOptions", "Cosmos3ServicePolicy", "OpenpiPolicy", "PolicyServer", "ServerOptions",
           "observation_to_request", "packb", "request_to_observation", "unpackb"]
