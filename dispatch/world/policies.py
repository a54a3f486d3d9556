"""Promise policies of the demo world: domain.md's default and the seeds' variants, as data."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from dispatch.labour import DEFAULT_LABOUR_RULES
from dispatch.models import InspectionFrequency
from dispatch.world.model import LOCAL_TIMEZONE, Row
from optimizer.bump import DIVERT_ENGINEERS, MAKE_ROOM_ENGINEERS
from optimizer.penalties import default_penalties
from optimizer.reassign import REDISPATCH_AFTER_MIN, REDISPATCH_EVERY_MIN

CLOCKS = ("respond", "depart", "arrive", "fix", "swap", "ship")


@dataclass(frozen=True, slots=True)
class SeveritySpec:
    """One severity of a policy; offsets in minutes after `reported_at`, None = no deadline."""

    code: str
    label: str
    respond_min: int | None
    depart_min: int | None
    arrive_min: int | None
    fix_min: int | None
    arrive_hard: bool  # False: the customer may agree a later appointment


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """A promise policy; severities are listed most urgent first (rank 1)."""

    code: str
    name: str
    warranty_years: int
    severities: tuple[SeveritySpec, ...]
    inspection: InspectionFrequency = InspectionFrequency.NONE
    at_risk_margin_min: int = 15
    swap_within_min: int = 120
    ship_within_min: int = 480


# domain.md, "Precise defaults" (seed 003): exactly that table. "Immediately" = 15 min,
# "at once" = 15 min; a general ticket departs at a time agreed with the customer.
DEFAULT_SEVERITIES = (
    SeveritySpec("urgent", "Urgent: system unusable, business stopped", 10, 15, 120, 240, True),
    SeveritySpec(
        "serious",
        "Serious: recurring fault, business affected or a deadline",
        15,
        60,
        120,
        240,
        True,
    ),
    SeveritySpec(
        "general", "General: occasional fault, no impact on use", 120, None, 120, 480, False
    ),
)

# Seed 000, lines 550-555: P1 product down, business impacted; P2 partly failing, degraded;
# P3 runs but reports errors; P4 improvement request or usage question. The seed gives no
# minutes ("phone support at once, ordinary questions the same day"), so these are ours.
PRIORITY_SEVERITIES = (
    SeveritySpec("P1", "P1: product down, business impacted", 60, None, 240, 1440, True),
    SeveritySpec(
        "P2", "P2: partly failing or degraded, business goes on", 240, None, 1440, 4320, False
    ),
    SeveritySpec("P3", "P3: works, but reports errors", 1440, None, None, 7200, False),
    SeveritySpec("P4", "P4: improvement request or usage question", 1440, None, None, None, False),
)

# Seed 000, lines 303-313: "arrive on site within 4 hours of the call, solve within 24 hours",
# one-year warranty from the day after acceptance. The same promise for every severity;
# only the answer time differs.
FOUR_HOUR_SEVERITIES = (
    SeveritySpec("urgent", "Urgent: system unusable", 15, None, 240, 1440, True),
    SeveritySpec("serious", "Serious: business affected", 30, None, 240, 1440, True),
    SeveritySpec("general", "General: no impact on use", 120, None, 240, 1440, False),
)

# Seed 000, lines 105 and 145: remote (rural) customers: "on site within 48-72 hours",
# two-year warranty. Urgent gets the 48 h end of that range, the rest 72 h (4,320 min).
RURAL_SEVERITIES = (
    SeveritySpec("urgent", "Urgent: system unusable", 30, None, 2880, 4320, True),
    SeveritySpec("serious", "Serious: business affected", 60, None, 4320, 5760, False),
    SeveritySpec("general", "General: no impact on use", 120, None, 4320, 7200, False),
)

ZERO = Decimal("0.00")
DEFAULT_POLICY = "default"
RURAL_POLICY = "rural-48-72h"

POLICIES: tuple[PolicySpec, ...] = (
    PolicySpec(DEFAULT_POLICY, "7x24, 2 h on site, 3-year warranty", 3, DEFAULT_SEVERITIES),
    # Seed 003 §7 (line 50) and line 136: monthly preventive inspection on site.
    PolicySpec(
        "default-monthly",
        "7x24, 2 h on site, monthly inspection",
        3,
        DEFAULT_SEVERITIES,
        inspection=InspectionFrequency.MONTHLY,
    ),
    # Seed 003 §7 (line 50): "every month and quarter"; the quarterly one goes with P1-P4.
    PolicySpec(
        "p1-p4",
        "P1-P4 priorities, quarterly inspection, 2-year warranty",
        2,
        PRIORITY_SEVERITIES,
        inspection=InspectionFrequency.QUARTERLY,
        swap_within_min=240,
    ),
    PolicySpec(
        "arrive4h-fix24h",
        "4 h on site, fixed within 24 h, 1-year warranty",
        1,
        FOUR_HOUR_SEVERITIES,
        swap_within_min=240,
    ),
    # A 2 h swap cannot be kept where the engineer may take 72 h to arrive.
    PolicySpec(
        RURAL_POLICY,
        "Remote sites: on site within 48-72 h, 2-year warranty",
        2,
        RURAL_SEVERITIES,
        swap_within_min=4320,
    ),
)

# Share of the non-rural contracts per policy (the rural policy is given out separately).
URBAN_POLICY_SHARES: dict[str, float] = {
    DEFAULT_POLICY: 0.6,
    "default-monthly": 0.1,
    "p1-p4": 0.15,
    "arrive4h-fix24h": 0.15,
}


def policy_rows() -> tuple[list[Row], list[Row]]:
    """Rows of `promise_policies` and `policy_severities`; ids follow `POLICIES` order."""
    policies: list[Row] = []
    severities: list[Row] = []
    for policy_id, spec in enumerate(POLICIES, start=1):
        policies.append(
            {
                "id": policy_id,
                "code": spec.code,
                "name": spec.name,
                "timezone": LOCAL_TIMEZONE,
                "currency": "CNY",
                "warranty_years": spec.warranty_years,
                "at_risk_margin_min": spec.at_risk_margin_min,
                "swap_within_min": spec.swap_within_min,
                "ship_within_min": spec.ship_within_min,
                "reservation_lifetime_min": 240,
                "frozen_horizon_min": 30,
                "eta_tolerance_min": 30,
                "inspection_window_days": 7,
                "inspection_frequency": spec.inspection,
                # The seeds charge no labour, travel or service fee under any policy.
                "labour_rate_per_hour": ZERO,
                "travel_rate_per_km": ZERO,
                "service_fee": ZERO,
                "late_penalty_pct_per_hour": 25,
                "at_risk_penalty_pct": 10,
                # dispatch.durations and the slack before promises: the documented defaults
                "plan_duration_pct": 50,
                "plan_min_jobs": 20,
                "plan_log_jobs": 2_000,
                "slack_min": 30,
                "redispatch_apply": False,  # moves are proposed to the dispatcher
                "redispatch_every_min": REDISPATCH_EVERY_MIN,  # the worker's tick
                "redispatch_after_min": REDISPATCH_AFTER_MIN,  # an overrun this long: move
                "make_room_engineers": MAKE_ROOM_ENGINEERS,  # asked to make room, nearest first
                "divert_engineers": DIVERT_ENGINEERS,  # drivers asked to take it first
            }
        )
        for rank, sev in enumerate(spec.severities, start=1):
            severities.append(
                {
                    "id": len(severities) + 1,
                    "policy_id": policy_id,
                    "code": sev.code,
                    "label": sev.label,
                    "rank": rank,
                    "respond_min": sev.respond_min,
                    "depart_min": sev.depart_min,
                    "arrive_min": sev.arrive_min,
                    "fix_min": sev.fix_min,
                    "arrive_hard": sev.arrive_hard,
                    **_penalties(rank),
                }
            )
    return policies, severities


def _penalties(rank: int) -> Row:
    """The documented default penalty of each clock for a rank (CNY)."""
    fen = default_penalties(rank - 1)
    return {f"{clock}_penalty": Decimal(getattr(fen, clock)) / 100 for clock in CLOCKS}


def labour_rule_rows(regions: list[Row]) -> list[Row]:
    """One row of labour rules per region, each the documented defaults (dispatch.labour)."""
    d = DEFAULT_LABOUR_RULES
    return [
        {
            "id": i,
            "code": f"labour-{region['code']}",
            "name": f"Labour rules of {region['name']}",
            "region_id": region["id"],
            "overtime_max_min": d.overtime_max_min,
            "start_into_overtime": d.start_into_overtime,
            "overtime_day_max_min": d.overtime_day_max_min,
            "overtime_week_max_min": d.overtime_week_max_min,
            "overtime_cost_per_hour": d.overtime_cost_per_hour,
            "callout_cost": d.callout_cost,
            "callout_max_rank": d.callout_max_rank,
            "callout_lead_min": d.callout_lead_min,
        }
        for i, region in enumerate(regions, start=1)
    ]


def policy_index(code: str) -> int:
    """Position of a policy in `POLICIES` (its id is this + 1)."""
    return next(i for i, spec in enumerate(POLICIES) if spec.code == code)
