"""Preventive inspections: visits generated from contracts, planned around urgent work.

`inspection_visits` turns the sites whose contract has a monthly or quarterly inspection due
in a period into tickets with a wide window (``not_before`` .. ``arrive_by``, as wide as the
policy says) and a low severity rank, so that a full day drops them first. Give the rank a
smaller drop penalty than every repair: a rank past the repair ranks and a smaller last
weight in `PlanParams.severity_weights` (e.g. ``(10_000, 1_000, 100, 10)`` with rank 3).
`carry_over` re-emits the inspections a plan dropped for the next plan, from its ``now``:
an inspection is never lost, only moved.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from optimizer.model import Location, Ticket
from optimizer.plan_result import Dropped


class Frequency(enum.StrEnum):
    """How often a contract inspects a site."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


@dataclass(frozen=True, slots=True)
class InspectionSite:
    """A site whose contract includes preventive inspections.

    Parameters
    ----------
    site_id, location
        The site.
    frequency
        Monthly or quarterly.
    skills
        ``{product_line: level}`` the inspection needs.
    service_s
        How long it takes on site.
    first_month
        For quarterly inspections: a month (1-12) of the cycle (1: Jan, Apr, Jul, Oct).
    """

    site_id: int
    location: Location
    frequency: Frequency
    skills: Mapping[str, int] = field(default_factory=dict)
    service_s: int = 3_600
    first_month: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.first_month <= 12:
            raise ValueError(f"first_month: must be 1-12, got {self.first_month}")

    def due_in(self, month: int) -> bool:
        """Whether an inspection is due in calendar ``month`` (1-12)."""
        return self.frequency is Frequency.MONTHLY or (month - self.first_month) % 3 == 0


@dataclass(frozen=True, slots=True)
class InspectionPolicy:
    """How inspection visits are planned (policy data).

    Parameters
    ----------
    window_s
        How wide the window is: the visit is due within this long of its earliest start.
    severity_rank
        Its rank: past every repair rank, so that it is dropped first.
    """

    window_s: int = 7 * 86_400
    severity_rank: int = 3

    def __post_init__(self) -> None:
        if self.window_s <= 0:
            raise ValueError(f"window_s: must be > 0, got {self.window_s}")
        if self.severity_rank < 0:
            raise ValueError(f"severity_rank: must be >= 0, got {self.severity_rank}")


def inspection_visits(
    sites: Sequence[InspectionSite], *, month: int, period_start: int, first_id: int,
    policy: InspectionPolicy, now: int,
) -> tuple[Ticket, ...]:  # fmt: skip
    """Return the inspection tickets due in a month, by site id.

    Parameters
    ----------
    sites
        Sites with inspection contracts.
    month
        The calendar month (1-12) of the period: quarterly sites are due one month in three.
    period_start
        When the period begins (time-axis offset): the tickets' ``reported_at``.
    first_id
        Ticket id of the first inspection; the others follow in site-id order.
    policy
        Window width and severity rank.
    now
        The planning moment: no window opens before it.

    Returns
    -------
    tuple of Ticket
        Window ``[max(now, period_start), that + window_s]``, soft, at the policy's rank.
    """
    if not 1 <= month <= 12:
        raise ValueError(f"month: must be 1-12, got {month}")
    due = sorted((s for s in sites if s.due_in(month)), key=lambda s: s.site_id)
    opens = max(now, period_start)
    return tuple(
        Ticket(
            first_id + i, s.location, s.site_id, dict(s.skills), s.service_s,
            reported_at=min(period_start, opens), arrive_by=opens + policy.window_s,
            severity_rank=policy.severity_rank, not_before=opens,
        )
        for i, s in enumerate(due)
    )  # fmt: skip


def carry_over(
    dropped: Sequence[Dropped], inspections: Sequence[Ticket], *, now: int, policy: InspectionPolicy
) -> tuple[Ticket, ...]:
    """Return the dropped inspections again, for the next plan (never lost).

    Parameters
    ----------
    dropped
        What the plan dropped (repairs among them are ignored).
    inspections
        The inspection tickets that plan was given.
    now
        The next plan's moment: a carried window opens then (never earlier than it did).
    policy
        The width of the new window.

    Returns
    -------
    tuple of Ticket
        The same ids, with a window ``[max(now, old start), that + window_s]``.
    """
    gone = {d.ticket_id for d in dropped}
    out = []
    for t in inspections:
        if t.id in gone:
            opens = max(now, t.not_before or now)
            out.append(replace(t, not_before=opens, arrive_by=opens + policy.window_s))
    return tuple(out)
