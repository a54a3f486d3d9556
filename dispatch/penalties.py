"""A policy severity's clock penalties as the optimizer's `ClockPenalties` (fen).

Production (`dispatch.snapshot.job_for`) and the simulator (`scenarios.base`) convert the
stored penalties here, so both price the same broken promise the same way. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from dispatch.labour import minor
from optimizer.penalties import ClockPenalties, default_penalties

CLOCKS = ("respond", "depart", "arrive", "fix", "swap", "ship")


def _get(row: Mapping[str, Any] | Any, name: str) -> Any:
    return row.get(name) if isinstance(row, Mapping) else getattr(row, name, None)


def clock_penalties(
    severity: Mapping[str, Any] | Any, policy: Mapping[str, Any] | Any
) -> ClockPenalties:
    """The penalties of a severity row (ORM or dict) under its policy row, in fen.

    A missing penalty (a bundle written before penalties existed) takes the documented
    default of the severity's rank.
    """
    rank = int(_get(severity, "rank") or 1)
    default = default_penalties(rank - 1)
    fen = {}
    for clock in CLOCKS:
        value = _get(severity, f"{clock}_penalty")
        fen[clock] = getattr(default, clock) if value is None else minor(Decimal(value))
    late = _get(policy, "late_penalty_pct_per_hour")
    risk = _get(policy, "at_risk_penalty_pct")
    margin = _get(policy, "at_risk_margin_min")
    slack = _get(policy, "slack_min")
    return ClockPenalties(
        **fen,
        late_pct_per_hour=default.late_pct_per_hour if late is None else int(late),
        at_risk_pct=default.at_risk_pct if risk is None else int(risk),
        at_risk_margin_s=default.at_risk_margin_s if margin is None else int(margin) * 60,
        slack_s=default.slack_s if slack is None else int(slack) * 60,
    )
