"""`manifest.json`: what a bundle is (format and version), when and by what it was written."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dispatch.world.bundle.errors import Problem

FORMAT_NAME = "spares-world"
FORMAT_VERSION = 1
SUPPORTED_VERSIONS = frozenset({1})
MANIFEST_FILE = "manifest.json"

_REQUIRED = ("format", "format_version", "created_at")
_OPTIONAL = ("spares_version", "schema_revision", "files")


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One CSV file of the bundle and how many data rows it holds."""

    name: str
    table: str
    rows: int


@dataclass(frozen=True, slots=True)
class Manifest:
    """The bundle's manifest; `files` is None when a hand-written manifest leaves it out."""

    created_at: datetime
    spares_version: str | None
    schema_revision: str | None
    files: tuple[FileEntry, ...] | None
    format: str = FORMAT_NAME
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        """The manifest as written: keys in a fixed order, two-space indent, final newline."""
        body: dict[str, Any] = {
            "format": self.format,
            "format_version": self.format_version,
            "created_at": self.created_at.astimezone(UTC).isoformat(),
            "spares_version": self.spares_version,
            "schema_revision": self.schema_revision,
        }
        if self.files is not None:
            body["files"] = [{"name": f.name, "table": f.table, "rows": f.rows} for f in self.files]
        return json.dumps(body, indent=2, ensure_ascii=False) + "\n"

    def rows_of(self, file: str) -> int | None:
        """The row count the manifest states for `file`, None when it states none."""
        return next((f.rows for f in self.files or () if f.name == file), None)


def read_manifest(directory: Path) -> tuple[Manifest | None, list[Problem]]:
    """The manifest, or None with the problems that make it unusable."""
    path = directory / MANIFEST_FILE
    if not path.is_file():
        return None, [_problem(None, "missing: a bundle starts with manifest.json")]
    try:
        body = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, [_problem(None, f"not UTF-8 JSON: {exc}")]
    if not isinstance(body, dict):
        return None, [_problem(None, "must be a JSON object")]
    problems = [_problem(k, "required key is missing") for k in _REQUIRED if k not in body]
    problems += [
        _problem(k, "unknown key; expected " + ", ".join(_REQUIRED + _OPTIONAL))
        for k in body
        if k not in _REQUIRED + _OPTIONAL
    ]
    if body.get("format", FORMAT_NAME) != FORMAT_NAME:
        problems.append(_problem("format", f"{body['format']!r} is not {FORMAT_NAME!r}"))
    version = body.get("format_version", FORMAT_VERSION)
    if isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
        supported = ", ".join(map(str, sorted(SUPPORTED_VERSIONS)))
        problems.append(
            _problem(
                "format_version", f"{version!r} is not supported (this Spares reads {supported})"
            )
        )
    created_at = _created_at(body.get("created_at"), problems)
    files = _files(body.get("files"), problems)
    for key in ("spares_version", "schema_revision"):
        if body.get(key) is not None and not isinstance(body[key], str):
            problems.append(_problem(key, "must be a string or null"))
    if problems or created_at is None:
        return None, problems
    manifest = Manifest(
        created_at=created_at,
        spares_version=body.get("spares_version"),
        schema_revision=body.get("schema_revision"),
        files=files,
        format=FORMAT_NAME,
        format_version=int(version),
    )
    return manifest, []


def _problem(field: str | None, reason: str) -> Problem:
    return Problem(MANIFEST_FILE, None, field, reason)


def _created_at(value: Any, problems: list[Problem]) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        problems.append(
            _problem("created_at", f"{value!r} is not an ISO 8601 timestamp with offset")
        )
        return None
    return parsed.astimezone(UTC)


def _files(value: Any, problems: list[Problem]) -> tuple[FileEntry, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        problems.append(_problem("files", "must be a list of files"))
        return None
    entries = []
    for i, item in enumerate(value):
        ok = (
            isinstance(item, dict)
            and set(item) == {"name", "table", "rows"}
            and isinstance(item["name"], str)
            and isinstance(item["table"], str)
            and isinstance(item["rows"], int)
            and not isinstance(item["rows"], bool)
            and item["rows"] >= 0
        )
        if not ok:
            problems.append(
                _problem(f"files[{i}]", 'must be {"name": str, "table": str, "rows": int >= 0}')
            )
            continue
        entries.append(FileEntry(item["name"], item["table"], item["rows"]))
    return tuple(entries)
