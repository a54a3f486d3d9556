"""Labour rules: how far work may run past a shift, what overtime and a call-out cost.

Policy data (table ``labour_rules``), not constants: a region has its rules, an engineer
group (the engineers that point at a rule) overrides them, and an engineer with neither
works under the documented defaults below (README "Labour rules"). Production dispatch
(`dispatch.snapshot`), the demo world's solver view and the simulator (`scenarios.live`)
all turn the rules into the optimizer's engineer fields through `solver_fields`, so the
three read the same rules the same way.

Pure: no database; `dispatch.models.LabourRule` stores these fields with these defaults.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import optimizer as opt

MIN_S = 60


@dataclass(frozen=True, slots=True)
class LabourRules:
    """One set of labour rules (the documented defaults are the field defaults).

    Parameters
    ----------
    overtime_max_min
        How long a visit may run past the end of the shift it started in.
    start_into_overtime
        Whether a visit may be planned to start when it will end in overtime; when false,
        planned visits end by the shift's end and the allowance only absorbs overruns.
    overtime_day_max_min, overtime_week_max_min
        Caps of overtime per local day and per week (Monday to Sunday).
    overtime_cost_per_hour
        What an hour of overtime costs (contract currency), on top of the hour rate.
    callout_cost
        What waking an on-call engineer costs, per call-out.
    callout_max_rank
        Severities of this rank or more severe (1 = urgent) may wake an on-call engineer.
    callout_lead_min
        From the call to the on-call engineer's departure.
    """

    overtime_max_min: int = 120
    start_into_overtime: bool = True
    overtime_day_max_min: int = 120
    overtime_week_max_min: int = 480
    overtime_cost_per_hour: Decimal = Decimal("90.00")
    callout_cost: Decimal = Decimal("300.00")
    callout_max_rank: int = 1
    callout_lead_min: int = 30

    def __post_init__(self) -> None:
        for name in (
            "overtime_max_min", "overtime_day_max_min", "overtime_week_max_min",
            "callout_lead_min", "overtime_cost_per_hour", "callout_cost",
        ):  # fmt: skip
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)}")
        if self.callout_max_rank < 0:
            raise ValueError(f"callout_max_rank: must be >= 0, got {self.callout_max_rank}")

    @classmethod
    def of(cls, row: Mapping[str, Any] | Any) -> LabourRules:
        """The rules of a stored row (an ORM `LabourRule` or a dict of its columns)."""

        def get(name: str) -> Any:
            return row[name] if isinstance(row, Mapping) else getattr(row, name)

        return cls(
            overtime_max_min=int(get("overtime_max_min")),
            start_into_overtime=bool(get("start_into_overtime")),
            overtime_day_max_min=int(get("overtime_day_max_min")),
            overtime_week_max_min=int(get("overtime_week_max_min")),
            overtime_cost_per_hour=Decimal(get("overtime_cost_per_hour")),
            callout_cost=Decimal(get("callout_cost")),
            callout_max_rank=int(get("callout_max_rank")),
            callout_lead_min=int(get("callout_lead_min")),
        )


DEFAULT_LABOUR_RULES = LabourRules()


def rules_for(
    *,
    own_rule_id: int | None,
    region_id: int | None,
    by_id: Mapping[int, LabourRules],
    by_region: Mapping[int, LabourRules],
) -> LabourRules:
    """An engineer's rules: his group's, else his region's, else the documented defaults."""
    if own_rule_id is not None and own_rule_id in by_id:
        return by_id[own_rule_id]
    if region_id is not None and region_id in by_region:
        return by_region[region_id]
    return DEFAULT_LABOUR_RULES


def overtime_allowance_s(rules: LabourRules, *, used_day_s: int = 0, used_week_s: int = 0) -> int:
    """Seconds a visit may still run past a shift's end, after the overtime already worked.

    The least of the per-visit allowance and what is left of the day's and the week's caps,
    e.g. 120 min allowed, 120 min a day of which 90 used, 480 a week: 30 min.
    """
    left = min(
        rules.overtime_max_min * MIN_S,
        rules.overtime_day_max_min * MIN_S - used_day_s,
        rules.overtime_week_max_min * MIN_S - used_week_s,
    )
    return max(0, left)


def window_overtime(
    windows: Sequence[tuple[int, int]],
    job_end: int,
    job_start: int | None = None,
    on_call: Sequence[tuple[int, int]] = (),
) -> tuple[int, int] | None:
    """The overtime a job ending at ``job_end`` works: ``(window end, seconds)`` or ``None``.

    ``windows`` are an engineer's sorted working windows (offsets). Work runs on past a
    window's end without a break, so a job that ends after the end of the last window that
    began before it works ``job_end - end`` of that window's overtime; unless it began after
    that end inside one of his ``on_call`` windows: a call-out, not an overrun of his shift.
    """
    i = bisect.bisect_left(windows, (job_end, -1)) - 1  # the last window starting before
    if i < 0 or job_end <= windows[i][1]:
        return None
    end = windows[i][1]
    began = end if job_start is None else job_start
    if began > end and any(start <= began < stop for start, stop in on_call):
        return None  # woken while on call after the shift: a call-out
    return end, job_end - end


