"""`spares world export` and `spares world import` through Typer's runner on SQLite files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner

import spares.cli as cli
from dispatch.world.bundle import pack_bundle

runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(cli.app, list(args), catch_exceptions=False)


def _url(tmp_path: Path, name: str) -> str:
    return f"sqlite:///{tmp_path / name}"


def _generated(tmp_path: Path) -> str:
    url = _url(tmp_path, "source.db")
    result = invoke("--database-url", url, "world", "generate", "--seed", "3", "--size", "small")
    assert result.exit_code == 0, result.output
    return url


def _csv_files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.glob("*.csv"))}


def test_export_then_import_then_export_gives_the_same_files(tmp_path: Path) -> None:
    source = _generated(tmp_path)
    result = invoke("--database-url", source, "world", "export", str(tmp_path / "first"))
    assert result.exit_code == 0, result.output
    assert "exported" in result.output
    target = _url(tmp_path, "target.db")
    result = invoke("--database-url", target, "world", "import", str(tmp_path / "first"))
    assert result.exit_code == 0, result.output
    assert "imported" in result.output
    result = invoke("--database-url", target, "world", "export", str(tmp_path / "again"))
    assert result.exit_code == 0, result.output
    assert _csv_files(tmp_path / "first") == _csv_files(tmp_path / "again")


def test_import_takes_a_zip(tmp_path: Path) -> None:
    source = _generated(tmp_path)
    invoke("--database-url", source, "world", "export", str(tmp_path / "b"))
    (tmp_path / "b.zip").write_bytes(pack_bundle(tmp_path / "b"))
    target = _url(tmp_path, "target.db")
    result = invoke("--database-url", target, "world", "import", str(tmp_path / "b.zip"))
    assert result.exit_code == 0, result.output


def test_an_invalid_bundle_prints_every_problem_and_exits_1(tmp_path: Path) -> None:
    source = _generated(tmp_path)
    bundle = tmp_path / "b"
    invoke("--database-url", source, "world", "export", str(bundle))
    regions = (bundle / "regions.csv").read_text().replace("Asia/Shanghai", "Mars/Olympus", 2)
    (bundle / "regions.csv").write_text(regions)
    (bundle / "depots.csv").unlink()
    target = _url(tmp_path, "target.db")
    result = invoke("--database-url", target, "world", "import", str(bundle))
    assert result.exit_code == 1
    assert "3 problem(s)" in result.output
    assert "depots.csv" in result.output
    assert result.output.count("Mars/Olympus") == 2
    assert "nothing was written" in result.output


def test_import_into_a_database_with_a_world_exits_1(tmp_path: Path) -> None:
    source = _generated(tmp_path)
    invoke("--database-url", source, "world", "export", str(tmp_path / "b"))
    result = invoke("--database-url", source, "world", "import", str(tmp_path / "b"))
    assert result.exit_code == 1
    assert "already holds data" in result.output


def test_export_refuses_a_folder_with_files(tmp_path: Path) -> None:
    source = _generated(tmp_path)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "notes.txt").write_text("keep me")
    result = invoke("--database-url", source, "world", "export", str(tmp_path / "b"))
    assert result.exit_code == 1
    # Rich wraps the message at the terminal's width, and the tmp path may be long.
    assert "not an empty directory" in " ".join(result.output.split())
