"""Spares: the `spares` command line and the entrypoints that sit on top of every package."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("spares")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
