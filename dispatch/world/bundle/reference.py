"""The per-file reference of docs/world-format.md, generated from the specs it documents.

`python -m dispatch.world.bundle.reference` prints it; a test checks that the document
holds exactly this text, so the document cannot drift from the schema.
"""

from __future__ import annotations

from dispatch.world.bundle.columns import ColumnSpec, TableSpec, bundle_tables
from dispatch.world.bundle.rules import EXPLICIT_RULES


def format_reference() -> str:
    """Markdown: one section per file with its keys, references, columns and rules."""
    return "\n".join(line for spec in bundle_tables() for line in _section(spec))


def _section(spec: TableSpec) -> list[str]:
    keys = [f"primary key ({', '.join(spec.primary_key)})"]
    keys += [f"unique ({', '.join(u)})" for u in spec.unique[1:]]
    lines = [f"### `{spec.file}`" + (" (optional)" if spec.optional else ""), ""]
    lines.append("Keys: " + "; ".join(keys) + ".")
    if spec.foreign_keys:
        refs = [
            f"`{', '.join(fk.columns)}` → `{fk.table}.csv` `{', '.join(fk.referred)}`"
            for fk in spec.foreign_keys
        ]
        lines.append("References: " + "; ".join(refs) + ".")
    lines += ["", "| column | type | required | empty cell means |", "|---|---|---|---|"]
    lines += [
        f"| `{c.name}` | {c.describe()} | {_required(c)} | {_empty(c)} |" for c in spec.columns
    ]
    rules = [f"`{ck.name}`: `{ck.sql}`" for ck in spec.checks]
    rules += [
        f"`{r.name}` ({', '.join(r.fields)}): {r.description}"
        for r in EXPLICIT_RULES
        if r.table == spec.name
    ]
    if rules:
        lines += ["", "Rules:", "", *(f"- {rule}" for rule in rules)]
    return [*lines, ""]


def _required(column: ColumnSpec) -> str:
    return "yes" if column.required else "no"


def _empty(column: ColumnSpec) -> str:
    if column.required:
        return "— (a problem)"
    if column.nullable:
        return "NULL"
    if column.defaults_to_created_at:
        return "the manifest's `created_at`"
    value = column.default
    shown = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return f"`{shown}`"


if __name__ == "__main__":
    print(format_reference())  # noqa: T201 (a generator of documentation text)
