"""The API served by uvicorn in its own process, for the HTTP benchmarks.

Its own process, so the benchmark's clients do not share the server's GIL; on loopback, at
a random port above ``port_base`` (two benchmark modules may run one each).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
START_S = 180.0  # how long the server may take to answer /healthz


@contextmanager
def served_api(database_url: str, port_base: int) -> Iterator[str]:
    """`uvicorn api.app:create_app` on ``database_url``; yields its base URL once healthy."""
    port = port_base + random.Random().randrange(1000)
    env = os.environ | {"SPARES_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    # Throughput is measured, not limited (every client comes from 127.0.0.1), and no access log.
    env |= {"SPARES_RATE_LIMIT_PER_KEY": "off", "SPARES_RATE_LIMIT_PER_ADDRESS": "off",
            "SPARES_LOG_LEVEL": "warning"}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--port", str(port),
         "--log-level", "warning"], cwd=ROOT, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        # Up to START_S: on a loaded machine (load 18 on 2 cores) the app took over 30 s to
        # start listening, and the benchmark then failed with "connection refused".
        deadline = time.monotonic() + START_S
        with httpx.Client(base_url=base) as probe:
            while time.monotonic() < deadline:
                try:
                    if probe.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait()
