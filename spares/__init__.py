"""Spares: the `spares` command line and the entrypoints that sit on top of every package."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # Looked up on first use: reading the installed metadata costs a tenth of a second, which
    # every command would pay at start-up (only --version and serve print it).
    if name != "__version__":
        raise AttributeError(f"module 'spares' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("spares")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+unknown"
