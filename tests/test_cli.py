"""The `spares` command line, driven through Typer's runner on throwaway SQLite files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

import db
import spares.cli as cli
from spares import __version__

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

    def fake_run(app: object, **kwargs: Any) -> None:
        served.update(kwargs, app=app)

    monkeypatch.setattr("uvicorn.run", fake_run)
    result = invoke("--database-url", db_url, "serve", "--demo", "--port", "8123")
    assert result.exit_code == 0, result.output
    assert served["port"] == 8123
    assert served["host"] == "127.0.0.1"
    assert "http://127.0.0.1:8123" in result.output
    assert "spk_demo_admin" in result.output
    assert "curl" in result.output
    # A second start finds the world in place and does not load it again.
    again = invoke("--database-url", db_url, "serve", "--demo", "--port", "8123")
    assert again.exit_code == 0, again.output
    assert "Loading the demo world" not in again.output
