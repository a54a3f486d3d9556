"""Writing a bundle: one CSV per table plus `manifest.json`, byte-for-byte deterministic."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from dispatch.world.bundle.columns import TableSpec, bundle_tables
from dispatch.world.bundle.manifest import MANIFEST_FILE, FileEntry, Manifest

Rows = Iterable[Mapping[Any, Any]]  # dicts, or RowMappings straight from a query


def spares_version() -> str:
    """The installed Spares version (the CLI package sits above us, so ask the metadata)."""
    try:
        return version("spares")
    except PackageNotFoundError:
        return "0.0.0+unknown"


def prepare_directory(directory: Path) -> None:
    """Create `directory`, refusing one that holds files: stale files would join the bundle."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise FileExistsError(f"{directory} exists and is not an empty directory")
    directory.mkdir(parents=True, exist_ok=True)


def write_bundle(
    tables: Mapping[str, Rows],
    directory: Path | str,
    *,
    created_at: datetime,
    schema_revision: str | None = None,
) -> Manifest:
    """Write every table of the schema (missing ones as a header only) and the manifest.

    Rows are written in the order given (export passes them in primary-key order); a
    key a row lacks is written as an empty cell.
    """
    directory = Path(directory)
    prepare_directory(directory)
    entries = [
        FileEntry(spec.file, spec.name, _write_table(directory, spec, tables.get(spec.name, ())))
        for spec in bundle_tables()
    ]
    manifest = Manifest(
        created_at=created_at,
        spares_version=spares_version(),
        schema_revision=schema_revision,
        files=tuple(entries),
    )
    (directory / MANIFEST_FILE).write_text(manifest.to_json(), encoding="utf-8", newline="\n")
    return manifest


def _write_table(directory: Path, spec: TableSpec, rows: Rows) -> int:
    count = 0
    with (directory / spec.file).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(spec.header)
        for row in rows:
            writer.writerow([column.encode(row.get(column.name)) for column in spec.columns])
            count += 1
    return count
