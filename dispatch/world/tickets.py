"""A handful of open tickets, reported shortly before the reference instant."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from db.identity import Role
from dispatch.intake import CODE_DIGITS, ticket_code
from dispatch.promises import SeverityOffsets, compute_deadlines
from dispatch.world.catalogue import Catalogue
from dispatch.world.catalogue_data import FAULT_CLASSES
from dispatch.world.model import Row
from dispatch.world.policies import POLICIES, SeveritySpec

CHANNELS = ("phone", "web", "email", "remote")
CHANNEL_P = (0.5, 0.2, 0.1, 0.2)
# Chance of each severity rank, most urgent first, by how many ranks a policy has.
SEVERITY_P = {3: (0.2, 0.35, 0.45), 4: (0.15, 0.3, 0.35, 0.2)}
REPORTED_WITHIN_MIN = 180  # reported 5 min to 3 h before the reference instant
PART_SHARE = 0.4  # tickets that already say which part they need
FAULTS = len(FAULT_CLASSES) - 1  # open faults: every class but the preventive inspection


def ticket_tables(
    count: int,
    tables: dict[str, list[Row]],
    catalogue: Catalogue,
    now: datetime,
    rng: np.random.Generator,
) -> dict[str, list[Row]]:
    """Rows of tickets, their needs and their service-log line; ids ordered by report time."""
    assets, sites, contracts = tables["assets"], tables["sites"], tables["contracts"]
    count = min(count, len(assets))
    chosen = rng.choice(len(assets), size=count, replace=False).tolist()
    ago = np.sort(rng.integers(5, REPORTED_WITHIN_MIN + 1, size=count))[::-1].tolist()
    u_sev, u_part, u_pick = rng.random((3, count)).tolist()
    faults = rng.integers(0, FAULTS, size=count).tolist()
    channels = rng.choice(len(CHANNELS), size=count, p=CHANNEL_P).tolist()
    dispatcher = next(u["id"] for u in tables["users"] if u["role"] == Role.DISPATCHER)
    # Drawn last, so the draws above give the same tickets as before codes were random.
    codes = [ticket_code(int(n)) for n in rng.integers(0, 16**CODE_DIGITS, size=count)]
    out: dict[str, list[Row]] = {
        "tickets": [],
        "ticket_skills": [],
        "ticket_parts": [],
        "service_log": [],
    }
    for i, a in enumerate(chosen):
        asset = assets[a]
        site = sites[asset["site_id"] - 1]
        policy = POLICIES[contracts[site["contract_id"] - 1]["policy_id"] - 1]
        ranks = np.cumsum(SEVERITY_P[len(policy.severities)])
        severity = policy.severities[int(np.searchsorted(ranks, u_sev[i]))]
        model = asset["product_model_id"] - 1
        line = int(catalogue.model_line[model])
        ticket_type = catalogue.tables["ticket_types"][line * len(FAULT_CLASSES) + faults[i]]
        reported = now - timedelta(minutes=ago[i])
        ticket = _ticket_row(i + 1, codes[i], asset, site, ticket_type, severity, reported)
        ticket.update(channel=CHANNELS[channels[i]], created_by_id=dispatcher)
        out["tickets"].append(ticket)
        # As at intake (dispatch.tickets): the ticket type's skill unless told otherwise.
        out["ticket_skills"].append(
            {
                "ticket_id": i + 1,
                "product_line_id": line + 1,
                "min_level": ticket_type["required_level"],
            }
        )
        out["service_log"].append(_created_log(i + 1, reported, dispatcher))
        fitting = catalogue.model_parts[model]
        if fitting and u_part[i] < PART_SHARE:
            part = fitting[int(u_pick[i] * len(fitting))]
            out["ticket_parts"].append({"ticket_id": i + 1, "part_id": part, "quantity": 1})
    return out


def _ticket_row(
    ticket_id: int,
    code: str,
    asset: Row,
    site: Row,
    ticket_type: Row,
    severity: SeveritySpec,
    reported: datetime,
) -> Row:
    """A new ticket whose deadlines count from `reported`, by intake's own rule."""
    deadlines = compute_deadlines(
        reported,
        SeverityOffsets(
            respond_min=severity.respond_min,
            depart_min=severity.depart_min,
            arrive_min=severity.arrive_min,
            fix_min=severity.fix_min,
        ),
    )
    return {
        "id": ticket_id,
        "code": code,  # intake's style (dispatch.intake.ticket_code)
        "site_id": site["id"],
        "asset_id": asset["id"],
        "ticket_type_id": ticket_type["id"],
        "severity": severity.code,
        "channel": None,
        "status": "new",
        "description": f"{ticket_type['name']} on {asset['serial']} at {site['name']}",
        "reported_at": reported,
        "respond_by": deadlines.respond_by,
        "depart_by": deadlines.depart_by,
        "arrive_by": deadlines.arrive_by,
        "fix_by": deadlines.fix_by,
        "created_by_id": None,
        "created_at": reported,
    }


def _created_log(ticket_id: int, at: datetime, user: int) -> Row:
    """The service-log line intake writes; the demo dispatcher took every call in."""
    return {
        "id": ticket_id,
        "ticket_id": ticket_id,
        "at": at,
        "user_id": user,
        "kind": "created",
        "from_status": None,
        "to_status": "new",
        "reason": None,
        # No "details": a None there would be stored as JSON 'null', not SQL NULL.
    }
