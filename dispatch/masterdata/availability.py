"""Engineers' calendars: weekly shifts and absences (sick leave, holiday, training)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.errors import NotFoundError
from dispatch.masterdata.common import engineer_row, field_errors, flush_or_conflict
from dispatch.models import Absence, Shift
from inventory.checks import FieldErrors

_DAY_S = 24 * 3600
_WEEK_S = 7 * _DAY_S


class AbsenceChanges(TypedDict, total=False):
    """What an absence update may change: ending it early (or later) is `ends_at`."""

    starts_at: datetime
    ends_at: datetime
    reason: str


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _week_span(weekday: int, starts_at: time, ends_at: time) -> tuple[int, int]:
    """(start second of the week, duration); a shift ending at or before its start ends next day."""
    start = _seconds(starts_at)
    return weekday * _DAY_S + start, (_seconds(ends_at) - start) % _DAY_S


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether two spans of the (circular) week overlap; Sunday night runs into Monday."""
    return (b[0] - a[0]) % _WEEK_S < a[1] or (a[0] - b[0]) % _WEEK_S < b[1]


def add_shift(
    *, session: Session, engineer_id: int, weekday: int, starts_at: time, ends_at: time
) -> Shift:
    """Add a weekly shift (local time of the engineer's region); shifts never overlap."""
    engineer = engineer_row(session, engineer_id)
    errors = field_errors()
    if not 0 <= weekday <= 6:
        errors.add("weekday", "must be 0 (Monday) to 6 (Sunday)")
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value.tzinfo is not None:
            errors.add(name, "a shift is in local time of the region: give no offset")
    if _seconds(starts_at) == _seconds(ends_at):
        errors.add("ends_at", "must differ from starts_at (an earlier time ends the next day)")
    errors.raise_if_any()
    span = _week_span(weekday, starts_at, ends_at)
    stmt = select(Shift).where(Shift.engineer_id == engineer.id).order_by(Shift.id)
    for other in session.scalars(stmt):
        if _overlap(span, _week_span(other.weekday, other.starts_at, other.ends_at)):
            errors.add("starts_at", f"overlaps shift {other.id} (weekday {other.weekday})")
    errors.raise_if_any()
    shift = Shift(engineer_id=engineer.id, weekday=weekday, starts_at=starts_at, ends_at=ends_at)
    session.add(shift)
    flush_or_conflict(session, "shift")
    return shift


def remove_shift(*, session: Session, engineer_id: int, shift_id: int) -> None:
    """Remove one of the engineer's weekly shifts."""
    engineer_row(session, engineer_id)
    shift = session.get(Shift, shift_id)
    if shift is None or shift.engineer_id != engineer_id:
        raise NotFoundError("Shift", shift_id)
    session.delete(shift)
    session.flush()


def _check_absence(
    session: Session,
    errors: FieldErrors,
    engineer_id: int,
    values: AbsenceChanges,
    own: int | None,
) -> None:
    starts_at, ends_at = values["starts_at"], values["ends_at"]
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value.tzinfo is None or value.utcoffset() is None:
            errors.add(name, "must carry a time zone offset")
    if not values["reason"].strip():
        errors.add("reason", "say why (sick leave, holiday, training, ...)")
    if errors.errors:
        return
    if ends_at <= starts_at:
        errors.add("ends_at", "must be after starts_at")
        return
    stmt = select(Absence.id).where(
        Absence.engineer_id == engineer_id,
        Absence.id != (own or 0),
        Absence.starts_at < ends_at,
        Absence.ends_at > starts_at,
    )
    if (other := session.scalars(stmt.order_by(Absence.id)).first()) is not None:
        errors.add("starts_at", f"overlaps absence {other}; change that one instead")


def _in_utc(values: AbsenceChanges) -> AbsenceChanges:
    """Timestamps as stored (UTC), so the answer reads like every later one."""
    converted = values.copy()
    for name in ("starts_at", "ends_at"):
        if name in converted:
            converted[name] = converted[name].astimezone(UTC)
    return converted


def add_absence(
    *, session: Session, engineer_id: int, starts_at: datetime, ends_at: datetime, reason: str
) -> Absence:
    """Record time the engineer is away (sick leave, holiday, training); never overlapping."""
    engineer = engineer_row(session, engineer_id)
    values = AbsenceChanges(starts_at=starts_at, ends_at=ends_at, reason=reason)
    errors = field_errors()
    _check_absence(session, errors, engineer.id, values, None)
    errors.raise_if_any()
    absence = Absence(engineer_id=engineer.id, **_in_utc(values))
    session.add(absence)
    flush_or_conflict(session, "absence")
    return absence


def update_absence(
    *, session: Session, engineer_id: int, absence_id: int, changes: AbsenceChanges
) -> Absence:
    """Change an absence; ending one early (back from sick leave) sets `ends_at`."""
    engineer_row(session, engineer_id)
    absence = session.get(Absence, absence_id)
    if absence is None or absence.engineer_id != engineer_id:
        raise NotFoundError("Absence", absence_id)
    current = AbsenceChanges(
        starts_at=absence.starts_at, ends_at=absence.ends_at, reason=absence.reason
    )
    errors = field_errors()
    _check_absence(session, errors, engineer_id, current | changes, absence.id)
    errors.raise_if_any()
    for name, value in _in_utc(changes).items():
        setattr(absence, name, value)
    flush_or_conflict(session, "absence")
    return absence
