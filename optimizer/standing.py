"""Where an engineer with no work in progress stands: one rule for production and simulator.

Issue 16: an engineer drives home when his shift ends, so the next shift window starts from
home, not from the site of the previous shift's last job. `dispatch.snapshot` applies it to
an engineer's last reported position (at ``position_at``), `scenarios.live` to the site his
last job left him at (at its end). Shifts are the plain working windows (no overtime): a job
that runs past the end sends him home as soon as it is done. The drive home is his own
time, not work travel (neither production nor the simulator counts it as a job's km).
"""

from __future__ import annotations

from collections.abc import Sequence

from optimizer.model import Location, Window


def heads_home_at(free_from: int, shifts: Sequence[Window]) -> int:
    """When an engineer free from `free_from` heads home: the end of the shift window he is
    in then, or `free_from` itself when he is off shift (a job ran past the end, a call-out)."""
    for start, end in shifts:
        if start <= free_from < end:
            return end
    return free_from


def standing_at(
    location: Location, since: int, home: Location, shifts: Sequence[Window], now: int
) -> Location:
    """Where an engineer with no work in progress is at `now`: at `location`, where he has
    been since `since`, until his shift ends (`heads_home_at`); at `home` after that."""
    return home if heads_home_at(since, shifts) <= now else location


def sets_off_from(
    location: Location, free_from: int, home: Location, shifts: Sequence[Window], depart: int
) -> Location:
    """Where an engineer free from `free_from` at `location` sets off for a visit departing
    at `depart`: straight on from `location` when he leaves at once (a chain of jobs, in
    overtime too) or within the shift he was free in; from `home` once he went home in
    between (`standing_at`). `optimizer.recommend` plans a departure in a later shift from
    home by this rule, and the simulator's engineers drive by it."""
    if depart <= free_from:
        return location
    return standing_at(location, free_from, home, shifts, depart)
