"""Policies over the network: the RoboLab / openpi websocket protocol, its msgpack-numpy codec,
a server for any Policy, and the clients that are themselves Policies (``cosmos3://`` for Cosmos 3
servers, ``openpi://`` for openpi and RoboArena DROID servers)."""

from .client import Cosmos3ServicePolicy, observation_to_request
from .codec import packb, unpackb
from .openpi_client import OpenpiPolicy
from .server import PolicyServer, request_to_observation

__all__ = ["Cosmos3ServicePolicy", "OpenpiPolicy", "PolicyServer", "observation_to_request", "packb",
           "request_to_observation", "unpackb"]
