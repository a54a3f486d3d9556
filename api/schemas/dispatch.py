"""Wire schemas of dispatch decisions: recommendations with their explanations.

The solver counts time in second offsets from the snapshot's epoch; here every instant
becomes an ISO 8601 timestamp, every duration minutes and every distance kilometres.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_core import to_json

from api.schemas.common import Id, Instant, Timestamp, timestamp_text
from api.schemas.ticket import StrictModel
from optimizer import ExclusionReason, Option

MAX_OPTIONS = 20


class RecommendationRequest(StrictModel):
    ticket_id: Id
    as_of: Instant | None = Field(None, description="plan as of this time (default: now)")
    limit: int = Field(5, ge=1, le=MAX_OPTIONS, description="how many ranked options")
    explain: bool = Field(
        True,
        description="include excluded engineers, the engineers the search did not reach"
        " (unpriced), suggestions and a loaner proposal",
    )
    engineer_id: Id | None = Field(
        None,
        description="also price this engineer in full, ranked or not (`asked`): the only way"
        " to get a price for an engineer in `unreached`",
    )


class PartUseRead(BaseModel):
    line_part_id: int
    part_id: int
    qty: int
    substitute: bool


class PartsPlanRead(BaseModel):
    source: str = Field(description="none, van, pickup or shipment")
    depot_id: int | None
    depot_name: str | None
    supplier_id: int | None
    pickup_at: Timestamp | None
    ships_at: Timestamp | None
    ship_by: Timestamp | None
    part_arrives_at: Timestamp | None
    uses: list[PartUseRead]


class PromiseRead(BaseModel):
    promise: str = Field(description="depart, arrival, fix, swap or ship")
    deadline: Timestamp
    at: Timestamp
    kept: bool
    slack_min: int = Field(description="minutes to spare; negative: late")
    cost: float = Field(
        description="what this clock adds to the option's cost (contract currency): 0 when"
        " kept with the at-risk margin to spare, a share when kept only just, the clock's"
        " penalty and more per hour late when broken"
    )


class OptionRead(BaseModel):
    rank: int
    engineer_id: int
    engineer_name: str
    dedicated: bool
    departs_at: Timestamp
    arrives_at: Timestamp
    fixes_at: Timestamp
    keeps_all_promises: bool
    lateness_min: int
    cost: float = Field(
        description="what the ranking minimises (contract currency): the clocks' penalties,"
        " travel at the engineer's rates, overtime at his labour rules' rate and a call-out's"
        " cost"
    )
    overtime_min: int = Field(description="how far the visit runs past his shift's end")
    kind: Literal["working", "call_out"] = Field(
        description="working: an engineer at work; call_out: an on-call engineer woken for"
        " this ticket at his labour rules' call-out cost"
    )
    callout_cost: float = Field(description="the call-out's cost (0 for a working engineer)")
    travel_min: float
    travel_km: float
    parts: PartsPlanRead
    promises: list[PromiseRead]
    reason: str


class ExcludedRead(BaseModel):
    engineer_id: int
    engineer_name: str
    reason: str = Field(description="skill, shift, busy, too_far or parts")
    detail: str
    free_at: Timestamp | None


class UnreachedEngineerRead(BaseModel):
    engineer_id: int
    engineer_name: str
    travel_min: float = Field(description="his straight drive to the site")


class UnreachedRead(BaseModel):
    """Candidates the search stopped before: reported once, together, and not priced."""

    count: int
    reason: Literal["unreached"] = "unreached"
    detail: str = Field(
        description="why the search stopped before them: its bound against the options found"
    )
    cost_at_least: float = Field(
        description="the least any of them could cost (contract currency): the search's bound"
    )
    arrives_from: Timestamp = Field(description="the earliest any of them could arrive")
    engineers: list[UnreachedEngineerRead] = Field(
        description="the most promising first; ask for one with engineer_id to price him"
    )


class AskedRead(BaseModel):
    """The engineer asked for with engineer_id, priced in full: his option, or why he has none."""

    engineer_id: int
    engineer_name: str
    option: OptionRead | None = Field(
        description="his plan; rank 0 when it is not among the ranked options"
    )
    excluded: ExcludedRead | None = Field(description="why he has no plan, when he has none")


class SuggestionRead(BaseModel):
    kind: str
    text: str
    engineer_id: int | None
    depot_id: int | None
    minutes: int | None
    at: Timestamp | None


class LoanerRead(BaseModel):
    part_id: int
    depot_id: int
    depot_name: str | None
    arrives_at: Timestamp
    travel_min: float


class RecommendationRead(BaseModel):
    ticket_id: int
    as_of: Timestamp
    keepable: bool = Field(description="some option keeps every promise")
    options: list[OptionRead]
    excluded: list[ExcludedRead] | None = Field(description="null unless explain=true")
    unreached: UnreachedRead | None = Field(
        description="null unless explain=true, or when the search priced every candidate"
    )
    suggestions: list[SuggestionRead] | None
    loaner: LoanerRead | None
    asked: AskedRead | None = Field(description="the engineer of engineer_id, priced in full")

    @classmethod
    def build(
        cls, result: Any, *, as_of: Any, explain: bool, asked: Any = None
    ) -> RecommendationRead:
        """Translate a `dispatch.recommend.TicketRecommendation` into wire form (``asked``:
        `dispatch.recommend.price_engineer`'s answer)."""
        snap, rec = result.snapshot, result.recommendation
        excluded = None
        if explain:
            excluded = [ExcludedRead(**row) for row in _excluded_rows(rec, snap, _when(snap))]
        return cls._assemble(result, as_of=as_of, explain=explain, asked=asked, excluded=excluded)

    @classmethod
    def json_of(cls, result: Any, *, as_of: Any, explain: bool, asked: Any = None) -> bytes:
        """`build`'s answer as JSON bytes, the excluded engineers written as plain rows.

        1,400-1,800 of them per ticket on the large world: a validated model each cost more
        CPU than the recommendation itself. The rows are `build`'s own (`_excluded_rows`),
        instants through `timestamp_text` (the display zone), and tests/api compare the two
        answers byte for byte.
        """
        snap, rec = result.snapshot, result.recommendation
        body = cls._assemble(result, as_of=as_of, explain=explain, asked=asked, excluded=None)
        wire = body.model_dump(mode="json")
        if explain:
            at = snap.at
            wire["excluded"] = _excluded_rows(
                rec, snap, lambda offset: None if offset is None else timestamp_text(at(offset))
            )
        return to_json(wire)

    @classmethod
    def _assemble(
        cls, result: Any, *, as_of: Any, explain: bool, asked: Any, excluded: Any
    ) -> RecommendationRead:
        """Everything but the excluded engineers, which the caller passes in."""
        from dispatch.recommend import named_text

        snap, rec = result.snapshot, result.recommendation
        at, when = snap.at, _when(snap)
        options = [_option(o, snap, when) for o in rec.options]
        suggestions = loaner = unreached = None
        if explain:
            unreached = _unreached(rec.unreached, snap)
            suggestions = [
                SuggestionRead(
                    kind=str(s.kind),
                    text=named_text(snap, s),
                    engineer_id=s.engineer_id,
                    depot_id=s.depot_id,
                    minutes=s.minutes,
                    at=when(s.at),
                )
                for s in rec.suggestions
            ]
            if rec.loaner is not None:
                ln = rec.loaner
                loaner = LoanerRead(
                    part_id=ln.part_id,
                    depot_id=ln.depot_id,
                    depot_name=snap.depot_names.get(ln.depot_id),
                    arrives_at=at(ln.arrives_at),
                    travel_min=ln.travel_s / 60,
                )
        return cls(
            ticket_id=rec.ticket_id,
            as_of=as_of,
            keepable=rec.keepable,
            options=options,
            excluded=excluded,
            unreached=unreached,
            suggestions=suggestions,
            loaner=loaner,
            asked=None if asked is None else _asked(asked, snap, when),
        )


def _when(snap: Any) -> Any:
    """An offset on the snapshot's time axis as an instant (None stays None)."""
    at = snap.at

    def when(offset: int | None) -> Any:
        return None if offset is None else at(offset)

    return when


def _excluded_rows(rec: Any, snap: Any, when: Any) -> list[dict[str, Any]]:
    """`ExcludedRead`'s fields of every excluded engineer, in order (``when``: an offset's
    instant as the caller writes it)."""
    names = snap.engineer_names
    lacking, skill = rec.lacking_skill, str(ExclusionReason.SKILL)
    details = lacking.details
    rows = [
        {"engineer_id": e, "engineer_name": names.get(e, ""), "reason": skill,
         "detail": details[k], "free_at": None}
        for e, k in zip(lacking.engineer_ids, lacking.which, strict=True)
    ]  # fmt: skip
    rows.extend(
        {"engineer_id": x.engineer_id, "engineer_name": names.get(x.engineer_id, ""),
         "reason": str(x.reason), "detail": x.detail, "free_at": when(x.free_at)}
        for x in rec.excluded_otherwise
    )  # fmt: skip
    return rows


def _excluded(x: Any, snap: Any, when: Any) -> ExcludedRead:
    return ExcludedRead(
        engineer_id=x.engineer_id,
        engineer_name=snap.engineer_names.get(x.engineer_id, ""),
        reason=str(x.reason),
        detail=x.detail,
        free_at=when(x.free_at),
    )


def _unreached(found: Any, snap: Any) -> UnreachedRead | None:
    """An `optimizer.Unreached` in wire form: one entry for the whole group."""
    if found is None:
        return None
    names = snap.engineer_names
    return UnreachedRead(
        count=len(found.engineer_ids),
        detail=found.detail,
        cost_at_least=found.cost_at_least / 100,
        arrives_from=snap.at(found.arrives_from),
        engineers=[
            UnreachedEngineerRead(engineer_id=e, engineer_name=names.get(e, ""), travel_min=s / 60)
            for e, s in zip(found.engineer_ids, found.travel_s, strict=True)
        ],
    )


def _asked(priced: Any, snap: Any, when: Any) -> AskedRead:
    """An engineer priced on request: an `optimizer.Option` or an `optimizer.Exclusion`."""
    name = snap.engineer_names.get(priced.engineer_id, "")
    if isinstance(priced, Option):
        option = _option(priced, snap, when)
        return AskedRead(
            engineer_id=priced.engineer_id, engineer_name=name, option=option, excluded=None
        )
    excluded = _excluded(priced, snap, when)
    return AskedRead(
        engineer_id=priced.engineer_id, engineer_name=name, option=None, excluded=excluded
    )


def _option(o: Any, snap: Any, when: Any) -> OptionRead:
    p = o.parts
    parts = PartsPlanRead(
        source=str(p.source),
        depot_id=p.depot_id,
        depot_name=snap.depot_names.get(p.depot_id) if p.depot_id else None,
        supplier_id=p.supplier_id,
        pickup_at=when(p.pickup_at),
        ships_at=when(p.ships_at),
        ship_by=when(p.ship_by),
        part_arrives_at=when(p.part_arrives_at),
        uses=[
            PartUseRead(
                line_part_id=u.line_part_id, part_id=u.part_id, qty=u.qty, substitute=u.substitute
            )
            for u in p.uses
        ],
    )
    promises = [
        PromiseRead(
            promise=str(c.promise),
            deadline=when(c.deadline),
            at=when(c.at),
            kept=c.kept,
            slack_min=c.slack_min,
            cost=c.cost / 100,
        )
        for c in o.promises
    ]
    return OptionRead(
        rank=o.rank,
        engineer_id=o.engineer_id,
        engineer_name=snap.engineer_names.get(o.engineer_id, ""),
        dedicated=o.dedicated,
        departs_at=when(o.departs_at),
        arrives_at=when(o.arrives_at),
        fixes_at=when(o.fixes_at),
        keeps_all_promises=o.keeps_all,
        lateness_min=o.lateness_s // 60,
        cost=o.cost / 100,
        overtime_min=-(-o.overtime_s // 60),
        kind="call_out" if o.callout else "working",
        callout_cost=o.callout_cost / 100,
        travel_min=round(o.travel_s / 60, 1),
        travel_km=round(o.travel_m / 1000, 2),
        parts=parts,
        promises=promises,
        reason=o.reason,
    )


class AssignmentRequest(StrictModel):
    ticket_id: Id
    engineer_id: Id
    as_of: Instant | None = Field(None, description="decide as of this time (default: now)")
    pinned: bool = Field(
        True,
        description="re-planning keeps a pinned assignment with its engineer (the default for"
        " a dispatcher's choice); false lets the next region plan move it",
    )


class WithdrawRequest(StrictModel):
    reason: str = Field(
        min_length=1, max_length=500, description="why he cannot go on (logged on the ticket)"
    )


class RoomApply(StrictModel):
    """The room as offered (`GET .../room`): refused with 409 if it is not offered now."""

    engineer_id: Id = Field(description="takes the ticket")
    moved_assignment_id: Id = Field(description="his next visit, which moves")
    moved_to: Id = Field(description="the colleague it moves to (a divert: maybe himself)")
    kind: Literal["room", "divert"] = Field("room", description="as offered")


class MoveAccept(StrictModel):
    to_engineer_id: int = Field(description="the engineer the proposal names (409 if no longer)")


class AssignmentRead(BaseModel):
    id: int
    ticket_id: int
    ticket_code: str | None = None
    engineer_id: int
    engineer_name: str | None = None
    status: str
    departs_at: Timestamp
    arrives_at: Timestamp
    fixes_at: Timestamp
    parts_source: str
    depot_id: int | None
    supplier_id: int | None
    shipment_id: int | None
    pinned: bool
    reservation_ids: list[int] = Field(default_factory=list)
    option: OptionRead | None = None

    @classmethod
    def confirmed(cls, done: Any) -> AssignmentRead:
        """From `dispatch.assign.Confirmed`: the row, its holds and the option it realises."""
        a, snap = done.assignment, done.result.snapshot

        def when(offset: int | None) -> Any:
            return None if offset is None else snap.at(offset)

        return cls(
            **_assignment_fields(a),
            **_assignment_names([a])[0],
            reservation_ids=list(done.reservation_ids),
            option=_option(done.option, snap, when),
        )

    @classmethod
    def of(cls, a: Any) -> AssignmentRead:
        return cls.many([a])[0]

    @classmethod
    def many(cls, rows: list[Any]) -> list[AssignmentRead]:
        """Rows with the ticket's code and the engineer's name (two queries for them all)."""
        return [
            cls(**_assignment_fields(a), **names)
            for a, names in zip(rows, _assignment_names(rows), strict=True)
        ]


def _assignment_names(rows: list[Any]) -> list[dict[str, str | None]]:
    """The ticket code and engineer name of each row, from the rows' own session."""
    from sqlalchemy.orm import object_session

    from dispatch.names import engineer_names, ticket_codes

    session = object_session(rows[0]) if rows else None
    if session is None:
        return [{} for _ in rows]
    codes = ticket_codes(session, (a.ticket_id for a in rows))
    names = engineer_names(session, (a.engineer_id for a in rows))
    return [
        {"ticket_code": codes.get(a.ticket_id), "engineer_name": names.get(a.engineer_id)}
        for a in rows
    ]


def _assignment_fields(a: Any) -> dict[str, Any]:
    names = ("id", "ticket_id", "engineer_id", "departs_at", "arrives_at", "fixes_at",
             "parts_source", "depot_id", "supplier_id", "shipment_id", "pinned")  # fmt: skip
    return {n: getattr(a, n) for n in names} | {"status": str(a.status)}


class PublishRead(BaseModel):
    plan_id: int
    stage: str
    assigned: list[int] = Field(description="tickets (re)assigned by this plan")
    kept: list[int] = Field(description="tickets whose pinned assignment already matched")
    superseded_plan_id: int | None


class AssignmentCheckRequest(StrictModel):
    ticket_id: Id
    engineer_id: Id
    as_of: Instant | None = Field(None, description="check as of this time (default: now)")


class AssignmentCheckRead(BaseModel):
    ticket_id: int
    engineer_id: int
    allowed: bool = Field(description="confirming him now would be accepted")
    refusal: str | None = Field(description="why not: skill, shift, parts, promises, status")
    excluded: ExcludedRead | None = Field(description="the recommendation's reason, if any")
    option: OptionRead | None = Field(description="what confirming him would write")
    next_best: dict[str, Any] | None

    @classmethod
    def build(cls, check: Any) -> AssignmentCheckRead:
        """From a `dispatch.assign.AssignmentCheck`."""
        option = excluded = None
        if check.result is not None:
            snap = check.result.snapshot

            def when(offset: int | None) -> Any:
                return None if offset is None else snap.at(offset)

            if check.option is not None:
                option = _option(check.option, snap, when)
            priced = check.result.recommendation.priced(check.engineer_id)
            if priced is not None and not isinstance(priced, Option):
                excluded = _excluded(priced, snap, when)
        return cls(
            ticket_id=check.ticket_id, engineer_id=check.engineer_id,
            allowed=check.option is not None, refusal=check.refusal, excluded=excluded,
            option=option, next_best=check.next_best,
        )  # fmt: skip


class RoomRead(BaseModel):
    """Room made for an open ticket's arrival (`dispatch.room`, issue 16): a nearby
    engineer's next visit goes to a colleague who keeps its clocks, he takes the ticket
    (kind "room"); or an engineer driving to a visit is diverted to the ticket first, that
    visit going to a colleague or back to him after it (kind "divert")."""

    kind: Literal["room", "divert"] = Field(
        description="room: his next visit (not departed) moves; divert: he is stopped on "
        "the road to that visit, which goes to moved_to (him: after the ticket)"
    )
    ticket_id: int
    engineer_id: int = Field(description="takes the ticket, in place of his next visit")
    engineer_name: str
    departs_at: Timestamp
    arrives_at: Timestamp = Field(description="within the ticket's arrival promise")
    moved_ticket_id: int
    moved_ticket_code: str
    moved_assignment_id: int = Field(
        description="his next visit, not departed yet (divert: the one he drives to)"
    )
    moved_to: int = Field(
        description="the colleague who keeps that visit's clocks (divert: maybe himself)"
    )
    moved_to_name: str
    moved_departs_at: Timestamp
    moved_arrives_at: Timestamp
    cost: int = Field(description="fen: both plans' cost, net of keeping the visit's plan")
    best_cost: int | None = Field(description="fen: the best option's without the move")


class MoveRead(BaseModel):
    """A visit not departed yet that another engineer would serve better (issue 16)."""

    ticket_id: int
    assignment_id: int
    from_engineer_id: int
    to_engineer_id: int
    to_engineer: str = Field(description="'engineer NAME (CODE)': he may be of another region")
    departs_at: Timestamp = Field(description="when the other engineer would set off")
    arrives_at: Timestamp
    keep_cost: int = Field(description="fen: the clocks' penalties if the plan is kept")
    move_cost: int = Field(description="fen: the move's cost (penalties, travel, overtime)")
    late_min: int = Field(description="how late the planned engineer would arrive (0: kept)")
    pinned: bool = Field(description="pinned to its engineer: accepting answers 409")
    text: str = Field(description="what the dispatcher reads on his worklist")


class RoomAppliedRead(BaseModel):
    """Both reassignments, written in one transaction."""

    taken: AssignmentRead = Field(description="the ticket's assignment")
    moved: AssignmentRead = Field(description="the moved visit's new assignment")
