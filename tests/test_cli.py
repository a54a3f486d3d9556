"""The `spares` command line, driven through Typer's runner on throwaway SQLite files."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

import db
import spares.cli as cli
from spares import __version__
from spares.serving import PortUnavailable, bind

runner = CliRunner()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def invoke(*args: str) -> Any:
    return runner.invoke(cli.app, list(args), catch_exceptions=False)


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert __version__ in result.output


# What `spares --help` must not load: each costs from a tenth of a second to seconds.
# (`dispatch` and `scenarios` themselves are light: the CLI reads defaults from them.)
HEAVY = ("sqlalchemy", "alembic", "fastapi", "pydantic", "numpy", "scipy", "matplotlib",
         "pandas", "ortools", "networkx", "simpy", "optimizer", "api", "db")  # fmt: skip


def test_the_command_line_starts_without_the_heavy_parts() -> None:
    """The CLI's module tree imports none of them; each command imports what it uses."""
    code = (
        "import sys, spares.cli; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_recommendation_loads_no_solver_server_nor_road_network() -> None:
    """`spares dispatch recommend` needs numpy and the database, not OR-Tools or scipy."""
    code = (
        "import sys, api.travel, dispatch.recommend; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'ortools', 'scipy', 'networkx', 'fastapi', 'matplotlib', 'pandas'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_command_on_a_current_database_loads_no_migration_machinery(tmp_path: Path) -> None:
    """Issue 17: every command checks the schema; at head that is one query, not Alembic.

    Nor does it load `limits` (the default rate limits are plainly valid).
    """
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    code = (
        "import sys, api.travel, dispatch.recommend, db; "
        "from api.settings import Settings; "
        f"s = Settings(database_url={url!r}); "
        "e = db.make_engine(s.database_url); db.upgrade(e); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako', 'limits')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_schema_head_read_from_the_files_is_alembics() -> None:
    from db.migrate import file_head_revision

    assert file_head_revision() == db.head_revision()


def test_an_old_database_still_migrates_through_alembic(tmp_path: Path) -> None:
    from db.migrate import downgrade

    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    db.upgrade(engine)
    downgrade(engine, "0001")
    assert db.current_revision(engine) == "0001"
    db.upgrade(engine)
    assert db.is_up_to_date(engine)
    engine.dispose()


def test_user_roles_offered_are_the_roles() -> None:
    assert set(cli.ROLES) == {r.value for r in db.Role}


def test_db_upgrade_then_current(db_url: str) -> None:
    result = invoke("--database-url", db_url, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert f"empty -> {db.head_revision()}" in result.output
    result = invoke("--database-url", db_url, "db", "current")
    assert "up to date" in result.output


def test_database_url_is_validated() -> None:
    result = invoke("--database-url", "mysql://root@localhost/x", "db", "current")
    assert result.exit_code == 2
    assert "SQLite and PostgreSQL" in result.output


def test_user_add_prints_a_key_that_authenticates(db_url: str) -> None:
    result = invoke("--database-url", db_url, "user", "add", "Zhou Min", "--role", "admin")
    assert result.exit_code == 0, result.output
    key = next(word for word in result.output.split() if word.startswith("spk_"))
    engine = db.make_engine(db_url)
    with db.make_sessionmaker(engine)() as session:
        user = session.scalars(select(db.User).where(db.User.name == "Zhou Min")).one()
    engine.dispose()
    assert user.role is db.Role.ADMIN
    assert user.api_key_hash == db.hash_api_key(key)


def test_user_add_twice_is_a_clear_error(db_url: str) -> None:
    invoke("--database-url", db_url, "user", "add", "Zhou Min", "--role", "admin")
    result = invoke("--database-url", db_url, "user", "add", "Zhou Min", "--role", "planner")
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_user_add_refuses_unknown_role(db_url: str) -> None:
    result = invoke("--database-url", db_url, "user", "add", "X", "--role", "janitor")
    assert result.exit_code == 2


def test_world_generate_refuses_unknown_size(db_url: str) -> None:
    result = invoke("--database-url", db_url, "world", "generate", "--size", "huge")
    assert result.exit_code == 2
    assert "small, medium, large" in result.output


def test_world_generate_loads_once(db_url: str) -> None:
    result = invoke("--database-url", db_url, "world", "generate", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert "spk_demo_dispatcher" in result.output
    engine = db.make_engine(db_url)
    with db.make_sessionmaker(engine)() as session:
        users = session.scalar(select(func.count()).select_from(db.User))
    engine.dispose()
    assert users == len(db.Role)
    again = invoke("--database-url", db_url, "world", "generate", "--seed", "3")
    assert again.exit_code == 1
    assert "empty database" in again.output


def test_serve_demo_migrates_loads_and_prints_how_to_start(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: dict[str, Any] = {}
    workers: list[str] = []

    def fake_run(server: Any, sockets: list[socket.socket]) -> None:
        served.update(port=sockets[0].getsockname()[1], app=server.config.app)

    monkeypatch.setattr("uvicorn.Server.run", fake_run)
    monkeypatch.setattr("spares.serving.start_worker", lambda url: workers.append(url) or "w")
    monkeypatch.setattr("spares.serving.stop_worker", lambda w: workers.append(f"stopped {w}"))
    result = invoke("--database-url", db_url, "serve", "--demo", "--port", "0")
    assert result.exit_code == 0, result.output
    assert f"http://127.0.0.1:{served['port']}" in result.output  # the port actually bound
    assert "spk_demo_admin" in result.output
    assert "curl" in result.output
    assert workers == [db_url, "stopped w"]  # the worker ran beside the server, and stopped
    assert "a worker runs beside the server" in result.output
    # A second start finds the world in place and does not load it again.
    again = invoke("--database-url", db_url, "serve", "--demo", "--port", "0", "--no-worker")
    assert again.exit_code == 0, again.output
    assert "Loading the demo world" not in again.output
    assert "start `spares worker`" in again.output
    assert workers == [db_url, "stopped w"]


def test_serve_refuses_a_busy_port_before_announcing_anything(tmp_path: Path) -> None:
    """Issue 17, defect 7: the banner said 'listens on' and then the bind failed."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        url = f"sqlite:///{tmp_path / 'serve.db'}"
        result = runner.invoke(
            cli.app, ["--database-url", url, "serve", "--port", str(port), "--no-worker"]
        )
    assert result.exit_code == 1
    assert "listens on" not in result.output
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert not (tmp_path / "serve.db").exists()  # refused before migrating or loading


def test_bind_gives_a_listening_socket() -> None:
    sock = bind("127.0.0.1", 0)
    try:
        with socket.create_connection(sock.getsockname()[:2], timeout=5):
            pass  # accepted into the backlog: the socket listens
    finally:
        sock.close()
    with pytest.raises(PortUnavailable, match="not an address"):
        bind("no-such-host.invalid", 0)


def test_user_scope_sets_depots_by_code_and_lifts_them(db_url: str) -> None:
    from sqlalchemy.orm import Session

    from db.identity import Role, create_user, get_scope
    from tests.builders import make_depot, make_region

    invoke("--database-url", db_url, "db", "upgrade")
    engine = db.make_engine(db_url)
    try:
        with Session(engine) as s, s.begin():
            region = make_region(s, code="GZ")
            depot = make_depot(s, region, code="D-GZ").id
            user = create_user(s, name="Li Na", role=Role.WAREHOUSE)[0].id
        result = invoke("--database-url", db_url, "user", "scope", "Li Na", "--depot", "D-GZ")
        assert result.exit_code == 0, result.output
        with Session(engine) as s:
            assert get_scope(s, user).depot_ids == {depot}
        unknown = invoke("--database-url", db_url, "user", "scope", "Li Na", "--depot", "NOPE")
        assert unknown.exit_code == 1
        lifted = invoke("--database-url", db_url, "user", "scope", "Li Na", "--clear-depots")
        assert lifted.exit_code == 0
        with Session(engine) as s:
            assert get_scope(s, user).depot_ids is None
    finally:
        engine.dispose()


def test_serve_runs_several_processes_when_asked(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: dict[str, Any] = {}

    def fake_run(supervisor: Any) -> None:
        ran.update(workers=supervisor.config.workers, app=supervisor.config.app,
                   sockets=supervisor.sockets)  # fmt: skip

    monkeypatch.setattr("uvicorn.supervisors.Multiprocess.run", fake_run)
    monkeypatch.setenv("SPARES_WEB_WORKERS", "2")
    monkeypatch.setenv("SPARES_DATABASE_URL", "sqlite://")  # restored after the test
    result = invoke("--database-url", db_url, "serve", "--port", "0", "--no-worker")
    assert result.exit_code == 0, result.output
    assert ran["workers"] == 2
    assert ran["app"] == "api.app:create_app"
    assert os.environ["SPARES_DATABASE_URL"] == db_url  # what each process's app reads


def _children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (Linux /proc), by id."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text() if (task / "children").exists() else ""
        found.update(int(c) for c in text.split())
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_a_terminated_server_stops_the_worker_it_started(tmp_path: Path) -> None:
    """A service manager stops `spares serve` with SIGTERM: its worker goes with it (uvicorn
    re-raises the signal after its shutdown, which skipped the worker's stop and left it
    running on its own)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = os.environ | {"SPARES_DATABASE_URL": f"sqlite:///{tmp_path / 'spares.db'}"}
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "spares", "serve", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        workers: set[int] = set()
        for _ in range(600):  # the worker starts before the app answers; up to a minute
            workers = {c for c in _children(server.pid) if "worker" in _cmdline(c)}
            if workers or server.poll() is not None:
                break
            time.sleep(0.1)
        assert workers, (tmp_path / "serve.log").read_text()[-2000:]
        time.sleep(1.0)  # past start-up: the signal reaches a running server
        server.terminate()
        assert server.wait(timeout=30) is not None
        deadline = time.monotonic() + 15
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(w) for w in workers)
    finally:
        log.close()
        if server.poll() is None:
            server.kill()
        for w in workers:
            if _alive(w):
                os.kill(w, signal.SIGKILL)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""
