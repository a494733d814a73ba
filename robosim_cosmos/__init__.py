"""robosim_cosmos: Cosmos 3 robot policies in closed loop against a simulated DROID Franka."""

__version__ = "0.1.0"
