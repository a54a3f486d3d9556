"""The pages' reads: the board of a region, and the paged lists behind it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from api.schemas.board import BoardRead
from db import Role
from dispatch.assign import confirm_assignment
from dispatch.models import Absence, Assignment, Engineer, PromisePolicy, Ticket, TicketType
from optimizer import GeodesicTravelTimes
from tests.api.conftest import TestClient
from tests.api.plan_helpers import draft_plan
from tests.builders import key_for, make_user
from tests.dispatch.test_redispatch_overrun import _on_site
from tests.dispatch_world import make_dispatch_world
from tests.ticket_builders import T0

DISPATCHER = {"X-API-Key": key_for(Role.DISPATCHER)}


@dataclass
class Ids:
    region: int
    ticket: int
    depot: int
    part: int
    sku: str
    haizhu: int
    liwan: int
    yuexiu: int
    warehouse: dict[str, str]


@pytest.fixture
def ids(api_engine: Engine) -> Ids:
    with Session(api_engine) as s, s.begin():
        dw = make_dispatch_world(s)
        return Ids(dw.base.region.id, dw.ticket.id, dw.depot.id, dw.part.id, dw.part.sku,
                   dw.haizhu.id, dw.liwan.id, dw.yuexiu.id,
                   {"X-API-Key": f"spk_test_wh_{dw.base.site.id}"})  # fmt: skip


@pytest.fixture
def client(client: TestClient, app: FastAPI) -> TestClient:
    app.state.clock = lambda: T0  # 16:00 in Guangzhou: day shifts on, the night shift off
    return client


def _board(client: TestClient, region: int) -> dict:  # type: ignore[type-arg]
    response = client.get(f"/v1/dispatch/board?region_id={region}", headers=DISPATCHER)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_an_engineer_reported_away_reads_absent_not_idle_nor_off_shift(
    client: TestClient, ids: Ids, api_engine: Engine
) -> None:
    with Session(api_engine) as s, s.begin():
        s.add(Absence(engineer_id=ids.haizhu, starts_at=T0 - timedelta(hours=1),
                      ends_at=T0 + timedelta(hours=4), reason="sick"))  # fmt: skip
    status = {e["id"]: e["status"] for e in _board(client, ids.region)["engineers"]}
    assert status[ids.haizhu] == "absent"
    assert status[ids.yuexiu] == "idle"  # on shift and not away: unchanged
    assert status[ids.liwan] == "off_shift"


def test_the_board_shows_engineers_tickets_and_depots_of_the_region(
    client: TestClient, ids: Ids
) -> None:
    board = _board(client, ids.region)
    assert board["timezone"] == board["region"]["timezone"]
    assert board["now"] == "2026-11-02T16:00:00+08:00"  # in the region's zone
    status = {e["id"]: e["status"] for e in board["engineers"]}
    assert status[ids.haizhu] == "idle"
    assert status[ids.liwan] == "off_shift"  # works nights
    haizhu = next(e for e in board["engineers"] if e["id"] == ids.haizhu)
    assert haizhu["windows"], "today's shift is a lane band"
    assert haizhu["skills"]
    assert all(k["product_line_code"] and k["product_line_name"] for k in haizhu["skills"])
    (ticket,) = board["tickets"]
    assert ticket["id"] == ids.ticket
    assert ticket["risk"] in ("on_time", "at_risk", "breached")
    assert ticket["clocks"]
    assert ticket["site_name"]
    assert [d["id"] for d in board["depots"]] == [ids.depot]
    assert board["assignments"] == []
    assert board["published_plan_id"] is None


def test_the_board_is_written_in_the_zone_asked_for_and_names_it(
    client: TestClient, ids: Ids
) -> None:
    """The board writes its own JSON (issue 19): the zone and its header still hold."""
    response = client.get(
        f"/v1/dispatch/board?region_id={ids.region}&tz=Europe/Berlin", headers=DISPATCHER
    )
    assert response.status_code == 200, response.text
    assert response.headers["Time-Zone"] == "Europe/Berlin"
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["now"] == "2026-11-02T09:00:00+01:00"
    assert all(w["start"].endswith("+01:00") for e in body["engineers"] for w in e["windows"])
    # What is written by hand is what the documented model reads, field for field.
    assert list(body) == list(BoardRead.model_fields)
    assert BoardRead.model_validate_json(response.content).model_dump(mode="json") == body


def test_a_confirmed_option_shows_on_the_board_and_in_the_lists(
    client: TestClient, ids: Ids
) -> None:
    headers = DISPATCHER | {"Idempotency-Key": "confirm-board"}
    done = client.post("/v1/dispatch/assignments", headers=headers,
                       json={"ticket_id": ids.ticket, "engineer_id": ids.haizhu})  # fmt: skip
    assert done.status_code == 201, done.text
    board = _board(client, ids.region)
    (lane,) = board["assignments"]
    assert (lane["ticket_id"], lane["engineer_id"]) == (ids.ticket, ids.haizhu)
    # issue 17: names next to ids; the same on the board, the list and the confirmation
    names = {e["id"]: e["name"] for e in board["engineers"]}
    codes = {t["id"]: t["code"] for t in board["tickets"]}
    assert lane["engineer_name"] == names[ids.haizhu] == done.json()["engineer_name"]
    assert lane["ticket_code"] == codes[ids.ticket] == done.json()["ticket_code"]
    assert {e["id"]: e["status"] for e in board["engineers"]}[ids.haizhu] == "assigned"
    listed = client.get(f"/v1/dispatch/assignments?engineer_id={ids.haizhu}", headers=DISPATCHER)
    assert [a["ticket_id"] for a in listed.json()["items"]] == [ids.ticket]
    assert listed.json()["items"][0]["engineer_name"] == names[ids.haizhu]
    assert (
        client.get(f"/v1/dispatch/assignments?engineer_id={ids.liwan}", headers=DISPATCHER).json()[
            "items"
        ]
        == []
    )
    held = client.get(f"/v1/reservations?ticket_id={ids.ticket}", headers=ids.warehouse).json()
    assert lane["parts_source"] == "pickup"  # no van: he picks the part up at the depot
    assert [r["part_id"] for r in held["items"]] == [ids.part]
    picks = client.get(f"/v1/depots/{lane['depot_id']}/pick-list", headers=ids.warehouse)
    assert [p["ticket_id"] for p in picks.json()] == [ids.ticket]
    assert picks.json()[0]["reservations"][0]["expires_at"]
    (item,) = picks.json()[0]["items"]  # issue 17: the counter reads SKU and name
    assert (item["part_id"], item["part_sku"]) == (ids.part, ids.sku)
    assert item["part_name"]


def test_plans_are_listed_by_region_and_stage(client: TestClient, ids: Ids) -> None:
    made = client.post("/v1/dispatch/plans", headers=DISPATCHER,
                       json={"region_id": ids.region, "time_limit_s": 0})  # fmt: skip
    assert made.status_code == 201, made.text
    plan = made.json()["id"]
    draft_plan(client, ids.ticket)  # a plan of a ticket list belongs to no region
    drafts = client.get(
        f"/v1/dispatch/plans?region_id={ids.region}&stage=draft", headers=DISPATCHER
    ).json()
    assert [p["id"] for p in drafts["items"]] == [plan]
    assert drafts["items"][0]["kpis"]["served"] + drafts["items"][0]["kpis"]["dropped"] == 1
    published = client.get("/v1/dispatch/plans?stage=published", headers=DISPATCHER).json()
    assert published["items"] == []
    assert _board(client, ids.region)["draft_plan_id"] == plan


def test_shifts_page_with_a_stable_cursor(client: TestClient, ids: Ids) -> None:
    seen: list[int] = []
    after = None
    while True:
        query = f"/v1/engineer-shifts?region_id={ids.region}&limit=5"
        page = client.get(query + (f"&after={after}" if after else ""), headers=DISPATCHER).json()
        seen += [s["id"] for s in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert len(seen) == len(set(seen)) == 4 * 7  # four engineers, every weekday
    assert seen == sorted(seen)
    liwan = client.get(f"/v1/engineer-shifts?engineer_id={ids.liwan}", headers=DISPATCHER).json()
    assert {(s["starts_at"], s["ends_at"]) for s in liwan["items"]} == {("22:00:00", "06:00:00")}


def test_positions_list(client: TestClient, ids: Ids) -> None:
    found = client.get(f"/v1/engineer-positions?region_id={ids.region}", headers=DISPATCHER)
    assert {p["id"] for p in found.json()["items"]} >= {ids.haizhu, ids.liwan}
    where = {p["id"]: p["current_lat"] for p in found.json()["items"]}
    assert where[ids.haizhu] is not None


def test_stock_search_by_part_code_or_name(client: TestClient, ids: Ids) -> None:
    by_code = client.get(f"/v1/stock?q={ids.sku.lower()}", headers=ids.warehouse).json()
    assert [r["part_id"] for r in by_code["items"]] == [ids.part]
    assert client.get("/v1/stock?q=%25", headers=ids.warehouse).json()["items"] == []
    assert client.get("/v1/stock?q=", headers=ids.warehouse).status_code == 422


def test_board_refusals(client: TestClient, ids: Ids) -> None:
    missing = client.get("/v1/dispatch/board?region_id=999999", headers=DISPATCHER)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert (
        client.get(f"/v1/dispatch/board?region_id={ids.region}", headers=ids.warehouse).status_code
        == 403
    )
    assert client.get("/v1/depots/999999/pick-list", headers=ids.warehouse).status_code == 404


def test_checking_an_engineer_writes_nothing_and_says_why_not(client: TestClient, ids: Ids) -> None:
    def check(engineer: int) -> dict:  # type: ignore[type-arg]
        body = {"ticket_id": ids.ticket, "engineer_id": engineer}
        answer = client.post("/v1/dispatch/checks", json=body, headers=DISPATCHER)
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    unqualified = check(ids.yuexiu)
    assert unqualified["allowed"] is False
    assert unqualified["excluded"]["reason"] == "skill"
    assert "skill" in unqualified["refusal"]
    qualified = check(ids.haizhu)
    assert qualified["allowed"] is True
    assert qualified["option"]["engineer_id"] == ids.haizhu
    assert _board(client, ids.region)["assignments"] == []  # nothing was written
    headers = DISPATCHER | {"Idempotency-Key": "confirm-after-check"}
    refused = client.post("/v1/dispatch/assignments", headers=headers,
                          json={"ticket_id": ids.ticket, "engineer_id": ids.yuexiu})  # fmt: skip
    assert refused.status_code == 409
    assert unqualified["refusal"] in refused.json()["detail"]  # the same rule said the same


def _pushed(api_engine: Engine) -> tuple[int, int, int, list[datetime]]:
    """Haizhu on site since 08:00, planned to 08:30; his next visit planned 08:30, a 30-min
    drive, on site 09:00-09:30, promised by 09:10 (5 min margin): on time as planned.
    (region id, the next visit's ticket id and assignment id, its planned times)."""
    planned = [T0 + timedelta(minutes=m) for m in (30, 60, 90)]
    with Session(api_engine) as s, s.begin():
        dw = make_dispatch_world(s, with_part=False)
        s.execute(update(TicketType).values(service_min=30))
        s.execute(update(PromisePolicy).values(at_risk_margin_min=5))
        _, nxt = _on_site(s, dw, T0)  # the log is empty: past the plan he ends "now"
        region, ticket_id, assignment_id = dw.base.region.id, nxt.ticket_id, nxt.id
        s.execute(
            update(Assignment)
            .where(Assignment.id == nxt.id)
            .values(departs_at=planned[0], arrives_at=planned[1], fixes_at=planned[2])
        )
        s.execute(
            update(Ticket)
            .where(Ticket.id == ticket_id)
            .values(arrive_by=T0 + timedelta(minutes=70))
        )
    return region, ticket_id, assignment_id, planned


def test_a_visit_behind_an_overrun_shows_its_expected_arrival(
    client: TestClient, app: FastAPI, api_engine: Engine
) -> None:
    """Haizhu on site past his job's planned end: his next visit is on the board with its
    pushed times (as the re-dispatch review reads it) and its ticket at risk at once."""
    region, ticket_id, assignment_id, planned = _pushed(api_engine)
    # 08:45, still on site: the visit departs now, arrives 09:15: past its promise
    app.state.clock = lambda: T0 + timedelta(minutes=45)
    board = _board(client, region)
    BoardRead.model_validate(board)
    (lane,) = [a for a in board["assignments"] if a["id"] == assignment_id]
    assert lane["pushed_min"] == 15
    expected = [lane[f"expected_{k}"] for k in ("departs_at", "arrives_at", "fixes_at")]
    assert [datetime.fromisoformat(x) for x in expected] == [
        p + timedelta(minutes=15) for p in planned
    ]
    assert expected[1] == "2026-11-02T17:15:00+08:00"  # in the region's zone
    (ticket,) = [t for t in board["tickets"] if t["id"] == ticket_id]
    arrive = next(c for c in ticket["clocks"] if c["clock"] == "arrive")
    assert (ticket["risk"], arrive["state"], arrive["slack_min"]) == ("at_risk", "at_risk", -5)
    schema = client.get("/openapi.json").json()["components"]["schemas"]["BoardAssignmentRead"]
    assert {"expected_arrives_at", "pushed_min"} <= set(schema["properties"])
    assert "re-dispatch review" in schema["properties"]["expected_departs_at"]["description"]

    # 08:20, within his job's plan: nothing pushed, the clock on time
    app.state.clock = lambda: T0 + timedelta(minutes=20)
    board = _board(client, region)
    (lane,) = [a for a in board["assignments"] if a["id"] == assignment_id]
    assert lane["pushed_min"] == 0
    assert datetime.fromisoformat(lane["expected_arrives_at"]) == planned[1]
    (ticket,) = [t for t in board["tickets"] if t["id"] == ticket_id]
    assert next(c for c in ticket["clocks"] if c["clock"] == "arrive")["state"] == "on_time"


def test_the_worklist_reads_a_pushed_visit_as_the_board(
    client: TestClient, app: FastAPI, api_engine: Engine
) -> None:
    """The at-risk tickets (`GET /v1/tickets?at_risk=true`) read the pushed visit through the
    board's rule: on the worklist with the board's clocks once pushed, off it as planned."""
    region, ticket_id, _, _ = _pushed(api_engine)

    def worklist() -> list[dict]:  # type: ignore[type-arg]
        response = client.get("/v1/tickets?at_risk=true", headers=DISPATCHER)
        assert response.status_code == 200, response.text
        return response.json()["items"]  # type: ignore[no-any-return]

    app.state.clock = lambda: T0 + timedelta(minutes=20)  # within his job's plan
    assert ticket_id not in [t["id"] for t in worklist()]
    app.state.clock = lambda: T0 + timedelta(minutes=45)  # pushed by 15 min: arrives 09:15
    (listed,) = [t for t in worklist() if t["id"] == ticket_id]
    (shown,) = [t for t in _board(client, region)["tickets"] if t["id"] == ticket_id]
    assert listed["at_risk"] is True
    assert listed["clocks"] == shown["clocks"]
    arrive = next(c for c in listed["clocks"] if c["clock"] == "arrive")
    assert (arrive["state"], arrive["slack_min"]) == ("at_risk", -5)


def test_every_ticket_read_shows_a_pushed_visit_as_the_board(
    client: TestClient, app: FastAPI, api_engine: Engine
) -> None:
    """The ticket list, the ticket page and the engineer's own tickets (`/v1/me`) read the
    pushed visit through the board's rule: the board's clocks once pushed, as planned before."""
    region, ticket_id, assignment_id, _ = _pushed(api_engine)
    with Session(api_engine) as s, s.begin():  # Haizhu reads his own tickets
        row = s.get(Assignment, assignment_id)
        assert row is not None
        user = make_user(s, Role.ENGINEER, key="spk_test_engineer_haizhu")
        s.execute(update(Engineer).where(Engineer.id == row.engineer_id).values(user_id=user.id))
    haizhu = {"X-API-Key": "spk_test_engineer_haizhu"}

    def read(path: str, headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        items = body["items"] if isinstance(body, dict) and "items" in body else body
        if isinstance(items, list):
            (body,) = [t for t in items if t["id"] == ticket_id]
        return body  # type: ignore[no-any-return]

    def every_read() -> list[dict]:  # type: ignore[type-arg]
        return [
            read("/v1/tickets?limit=100", DISPATCHER),
            read(f"/v1/tickets/{ticket_id}", DISPATCHER),
            read("/v1/me/tickets", haizhu),
            read(f"/v1/me/tickets/{ticket_id}", haizhu),
        ]

    for minutes, state, at_risk in ((20, "on_time", False), (45, "at_risk", True)):
        app.state.clock = lambda m=minutes: T0 + timedelta(minutes=m)
        (shown,) = [t for t in _board(client, region)["tickets"] if t["id"] == ticket_id]
        arrive = next(c for c in shown["clocks"] if c["clock"] == "arrive")
        assert arrive["state"] == state
        for ticket in every_read():
            assert ticket["clocks"] == shown["clocks"]
            assert ticket["at_risk"] is at_risk
    assert arrive["slack_min"] == -5  # pushed by 15 min: arrives 09:15, promised by 09:10


def test_his_day_lists_his_visits_in_route_order_as_the_board(
    client: TestClient, app: FastAPI, api_engine: Engine
) -> None:
    """GET /v1/me/tickets: the job he is on first, then his next visit with its planned and
    expected times as the board's lane shows them (pushed 15 min at 08:45); OpenAPI says so,
    and the other ticket reads stay without a visit."""
    region, ticket_id, assignment_id, planned = _pushed(api_engine)
    with Session(api_engine) as s, s.begin():
        row = s.get(Assignment, assignment_id)
        assert row is not None
        user = make_user(s, Role.ENGINEER, key="spk_test_engineer_haizhu_day")
        s.execute(update(Engineer).where(Engineer.id == row.engineer_id).values(user_id=user.id))
    haizhu = {"X-API-Key": "spk_test_engineer_haizhu_day"}
    for minutes, pushed in ((45, 15), (20, 0)):
        app.state.clock = lambda m=minutes: T0 + timedelta(minutes=m)
        (lane,) = [a for a in _board(client, region)["assignments"] if a["id"] == assignment_id]
        response = client.get("/v1/me/tickets", headers=haizhu)
        assert response.status_code == 200, response.text
        on_site, nxt = response.json()
        assert on_site["status"] == "on_site"
        assert on_site["visit"]["parts_source"] == "none"
        assert nxt["id"] == ticket_id
        visit = nxt["visit"]
        assert visit["assignment_id"] == assignment_id
        assert visit["pushed_min"] == lane["pushed_min"] == pushed
        for k in ("departs_at", "arrives_at", "fixes_at"):
            assert visit[f"expected_{k}"] == lane[f"expected_{k}"]
        assert [datetime.fromisoformat(visit[k]) for k in ("departs_at", "arrives_at")] == (
            planned[:2]
        )
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert "visit" in schemas["MyTicketRead"]["properties"]
    assert "pickup" in schemas["MyVisitRead"]["properties"]
    assert "visit" not in schemas["TicketRead"]["properties"]
    one = client.get(f"/v1/me/tickets/{ticket_id}", headers=haizhu).json()
    assert "visit" not in one


def test_the_board_says_what_is_overdue_at_its_now(
    client: TestClient, app: FastAPI, api_engine: Engine, ids: Ids
) -> None:
    """Haizhu's visit to the urgent ticket (leave 08:00, arrive by 10:00), not set off at
    10:10: the visit's departure is overdue, and the arrive clock; the fix clock is not
    (the board page reads these instead of comparing times itself)."""
    with Session(api_engine) as s, s.begin():
        user = make_user(s, Role.DISPATCHER, key="spk_test_dispatcher_overdue")
        confirm_assignment(
            s, ticket_id=ids.ticket, engineer_id=ids.haizhu, user=user, now=T0,
            travel=GeodesicTravelTimes(),
        )  # fmt: skip
    app.state.clock = lambda: T0 + timedelta(minutes=130)
    board = _board(client, ids.region)
    BoardRead.model_validate(board)
    (lane,) = [a for a in board["assignments"] if a["ticket_id"] == ids.ticket]
    assert lane["overdue"] == ["depart"]
    (ticket,) = [t for t in board["tickets"] if t["id"] == ids.ticket]
    overdue = {c["clock"]: c["overdue"] for c in ticket["clocks"]}
    assert (overdue["arrive"], overdue["fix"]) == (True, False)
    now = datetime.fromisoformat(board["now"])
    for c in ticket["clocks"]:
        pending = c["event_at"] is None and c["state"] != "void"
        assert c["overdue"] == (pending and datetime.fromisoformat(c["deadline"]) < now), c
    app.state.clock = lambda: T0 - timedelta(minutes=1)  # before his departure: nothing
    (lane,) = [a for a in _board(client, ids.region)["assignments"] if a["ticket_id"] == ids.ticket]
    assert lane["overdue"] == []
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert "server's clock" in schemas["ClockRead"]["properties"]["overdue"]["description"]
    assert "en route past" in schemas["BoardAssignmentRead"]["properties"]["overdue"]["description"]
