"""What `spares serve` needs besides the app: a socket bound before anything is announced, and
the background worker beside the server, so that a 202 job does not wait for a second shell."""

from __future__ import annotations

import os
import socket
import subprocess
import sys


class PortUnavailable(OSError):
    """The address cannot be bound (in use, not an address of this machine, not permitted)."""


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or `PortUnavailable` saying why (nothing announced yet)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise PortUnavailable(f"{host} is not an address of this machine: {exc}") from exc
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise PortUnavailable(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.set_inheritable(True)
    return sock


def start_worker(database_url: str) -> subprocess.Popen[bytes]:
    """`spares worker` in a child process on the same database; the caller stops it.

    The URL goes through the environment, not the command line other users can list.
    """
    env = os.environ | {"SPARES_DATABASE_URL": database_url}
    return subprocess.Popen([sys.executable, "-m", "spares", "worker"], env=env)


def stop_worker(worker: subprocess.Popen[bytes], timeout_s: float = 10.0) -> None:
    """SIGTERM (the worker finishes its running job's round), then kill if it hangs."""
    if worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout_s)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