def tally_overtime(
    seen: dict[int, int],
    windows: Sequence[tuple[int, int]],
    jobs: Iterable[tuple[int | None, int]],
    on_call: Sequence[tuple[int, int]] = (),
) -> dict[int, int]:
    """Add jobs ``(start or None, end)`` to ``seen`` (overtime per window, keyed by the
    window's end): the latest job running past a window's end sets its overtime. A call-out
    (begun after it, while on call) is no overrun of the shift, but all of it is overtime
    worked against the day and week caps: keyed by its start, it counts start to end."""
    for job_start, job_end in jobs:
        found = window_overtime(windows, job_end, job_start, on_call)
        if found is not None:
            end, seconds = found
            seen[end] = max(seen.get(end, 0), seconds)
        elif job_start is not None:
            seconds = _call_out_s(windows, job_start, job_end, on_call)
            if seconds > 0:
                seen[job_start] = max(seen.get(job_start, 0), seconds)
    return seen


def _call_out_s(
    windows: Sequence[tuple[int, int]], start: int, end: int, on_call: Sequence[tuple[int, int]]
) -> int:
    """The overtime of a job begun outside every working window, inside an on-call window:
    its length up to the next window's start (from there it is shift time); else 0."""
    if not any(a <= start < b for a, b in on_call) or any(a <= start < b for a, b in windows):
        return 0
    later = [a for a, _ in windows if a > start]
    return max(0, min([end, *later]) - start)


def overtime_used(
    by_window: Mapping[int, int], *, now: int, day_start: int, week_start: int
) -> tuple[int, int]:
    """Overtime already worked ``(this day, this week)`` in seconds, from `tally_overtime`.

    Counts the windows whose overtime is over by ``now``; a window belongs to the day and
    week its end falls in (``day_start``, ``week_start``: offsets of the local midnight and
    of Monday's). The production snapshot and the simulator both count it this way.
    """
    day = week = 0
    for end, seconds in by_window.items():
        if end + seconds <= now and end >= week_start:
            week += seconds
            day += seconds if end >= day_start else 0
    return day, week


def day_and_week_start(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The local midnight of ``now``'s day and of its week's Monday, in ``timezone``: the
    caps count overtime per local day and per week (Monday to Sunday)."""
    local = now.astimezone(ZoneInfo(timezone))
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return day, (day - timedelta(days=local.weekday())).replace(tzinfo=local.tzinfo)


def overtime_cap(rules: LabourRules, *, used_day_s: int = 0, used_week_s: int = 0) -> str | None:
    """Which cap cut the allowance below the per-visit one: ``"day"``, ``"week"`` or ``None``."""
    per_visit = rules.overtime_max_min * MIN_S
    day_left = rules.overtime_day_max_min * MIN_S - used_day_s
    week_left = rules.overtime_week_max_min * MIN_S - used_week_s
    if min(day_left, week_left) >= per_visit:
        return None
    return "week" if week_left < day_left else "day"


def minor(amount: Decimal) -> int:
    """Money in minor units (fen): the solver counts integers."""
    return int((amount * 100).to_integral_value(ROUND_HALF_UP))


def on_call_of(
    engineer: opt.Engineer, windows: tuple[tuple[int, int], ...], rules: LabourRules
) -> opt.OnCall:
    """The engineer on call in ``windows`` as the optimizer wakes him: his rules' call-out
    cost, lead and severities (the one conversion of the snapshot and the simulator)."""
    return opt.OnCall(
        replace(engineer, shifts=windows),
        cost=minor(rules.callout_cost),
        lead_s=rules.callout_lead_min * MIN_S,
        max_rank=rules.callout_max_rank,
    )


def solver_fields(
    rules: LabourRules, *, used_day_s: int = 0, used_week_s: int = 0
) -> dict[str, Any]:
    """The optimizer `Engineer` fields the rules decide (the one conversion of all callers)."""
    return {
        "overtime_s": overtime_allowance_s(rules, used_day_s=used_day_s, used_week_s=used_week_s),
        "start_into_overtime": rules.start_into_overtime,
        "overtime_cost_per_hour": minor(rules.overtime_cost_per_hour),
        "overtime_cap": overtime_cap(rules, used_day_s=used_day_s, used_week_s=used_week_s),
    }
