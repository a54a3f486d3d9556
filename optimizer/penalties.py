"""What a broken promise costs: one price per clock, so that every clock counts on one scale.

A ticket's promise clocks (respond, depart, arrive, fix, and its parts: swap in stock, ship
what is not) each carry a penalty from the contract's policy and the ticket's severity, in
integer minor currency units (fen), like the engineers' hour and km rates. The ranking of
`optimizer.recommend` and the route cost of `optimizer.plan` add the penalties of the clocks
an option breaks (and a share for those it keeps only just) to its travel and overtime cost,
instead of adding minutes late across clocks, which made one minute of a lost depart clock
weigh as much as one minute of a lost fix.

`clock_cost` is the one rule: kept with at least the at-risk margin to spare costs nothing;
kept inside the margin costs ``at_risk_pct`` % of the penalty; broken costs the penalty
plus ``late_pct_per_hour`` % of it per hour late (so a plan that breaks a clock by less is
still preferred). It only grows with the event's time, which the exact best-first search of
`optimizer.recommend` relies on (a lower bound of the time gives a lower bound of the cost).
"""

from __future__ import annotations

from dataclasses import dataclass


def _require(ok: bool, name: str, message: str) -> None:
    if not ok:
        raise ValueError(f"{name}: {message}")


@dataclass(frozen=True, slots=True)
class ClockPenalties:
    """The price of each promise clock of one ticket (contract policy x severity), in fen.

    Parameters
    ----------
    respond, depart, arrive, fix
        Charged when that clock is broken.
    swap
        Charged when a part in stock (van or depot) is not swapped by the swap promise.
    ship
        Charged when a part not in stock does not leave its source by the ship promise.
    late_pct_per_hour
        Each hour late adds this share (%) of the clock's penalty.
    at_risk_pct
        A clock kept with less than ``at_risk_margin_s`` to spare costs this share (%).
    at_risk_margin_s
        The at-risk margin of the contract (domain default 15 min).
    slack_s
        The slack a visit that follows another job keeps before its depart, arrive and fix
        clocks (the job before may overrun, and the visit leaves, arrives and ends later
        with it): kept with less costs the at-risk share too (`clock_cost` with
        ``after_job``; documented default 30 min). So an engineer free now, who departs at
        once, ranks before one who finishes a job just before the depart deadline.
    """

    respond: int = 0
    depart: int = 0
    arrive: int = 0
    fix: int = 0
    swap: int = 0
    ship: int = 0
    late_pct_per_hour: int = 25
    at_risk_pct: int = 10
    at_risk_margin_s: int = 900
    slack_s: int = 1_800

    def margin_s(self, after_job: bool) -> int:
        """The at-risk margin of a clock: at least the slack when a job comes before it."""
        return max(self.at_risk_margin_s, self.slack_s) if after_job else self.at_risk_margin_s

    def __post_init__(self) -> None:
        for name in (
            "respond", "depart", "arrive", "fix", "swap", "ship", "late_pct_per_hour",
            "at_risk_pct", "at_risk_margin_s", "slack_s",
        ):  # fmt: skip
            value = getattr(self, name)
            _require(value >= 0, name, f"must be >= 0, got {value}")


# The documented defaults (README "Promise penalties", domain.md): CNY 1,000 for a lost
# urgent arrival or fix, less for less severe tickets; rank 0 = urgent, 1 = serious,
# 2 and below = general. A contract's policy overrides every number.
DEFAULT_PENALTIES: tuple[ClockPenalties, ...] = (
    ClockPenalties(respond=20_000, depart=50_000, arrive=100_000, fix=100_000, swap=50_000,
                   ship=30_000),
    ClockPenalties(respond=10_000, depart=30_000, arrive=60_000, fix=60_000, swap=30_000,
                   ship=20_000),
    ClockPenalties(respond=5_000, depart=10_000, arrive=30_000, fix=30_000, swap=20_000,
                   ship=10_000),
)  # fmt: skip


def default_penalties(severity_rank: int) -> ClockPenalties:
    """The documented default penalties of a severity rank (0 = most severe)."""
    return DEFAULT_PENALTIES[min(max(severity_rank, 0), len(DEFAULT_PENALTIES) - 1)]


def clock_cost(
    penalty: int, deadline: int | None, at: int, p: ClockPenalties, *, after_job: bool = False
) -> int:
    """The cost of an event at ``at`` against ``deadline`` for a clock priced ``penalty``.

    No deadline, or ``at`` at least the margin before it: 0. Inside the margin: the at-risk
    share (with ``after_job``, a depart, arrive or fix clock of a visit that follows another
    job, the margin is at least the slack: `ClockPenalties.margin_s`). Late by ``L`` seconds:
    ``penalty + penalty * late_pct_per_hour * L / 360_000`` (integer division), e.g.
    100,000 fen and 25 %/h, 30 min late: 100,000 + 12,500.
    """
    if deadline is None or penalty == 0:
        return 0
    late = at - deadline
    if late > 0:
        return penalty + penalty * p.late_pct_per_hour * late // 360_000
    if late > -p.margin_s(after_job):
        return penalty * p.at_risk_pct // 100
    return 0
