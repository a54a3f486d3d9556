"""scripts/_venv.sh: pip runs on the first start and when pyproject.toml changes, not always."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _checkout(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of scripts/ and pyproject.toml; a venv whose python logs pip calls, runs no pip."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "_venv.sh", tmp_path / "scripts")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    log = tmp_path / "pip.log"
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then echo "$@" >> {log}; exit 0; fi\n'
        f'exec {sys.executable} "$@"\n'
    )
    python.chmod(0o755)
    return tmp_path, log


def _source(root: Path, extras: str = "") -> None:
    script = f'SPARES_EXTRAS="{extras}"; source "{root}/scripts/_venv.sh"'
    subprocess.run(["bash", "-c", script], check=True, cwd=root)


def _pips(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_pip_runs_only_when_something_changed(tmp_path: Path) -> None:
    root, log = _checkout(tmp_path)
    _source(root)
    assert _pips(log) == 1  # first start installs
    _source(root)
    assert _pips(log) == 1  # nothing changed: no reinstall
    _source(root, "[dev]")
    assert _pips(log) == 2  # the dev extra was not installed yet
    _source(root)
    _source(root, "[dev]")
    assert _pips(log) == 2  # both satisfied by what is installed
    with (root / "pyproject.toml").open("a") as f:
        f.write("\n# a new dependency, say\n")
    _source(root)
    assert _pips(log) == 3  # pyproject.toml changed: install again
