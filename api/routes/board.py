"""The reads behind the pages (and any other client): the board and paged lists."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import MASTER_DATA_READERS, NowDep, PageDep, SessionDep, requires
from api.schemas.board import (
    AssignmentFilterIn,
    BoardQuery,
    BoardRead,
    EngineerPositionRead,
    PickLineRead,
    PlanFilterIn,
    PlanSummaryRead,
    ReservationFilterIn,
    ShiftFilterIn,
    ShiftRead,
)
from api.schemas.common import EngineerFilter, IdPath, PageRead
from api.schemas.dispatch import AssignmentRead
from api.schemas.stock import ReservationRead
from db import Role
from dispatch import board, queries

router = APIRouter(tags=["board"])
DISPATCHERS = requires(Role.DISPATCHER, Role.ADMIN)
STOCK_READERS = requires(Role.DISPATCHER, Role.WAREHOUSE, Role.ADMIN)


@router.get("/dispatch/board", dependencies=[DISPATCHERS], response_model=BoardRead)
def read_board(
    session: SessionDep, now: NowDep, query: Annotated[BoardQuery, Query()], response: Response
) -> Response:
    """A region now: depots, engineers (position, status, today's windows), open tickets
    with their clocks and risk, active assignments, the latest published and draft plans."""
    # Written here, once: FastAPI would validate a built model again on the way out. The
    # headers the dependencies set (the Time-Zone label) are carried over by hand.
    found = board.read_board(session, region_id=query.region_id, now=now)
    written = Response(BoardRead.json_of(found), media_type="application/json")
    written.raw_headers.extend(h for h in response.raw_headers if h[0] != b"content-length")
    return written


@router.get("/dispatch/plans", dependencies=[DISPATCHERS])
def list_plans(
    session: SessionDep, page: PageDep, filters: Annotated[PlanFilterIn, Query()]
) -> PageRead[PlanSummaryRead]:
    """Plans in id order, without their routes (read one for those)."""
    found = board.list_plans(session, filters=board.PlanFilter(**filters.model_dump()),
                             after=page.after, limit=page.limit)  # fmt: skip
    return PageRead[PlanSummaryRead](
        items=[PlanSummaryRead.of(p) for p in found.items], next_after=found.next_after
    )


@router.get("/dispatch/assignments", dependencies=[DISPATCHERS])
def list_assignments(
    session: SessionDep, page: PageDep, filters: Annotated[AssignmentFilterIn, Query()]
) -> PageRead[AssignmentRead]:
    """Assignments in id order: who goes where, when, with which parts, pinned or not."""
    found = board.list_assignments(
        session, filters=board.AssignmentFilter(**filters.model_dump()), after=page.after,
        limit=page.limit,
    )  # fmt: skip
    return PageRead[AssignmentRead](
        items=AssignmentRead.many(list(found.items)), next_after=found.next_after
    )


@router.get("/engineer-shifts", dependencies=[requires(*MASTER_DATA_READERS)])
def list_shifts(
    session: SessionDep, page: PageDep, filters: Annotated[ShiftFilterIn, Query()]
) -> PageRead[ShiftRead]:
    """Weekly shifts in id order, in the local time of the engineer's region."""
    found = board.list_shifts(session, region_id=filters.region_id,
                              engineer_id=filters.engineer_id, after=page.after,
                              limit=page.limit)  # fmt: skip
    return PageRead[ShiftRead].model_validate(found)


@router.get("/engineer-positions", dependencies=[DISPATCHERS])
def list_positions(
    session: SessionDep, page: PageDep, filters: Annotated[EngineerFilter, Query()]
) -> PageRead[EngineerPositionRead]:
    """Where engineers last reported being (null: not since he was added), in id order."""
    found = queries.list_engineers(
        session=session, after=page.after, limit=page.limit, **filters.model_dump()
    )
    return PageRead[EngineerPositionRead].model_validate(found)


@router.get("/reservations", dependencies=[STOCK_READERS])
def list_reservations(
    session: SessionDep, page: PageDep, filters: Annotated[ReservationFilterIn, Query()]
) -> PageRead[ReservationRead]:
    """Part holds in id order, with their expiry."""
    found = board.list_reservations(
        session, filters=board.ReservationFilter(**filters.model_dump()), after=page.after,
        limit=page.limit,
    )  # fmt: skip
    return PageRead[ReservationRead].model_validate(found)


@router.get("/depots/{depot_id}/pick-list", dependencies=[STOCK_READERS])
def pick_list(session: SessionDep, depot_id: IdPath) -> list[PickLineRead]:
    """The pickups the active (published or confirmed) assignments need here, in route order."""
    return [PickLineRead.of(line) for line in board.pick_list(session, depot_id=depot_id)]
