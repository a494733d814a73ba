"""The package version, in one place (read by the package root and by summary.json)."""

__version__ = "0.1.0"
