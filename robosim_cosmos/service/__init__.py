"""Policies over the network: the RoboLab / openpi websocket protocol, its msgpack-numpy codec,
a server for any Policy and the client that is itself a Policy."""

from .client import Cosmos3ServicePolicy, observation_to_request
from .codec import packb, unpackb
from .server import PolicyServer, request_to_observation

__all__ = ["Cosmos3ServicePolicy", "PolicyServer", "observation_to_request", "packb",
           "request_to_observation", "unpackb"]
