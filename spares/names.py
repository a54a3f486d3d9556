"""Names, not only ids, on the command line (issue 17): what a person types, resolved to an id.

Every option that takes a depot, part, engineer, region, supplier or ticket takes its id,
its code (a part's SKU) or its name, in any case. An exact id, code or name wins; else a
name that contains the text, when only one does. Nothing found, or several, is a usage
error that lists what matched, so the person can pick one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

MAX_LISTED = 8  # matches an ambiguity error lists


@dataclass(frozen=True, slots=True)
class _Kind:
    """Where one kind of thing lives: its model and the columns a person may type."""

    module: str
    model: str
    code: str | None  # the code column ("sku" for parts); None: no code
    name: str | None  # the name column; None: no name (tickets)


_KINDS = {
    "depot": _Kind("inventory.models", "Depot", "code", "name"),
    "part": _Kind("inventory.models", "Part", "sku", "name"),
    "region": _Kind("inventory.models", "Region", "code", "name"),
    "supplier": _Kind("inventory.models", "Supplier", "code", "name"),
    "engineer": _Kind("dispatch.models", "Engineer", "code", "name"),
    "ticket": _Kind("dispatch.models", "Ticket", "code", None),
}


def resolve(session: Session, kind: str, text: str, *, hint: str | None = None) -> int:
    """The id of the `kind` that `text` names (id, code or name); a usage error otherwise."""
    import importlib

    from sqlalchemy import func, or_

    spec = _KINDS[kind]
    model: Any = getattr(importlib.import_module(spec.module), spec.model)
    param = hint or f"--{kind}"
    wanted = text.strip()
    if wanted.isdigit() and session.get(model, int(wanted)) is not None:
        return int(wanted)
    low = wanted.lower()
    columns = [getattr(model, c) for c in (spec.code, spec.name) if c is not None]
    rows = _matches(session, model, spec, or_(*(func.lower(c) == low for c in columns)))
    if not rows and spec.name is not None and low:
        like = func.lower(getattr(model, spec.name)).contains(low, autoescape=True)
        rows = _matches(session, model, spec, like)
    if len(rows) == 1:
        return int(rows[0][0])
    if not rows:
        typed = "id, code or name" if spec.name is not None else "id or code"
        raise typer.BadParameter(f"no {kind} has the {typed} {text!r}", param_hint=param)
    listed = "; ".join(_label(row) for row in rows[:MAX_LISTED])
    more = f" and {len(rows) - MAX_LISTED} more" if len(rows) > MAX_LISTED else ""
    raise typer.BadParameter(
        f"{text!r} matches {len(rows)} {kind}s: {listed}{more}; give a code or an id",
        param_hint=param,
    )


def _matches(session: Session, model: Any, spec: _Kind, where: Any) -> list[Any]:
    from sqlalchemy import select

    cols = [model.id, *(getattr(model, c) for c in (spec.code, spec.name) if c is not None)]
    stmt = select(*cols).where(where).order_by(model.id).limit(MAX_LISTED + 50)
    return list(session.execute(stmt).all())


def _label(row: Any) -> str:
    """`Name (CODE, id 7)` for a match in an ambiguity error."""
    values = [str(v) for v in row[1:]]
    if len(values) == 2:
        return f"{values[1]} ({values[0]}, id {row[0]})"
    return f"{values[0]} (id {row[0]})" if values else f"id {row[0]}"
