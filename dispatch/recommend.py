"""Who goes to this ticket: the solver's ranked options on a fresh snapshot, with names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy.orm import Session

import optimizer as opt
from dispatch.errors import InvalidTicketError, NotFoundError
from dispatch.lifecycle import OPEN_STATUSES
from dispatch.models import Site, Ticket, TicketStatus
from dispatch.snapshot import Snapshot, asked_view, load_snapshot, reused_job
from inventory.localtime import region_zone

MAX_OPTIONS = 20


@dataclass(frozen=True, eq=False)
class TicketRecommendation:
    """A recommendation with the snapshot that produced it (to turn offsets into times)."""

    snapshot: Snapshot
    job: opt.Ticket
    recommendation: opt.Recommendation
    zone: tzinfo  # the zone its texts state times in


def recommend_ticket(
    session: Session,
    *,
    ticket_id: int,
    now: datetime,
    travel: opt.TravelTimes,
    limit: int = 5,
    snapshot: Snapshot | None = None,
    zone: tzinfo | None = None,
) -> TicketRecommendation:
    """Rank the engineers who could take an open ticket, as of `now`.

    `snapshot`: one of the whole world to share (the API's cache, the re-dispatch tick's);
    an assigned ticket reads it without its own booking (`dispatch.snapshot.asked_view`).
    The explanations state times in `zone` (default: the zone of the ticket's region).
    """
    if not 1 <= limit <= MAX_OPTIONS:
        raise InvalidTicketError("limit", f"must be within 1..{MAX_OPTIONS}, got {limit}")
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFoundError("ticket", ticket_id)
    if ticket.status not in OPEN_STATUSES:
        raise InvalidTicketError(
            "ticket_id", f"ticket {ticket_id} is {ticket.status}: only open tickets get options"
        )
    if ticket.status is TicketStatus.ASSIGNED:
        # Asked again who goes: its own booking and holds do not count against it (issue 17).
        if snapshot is None:
            snap = load_snapshot(session, now=now, asked=ticket_id)
        else:
            snap = asked_view(session, snapshot, ticket_id, now=now)
    else:
        snap = snapshot if snapshot is not None else load_snapshot(session, now=now)
    job = reused_job(session, snap, ticket_id)
    if zone is None:
        site = session.get(Site, ticket.site_id)
        assert site is not None  # a foreign key
        zone = region_zone(session, site.region_id)
    assert job.ship_within_s is not None  # job_for sets the contract's ship promise
    params = opt.RecommendParams(max_options=limit, ship_within_s=job.ship_within_s, zone=zone)
    rec = opt.recommend(snap.world, job, now=snap.offset(now), travel=travel, params=params)
    return TicketRecommendation(snap, job, rec, zone)


def price_engineer(found: TicketRecommendation, engineer_id: int) -> opt.Option | opt.Exclusion:
    """One engineer priced in full for the ticket, ranked or not: his option (rank 0 when it
    is not among the ranked ones) or why he has none.

    The dispatcher's explicit ask: the explanations never price an engineer the search did
    not reach (`opt.Recommendation.unreached`), so this is how one of them gets a price.
    """
    priced = found.recommendation.priced(engineer_id)
    if priced is None:
        raise InvalidTicketError(
            "engineer_id", f"engineer {engineer_id} is not in the dispatch world"
        )
    return priced


def named_text(snap: Snapshot, suggestion: opt.Suggestion) -> str:
    """The suggestion's words with the engineer's and the depot's names next to their ids.

    The optimizer is pure and knows ids only; a dispatcher reads names (issue 17).
    """
    text = suggestion.text
    who, depot = suggestion.engineer_id, suggestion.depot_id
    if who is not None and (name := snap.engineer_names.get(who)):
        text = text.replace(f"engineer {who} ", f"engineer {name} ({who}) ", 1)
    if depot is not None and (name := snap.depot_names.get(depot)):
        text = text.replace(f"depot {depot} ", f"depot {name} ({depot}) ", 1)
    return text
