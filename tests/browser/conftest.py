"""Browser tests: Debian's Chromium driven by Playwright, on the demo world served by uvicorn.

The server is `spares serve --demo` on 127.0.0.1 with a fresh SQLite file, plus a
`spares worker` for jobs (plans, scenario runs). Every request the page makes goes
through `page.route`: one to any other host fails the test. Chromium is Debian's
(`apt-get install chromium`); without it the tests are skipped with that reason, except
under CI (CI=true), where a missing browser fails them. Screenshots go to
reports/screenshots/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.parse import urlsplit
from urllib.request import urlopen

import pytest

CHROMIUM = os.environ.get("SPARES_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parents[2] / "reports" / "screenshots"
START_TIMEOUT_S = 120.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spares() -> list[str]:
    script = Path(sys.executable).with_name("spares")
    return [str(script)] if script.exists() else [sys.executable, "-m", "spares.cli"]


@dataclass
class Served:
    base: str
    folder: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)


def _wait_ready(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped: {log.read_text()[-2000:]}")
        try:
            with urlopen(base + "/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (URLError, OSError):
            time.sleep(0.5)
    raise RuntimeError(f"the server did not get ready: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, or a skip (a failure under CI) saying how to get it."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    found = shutil.which("chromium")
    if found:
        return found
    reason = "no Chromium at /usr/bin/chromium: apt-get install -y chromium (or SPARES_CHROMIUM)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[Served]:
    """The demo world served on a free local port, with a worker for jobs."""
    folder = tmp_path_factory.mktemp("served")
    port = _free_port()
    env = os.environ | {
        "SPARES_DATABASE_URL": f"sqlite:///{folder / 'spares.db'}",
        "SPARES_LOG_LEVEL": "warning",
        "SPARES_RATE_LIMIT_PER_KEY": "off",
        "SPARES_RATE_LIMIT_PER_ADDRESS": "off",
    }
    out = Served(base=f"http://127.0.0.1:{port}", folder=folder)
    log = folder / "serve.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [*_spares(), "serve", "--demo", "--port", str(port)],
            cwd=folder, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    out.processes.append(server)
    try:
        _wait_ready(out.base, server, log)
        with (folder / "worker.log").open("wb") as sink:
            worker = subprocess.Popen(
                [*_spares(), "worker"], cwd=folder, env=env, stdout=sink,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        out.processes.append(worker)
        yield out
    finally:
        # Each runs in a session of its own, so the signal reaches the children it started
        # too (the worker's job processes): terminating the leader alone left them running.
        for process in reversed(out.processes):
            _signal_group(process, signal.SIGTERM)
        for process in out.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=20)
            _signal_group(process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Send ``sig`` to the process group ``process`` leads, if any of it is still there."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Any]:
    """One headless Chromium for the session."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, headless=True)
        yield launched
        launched.close()


@dataclass
class Visit:
    """A page in a fresh context, and the requests it tried to send elsewhere."""

    page: Any
    base: str
    foreign: list[str]
    errors: list[str]

    def login(self, key: str) -> None:
        page = self.page
        page.goto(self.base + "/")
        page.get_by_label("API key").fill(key)
        page.get_by_role("button", name="Sign in").click()
        # Signing in navigates to the role's first page after a fetch: wait for it, or the
        # caller's next goto races that navigation (net::ERR_ABORTED, seen in CI).
        page.wait_for_url(lambda url: urlsplit(url).path != "/", timeout=60_000)

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=path)
        return path


def open_visit(browser: Any, served: Served, **context: Any) -> Visit:
    """A new browser context whose every request to a host other than the server aborts."""
    viewport = {"viewport": {"width": 1280, "height": 800}}
    ctx = browser.new_context(**(viewport | context))
    page = ctx.new_page()
    visit = Visit(page=page, base=served.base, foreign=[], errors=[])

    def guard(route: Any) -> None:
        url = route.request.url
        if url.startswith(served.base + "/") or url.startswith("data:"):
            route.continue_()
        else:
            visit.foreign.append(url)
            route.abort()

    page.route("**/*", guard)
    page.on("pageerror", lambda error: visit.errors.append(str(error)))
    return visit


@pytest.fixture
def visit(browser: Any, served: Served) -> Iterator[Visit]:
    """A fresh page; after the test, no request left the server and no script failed."""
    v = open_visit(browser, served)
    yield v
    v.page.context.close()
    assert v.foreign == [], f"requests to other hosts: {v.foreign}"
    assert v.errors == [], f"script errors: {v.errors}"
