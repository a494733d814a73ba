"""Out-of-process policies: the msgpack-numpy codec and a websocket policy server.

The matching client is :class:`robosim_cosmos.policies.cosmos3_client.Cosmos3ServicePolicy`.
"""

from .codec import packb, unpackb
from .server import PolicyServer, request_to_observation

__all__ = ["PolicyServer", "packb", "request_to_observation", "unpackb"]
