"""A dispatcher's morning on the board, in a real browser (see conftest for the server)."""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any
from urllib.request import Request, urlopen

import pytest

from tests.browser.conftest import Served, Visit

DISPATCHER = "spk_demo_dispatcher"
SHENZHEN = 3  # the demo world's region with the most open tickets
WAIT_MS = 20_000


def _api(served: Served, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = Request(served.base + path, data=data, method=method, headers={
        "X-API-Key": DISPATCHER, "Content-Type": "application/json"})  # fmt: skip
    with urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def _open_board(visit: Visit) -> Any:
    visit.login(DISPATCHER)
    page = visit.page
    page.wait_for_url("**/board")
    page.goto(f"{visit.base}/board?region={SHENZHEN}")
    page.locator("#lanes .lane").first.wait_for(timeout=WAIT_MS)
    return page


def test_the_board_shows_engineers_tickets_and_the_clock(visit: Visit, served: Served) -> None:
    page = _open_board(visit)
    board = _api(served, "GET", f"/v1/dispatch/board?region_id={SHENZHEN}")
    assert page.locator("#lanes .lane").count() == len(board["engineers"])
    assert page.locator("#worklist li[data-ticket]").count() >= 1
    assert page.locator("path.ticket-marker").count() == len(board["tickets"])
    assert page.locator("path.engineer-marker").count() == len(board["engineers"])
    assert "Asia/Shanghai (UTC+08:00)" in page.locator("#zone").inner_text()
    kpis = page.locator("#kpis")  # one line, nothing cut off at a laptop's width
    assert kpis.evaluate("k => k.scrollWidth <= k.clientWidth"), kpis.inner_text()
    assert re.search(r"\d+/\d+ at work", kpis.inner_text())
    visit.shot("board")


def test_map_labels_never_cover_each_other_and_a_hidden_one_shows_on_hover(visit: Visit) -> None:
    page = _open_board(visit)
    shown = """() => [...document.querySelectorAll('#map .map-label')]
        .filter((l) => getComputedStyle(l).visibility !== 'hidden')
        .map((l) => l.getBoundingClientRect())
        .map((r) => [r.left, r.top, r.right, r.bottom])"""
    page.locator("#worklist li[data-ticket] button").first.click()  # the map is drawn again
    page.wait_for_timeout(1_000)  # removed labels fade out for 200 ms: they must not count
    boxes = page.evaluate(shown)
    for kind in ("engineer-label", "ticket-label"):
        assert page.locator(f"#map .{kind}:not(.crowded)").count() >= 1, kind
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
    crowded = page.locator("#map .map-label.crowded")
    if crowded.count():  # the demo's engineers start close together: some label was hidden
        text = crowded.first.inner_text()
        marker = page.locator("path.engineer-marker, path.ticket-marker").nth(
            page.evaluate(
                """(text) => { const all = [...document.querySelectorAll('#map .map-label')];
                  const engineers = all.filter((l) => l.classList.contains('engineer-label'));
                  const tickets = all.filter((l) => l.classList.contains('ticket-label'));
                  return [...engineers, ...tickets].findIndex((l) => l.innerText === text); }""",
                text,
            )
        )
        marker.hover(force=True)
        assert page.locator("#map .map-label", has_text=text).first.is_visible()


def _ticket_with_options(served: Served) -> int:
    """An unassigned ticket of the region that someone can take now (the hour matters)."""
    board = _api(served, "GET", f"/v1/dispatch/board?region_id={SHENZHEN}")
    for ticket in board["tickets"]:
        if ticket["status"] not in ("new", "responded"):
            continue
        found = _api(served, "POST", "/v1/dispatch/recommendations",
                     {"ticket_id": ticket["id"], "limit": 1, "explain": False})  # fmt: skip
        if found["options"]:
            return int(ticket["id"])
    raise AssertionError("no ticket of the demo region has an option now")


def test_a_late_visit_shows_a_move_that_the_dispatcher_accepts(
    visit: Visit, served: Served
) -> None:
    """A visit planned 6 h late (its engineer's job overran): the worklist proposes the
    engineer who keeps the promise; Accept re-dispatches it (POST /v1/dispatch/moves/.../accept)."""
    ticket = _ticket_with_options(served)
    request = Request(served.base + "/v1/dispatch/assignments", method="POST", data=json.dumps(
        {"ticket_id": ticket, "engineer_id": _first_option(served, ticket), "pinned": False}
    ).encode(), headers={"X-API-Key": DISPATCHER, "Content-Type": "application/json",
                         "Idempotency-Key": f"late-{ticket}"})  # fmt: skip
    with urlopen(request, timeout=30) as answer:
        assignment = json.loads(answer.read())
    with sqlite3.connect(served.folder / "spares.db") as db:
        shifted = ", ".join(
            f"{c} = strftime('%Y-%m-%d %H:%M:%f', {c}, '+6 hours')"
            for c in ("departs_at", "arrives_at", "fixes_at")
        )
        db.execute(f"UPDATE assignments SET {shifted} WHERE id = ?", (assignment["id"],))
    moves = [m for m in _api(served, "GET", "/v1/dispatch/moves") if m["ticket_id"] == ticket]
    if not moves:
        pytest.skip("nobody else keeps the promise at this hour of the demo world")
    page = _open_board(visit)
    item = page.locator(f"#worklist li[data-ticket='{ticket}'] .move")
    item.wait_for(timeout=WAIT_MS)
    assert "keeps the promise" in item.inner_text()
    visit.shot("board-move")
    item.locator("button.accept-move").click()
    page.locator("#toast", has_text="moved to").wait_for(timeout=WAIT_MS)
    board = _api(served, "GET", f"/v1/dispatch/board?region_id={SHENZHEN}")
    (row,) = [t for t in board["tickets"] if t["id"] == ticket]
    assert row["engineer_id"] == moves[0]["to_engineer_id"]


def _first_option(served: Served, ticket: int) -> int:
    found = _api(served, "POST", "/v1/dispatch/recommendations",
                 {"ticket_id": ticket, "limit": 1, "explain": False})  # fmt: skip
    return int(found["options"][0]["engineer_id"])


def test_confirm_the_first_option_and_see_the_lane_and_route(visit: Visit, served: Served) -> None:
    page = _open_board(visit)
    ticket = _ticket_with_options(served)
    page.locator(f"#worklist li[data-ticket='{ticket}'] button.open").click()
    confirm = page.locator("#panel-body .options button", has_text="Confirm").first
    confirm.wait_for(timeout=WAIT_MS)
    visit.shot("board-options")
    promises = page.locator("#panel-body .options").first.inner_text()
    assert not re.search(r"-\d+ (h|min)", promises), promises  # "25 min late", not "-25 min"
    assert "cost CNY" in promises, promises
    # The ranking's sentence says what the promise line says: folded behind "Why #1".
    why = page.locator("#panel-body .options details.why").first
    assert why.locator("summary").inner_text() == "Why #1"
    assert not why.evaluate("d => d.open")
    confirm.click()
    block = page.locator(f"#lanes .blk.service[data-ticket='{ticket}']")
    block.wait_for(timeout=WAIT_MS)
    assert page.locator("path.route").count() >= 1
    assert "assigned" in page.locator("#toast").inner_text()


def test_dragging_a_ticket_onto_an_unqualified_engineer_is_refused(
    visit: Visit, served: Served
) -> None:
    page = _open_board(visit)
    board = _api(served, "GET", f"/v1/dispatch/board?region_id={SHENZHEN}")
    waiting = [t for t in board["tickets"] if t["status"] in ("new", "responded")]
    refused = None
    for ticket in waiting:
        found = _api(served, "POST", "/v1/dispatch/recommendations",
                     {"ticket_id": ticket["id"], "limit": 3})  # fmt: skip
        lanes = {e["id"] for e in board["engineers"]}
        skill = [
            x for x in found["excluded"] if x["reason"] == "skill" and x["engineer_id"] in lanes
        ]
        if skill:
            refused = (ticket["id"], skill[0]["engineer_id"])
            break
    assert refused is not None, "the demo region has an engineer without the skill"
    ticket_id, engineer_id = refused
    before = len(_api(served, "GET", f"/v1/dispatch/board?region_id={SHENZHEN}")["assignments"])
    page.locator(f"#worklist li[data-ticket='{ticket_id}']").drag_to(
        page.locator(f"#lanes .lane[data-engineer='{engineer_id}'] .track")
    )
    alert = page.locator("#panel-body .check.no")
    alert.wait_for(timeout=WAIT_MS)
    assert "Refused" in alert.inner_text()
    assert "skill" in alert.inner_text()
    after = len(_api(served, "GET", f"/v1/dispatch/board?region_id={SHENZHEN}")["assignments"])
    assert after == before  # the check wrote nothing
    visit.shot("board-refusal")


def test_run_a_plan_see_its_diff_and_publish_it(visit: Visit, served: Served) -> None:
    page = _open_board(visit)
    page.get_by_role("button", name="Run plan").click()
    publish = page.locator("#plan-publish")
    publish.wait_for(state="visible", timeout=60_000)
    assert "Draft plan" in page.locator("#plan-title").inner_text()
    body = page.locator("#plan-body").inner_text()
    plan_id = int(page.locator("#plan-title").inner_text().split()[-1])
    kpis = _api(served, "GET", f"/v1/dispatch/plans/{plan_id}")["kpis"]
    made = sum(p["total"] for p in kpis["promises"])
    assert f"{kpis['promises_kept']} of {made} promises kept (arrival and fix)" in body
    assert not re.search(r"\b(late|kept) → ", body), "ticket states read as words, not codes"
    visit.shot("board-plan")
    publish.click()
    page.locator("#toast", has_text="published").wait_for(timeout=WAIT_MS)
    board = _api(served, "GET", f"/v1/dispatch/board?region_id={SHENZHEN}")
    assert board["published_plan_id"] is not None


def test_report_an_absence_and_see_the_re_plan(visit: Visit, served: Served) -> None:
    plan = _api(served, "POST", "/v1/dispatch/plans", {"region_id": SHENZHEN, "time_limit_s": 0})
    headers = {"X-API-Key": DISPATCHER, "Idempotency-Key": f"p-{plan['id']}"}
    url = f"{served.base}/v1/dispatch/plans/{plan['id']}/publish"
    request = Request(url, method="POST", headers=headers)
    with urlopen(request, timeout=60) as answer:
        assert answer.status == 200
    page = _open_board(visit)
    page.get_by_role("button", name="Report disruption").click()
    page.get_by_label("What happened").select_option("engineer_absent")
    away = page.locator("#d-engineer option:checked").inner_text()
    page.get_by_role("button", name="Report and re-plan").click()
    page.locator("#plan-publish").wait_for(state="visible", timeout=60_000)
    body = page.locator("#plan-body").inner_text()
    assert "Promises put at risk" in body or "No promise gets worse" in body
    lane = page.locator("#lanes .lane", has_text=away)
    lane.locator(".st", has_text="absent").wait_for(timeout=WAIT_MS)  # the board re-read
    visit.shot("board-disruption")


_AT = "strftime('%Y-%m-%d %H:%M:%f', 'now', ?)"
# an active assignment written straight into the file: departs, arrives, fixes and created
# at (offsets from now, e.g. "-15 minutes"), the user who made it
_INSERT = (
    "INSERT INTO assignments (ticket_id, engineer_id, status, departs_at, arrives_at,"
    f" fixes_at, parts_source, pinned, created_at, created_by_id) VALUES (?, ?, 'active',"
    f" {_AT}, {_AT}, {_AT}, 'none', 0, {_AT}, ?)"
)


def _free_engineer(db: sqlite3.Connection, tickets: int) -> tuple[int, str, list[int]]:
    """The region's engineer with the least work, his plan withdrawn (a published plan of an
    earlier test may have given everyone work), and ``tickets`` of the region's tickets not
    set off yet, their plan withdrawn too: (his id, his name, their ids)."""
    engineer, name = db.execute(
        "SELECT e.id, e.name FROM engineers e WHERE e.region_id = ? AND e.active ORDER BY"
        " (SELECT count(*) FROM assignments a WHERE a.engineer_id = e.id"
        " AND a.status = 'active'), e.id LIMIT 1", (SHENZHEN,),
    ).fetchone()  # fmt: skip
    mine = "SELECT ticket_id FROM assignments WHERE engineer_id = ? AND status = 'active'"
    db.execute(
        "UPDATE tickets SET status = 'responded', engineer_id = NULL"
        f" WHERE id IN ({mine}) AND status = 'assigned'", (engineer,),
    )  # fmt: skip
    db.execute(
        "UPDATE assignments SET status = 'withdrawn' WHERE engineer_id = ? AND status ="
        " 'active' AND ticket_id IN (SELECT id FROM tickets WHERE status = 'responded')",
        (engineer,),
    )  # fmt: skip
    ids = [
        int(row[0])
        for row in db.execute(
            "SELECT t.id FROM tickets t JOIN sites s ON s.id = t.site_id WHERE s.region_id = ?"
            " AND t.status IN ('new', 'responded', 'assigned')"
            " ORDER BY t.status = 'assigned', t.id LIMIT ?", (SHENZHEN, tickets),
        )
    ]  # fmt: skip
    marks = ", ".join("?" * len(ids))
    db.execute(
        "UPDATE assignments SET status = 'withdrawn' WHERE status = 'active'"
        f" AND ticket_id IN ({marks})", ids,
    )  # fmt: skip
    return int(engineer), str(name), ids


def _stage_overrun(served: Served) -> tuple[int, int, str]:
    """An engineer of the region on site at one ticket for 4 hours (past any planned end),
    his next visit planned to leave 15 min ago, arrive in 15 min, promised in 35: a staged
    world written straight into the file, as a morning looks when the first job overran.
    (the visit's ticket id, its engineer id, his name)"""
    with sqlite3.connect(served.folder / "spares.db") as db:
        engineer, name, (first, later) = _free_engineer(db, 2)
        (user,) = db.execute("SELECT min(id) FROM users").fetchone()
        db.execute(_INSERT, (first, engineer, "-270 minutes", "-240 minutes", "-210 minutes",
                            "-300 minutes", user))  # fmt: skip
        db.execute(_INSERT, (later, engineer, "-15 minutes", "+15 minutes", "+75 minutes",
                            "-300 minutes", user))  # fmt: skip
        db.execute(
            f"UPDATE tickets SET status = 'on_site', engineer_id = ?, departed_at = {_AT},"
            f" arrived_at = {_AT} WHERE id = ?", (engineer, "-270 minutes", "-240 minutes", first),
        )  # fmt: skip
        db.execute(
            f"UPDATE tickets SET status = 'assigned', engineer_id = ?, responded_at = {_AT},"
            f" respond_by = {_AT}, depart_by = {_AT}, arrive_by = {_AT}, fix_by = {_AT}"
            " WHERE id = ?",
            (engineer, "-300 minutes", "-280 minutes", "+30 minutes", "+35 minutes", "+6 hours",
             later),
        )  # fmt: skip
    return int(later), int(engineer), str(name)


def _at_risk_on_the_board(visit: Visit, served: Served, ticket: int) -> tuple[Any, Any, Any, Any]:
    """The board's answer, the ticket's lane block (checked at risk in the answer), the
    board page opened, and the ticket's worklist item once shown."""
    board = _api(served, "GET", f"/v1/dispatch/board?region_id={SHENZHEN}")
    (lane,) = [a for a in board["assignments"] if a["ticket_id"] == ticket]
    (row,) = [t for t in board["tickets"] if t["id"] == ticket]
    assert row["risk"] == "at_risk"
    page = _open_board(visit)
    item = page.locator(f"#worklist li[data-ticket='{ticket}']")
    item.wait_for(timeout=WAIT_MS)
    return board, lane, page, item


def test_a_visit_behind_an_overrunning_job_is_at_risk_with_its_expected_arrival(
    visit: Visit, served: Served
) -> None:
    """The dispatcher sees at once, before any move is stored: the visit at risk, when it
    is now expected and why (the server's expected times, the re-dispatch review's)."""
    ticket, engineer, name = _stage_overrun(served)
    board, lane, page, item = _at_risk_on_the_board(visit, served, ticket)
    assert lane["pushed_min"] >= 15
    said = item.locator(".pushed").inner_text()
    assert f"behind {name}'s overrunning job" in said, said
    item.locator("button.open").click()
    foot = page.locator("#panel-body table tfoot")
    foot.wait_for(timeout=WAIT_MS)
    text = foot.inner_text()
    assert re.search(r"arrival at risk: expected \d\d:\d\d \(\+\d+ min behind", text), text
    # the region's clock, not UTC: the answer's expected arrival, or a minute or two later
    # (he is still on site as the page polls; the push grows with the time)
    shown = page.evaluate(
        "([iso, zone]) => [0, 1, 2, 3].map((k) => new Intl.DateTimeFormat('en-GB', {timeZone:"
        " zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23'}).format("
        "new Date(new Date(iso).getTime() + k * 60000)))",
        [lane["expected_arrives_at"], board["timezone"]],
    )
    assert any(f"expected {hhmm} " in text for hhmm in shown), (shown, text)
    lane_row = page.locator(f"#lanes .lane[data-engineer='{engineer}']")
    assert lane_row.locator(f".blk.service.pushed[data-ticket='{ticket}']").count() == 1
    assert lane_row.locator(f".blk.planned[data-ticket='{ticket}']").count() == 1
    overrun = lane_row.locator(".blk.overrun").get_attribute("title") or ""
    assert "runs past its planned end" in overrun, overrun
    lane_row.scroll_into_view_if_needed()
    visit.shot("board-overrun-pushed")


def _stage_en_route(served: Served) -> tuple[int, int, str]:
    """An engineer of the region who set off 35 min late (planned to leave 50 min ago and
    arrive 20 min ago, a 30-minute drive; left 15 min ago) for a visit promised in 20 min:
    expected in 15, inside the at-risk margin. (the ticket id, its engineer id, his name)"""
    with sqlite3.connect(served.folder / "spares.db") as db:
        engineer, name, (ticket,) = _free_engineer(db, 1)
        (user,) = db.execute("SELECT min(id) FROM users").fetchone()
        db.execute(_INSERT, (ticket, engineer, "-50 minutes", "-20 minutes", "+40 minutes",
                             "-120 minutes", user))  # fmt: skip
        db.execute(
            f"UPDATE tickets SET status = 'en_route', engineer_id = ?, responded_at = {_AT},"
            f" departed_at = {_AT}, respond_by = {_AT}, depart_by = {_AT}, arrive_by = {_AT},"
            f" fix_by = {_AT} WHERE id = ?",
            (engineer, "-110 minutes", "-15 minutes", "-100 minutes", "-10 minutes",
             "+20 minutes", "+6 hours", ticket),
        )  # fmt: skip
    return int(ticket), int(engineer), str(name)


def test_an_engineer_who_set_off_late_is_at_risk_with_his_expected_arrival(
    visit: Visit, served: Served
) -> None:
    """En route 35 min late: the board reads his arrival at his departure plus the planned
    drive (`dispatch.expected`), at risk now, not once the promise has passed."""
    ticket, engineer, name = _stage_en_route(served)
    _, lane, page, item = _at_risk_on_the_board(visit, served, ticket)
    assert lane["pushed_min"] == 0
    assert lane["expected_arrives_at"] > lane["arrives_at"]
    said = item.locator(".pushed").inner_text()
    assert re.search(rf"arrival at risk: expected \d\d:\d\d \(\+3[45] min: {name} set off late",
                     said), said  # fmt: skip
    lane_row = page.locator(f"#lanes .lane[data-engineer='{engineer}']")
    assert lane_row.locator(f".blk.service.pushed[data-ticket='{ticket}']").count() == 1
    assert lane_row.locator(f".blk.planned[data-ticket='{ticket}']").count() == 1
    item.locator("button.open").click()
    foot = page.locator("#panel-body table tfoot")
    foot.wait_for(timeout=WAIT_MS)
    assert "set off late" in foot.inner_text()
    lane_row.scroll_into_view_if_needed()
    visit.shot("board-en-route-late")


def test_an_overdue_arrival_is_the_server_s_word_on_the_page(visit: Visit, served: Served) -> None:
    """En route past his planned drive (set off 40 min ago for a 30-minute drive) and past
    the promise (arrive by 5 min ago): the answer marks the visit's arrival and the arrive
    clock overdue, and the page says so from those flags, not from its own clock."""
    with sqlite3.connect(served.folder / "spares.db") as db:
        engineer, name, (ticket,) = _free_engineer(db, 1)
        (user,) = db.execute("SELECT min(id) FROM users").fetchone()
        db.execute(_INSERT, (ticket, engineer, "-60 minutes", "-30 minutes", "+30 minutes",
                             "-120 minutes", user))  # fmt: skip
        db.execute(
            f"UPDATE tickets SET status = 'en_route', engineer_id = ?, responded_at = {_AT},"
            f" departed_at = {_AT}, respond_by = {_AT}, depart_by = {_AT}, arrive_by = {_AT},"
            f" fix_by = {_AT} WHERE id = ?",
            (engineer, "-110 minutes", "-40 minutes", "-100 minutes", "-50 minutes",
             "-5 minutes", "+6 hours", ticket),
        )  # fmt: skip
    board = _api(served, "GET", f"/v1/dispatch/board?region_id={SHENZHEN}")
    (lane,) = [a for a in board["assignments"] if a["ticket_id"] == ticket]
    (row,) = [t for t in board["tickets"] if t["id"] == ticket]
    assert lane["overdue"] == ["arrive"]
    arrive = next(c for c in row["clocks"] if c["clock"] == "arrive")
    assert (arrive["state"], arrive["overdue"]) == ("breached", True)
    page = _open_board(visit)
    item = page.locator(f"#worklist li[data-ticket='{ticket}']")
    item.wait_for(timeout=WAIT_MS)
    said = item.locator(".pushed").inner_text()
    assert f"{name} has not arrived yet" in said, said
    countdown = item.locator(".countdown")
    assert countdown.get_attribute("data-overdue") == "true"
    assert "late" in (countdown.get_attribute("class") or "")
    assert re.fullmatch(r"arrive \d+ min late", countdown.inner_text()), countdown.inner_text()
    visit.shot("board-en-route-overdue")


def _open_ticket(served: Served) -> tuple[int, int]:
    """A region and a ticket of it waiting for an engineer (other tests assign some)."""
    for region in [SHENZHEN] + [r["id"] for r in _api(served, "GET", "/v1/regions")["items"]]:
        board = _api(served, "GET", f"/v1/dispatch/board?region_id={region}")
        for t in board["tickets"]:
            if t["status"] in ("new", "responded"):
                return region, int(t["id"])
    raise AssertionError("no ticket of the demo world waits for an engineer")


ROOM = {
    "kind": "room", "engineer_id": 1, "engineer_name": "Near Engineer",
    "departs_at": "2026-12-03T01:00:00Z", "arrives_at": "2026-12-03T01:40:00Z",
    "moved_ticket_id": 99, "moved_ticket_code": "T-MOVED", "moved_assignment_id": 7,
    "moved_to": 2, "moved_to_name": "Far Colleague", "moved_departs_at": "2026-12-03T01:05:00Z",
    "moved_arrives_at": "2026-12-03T02:30:00Z", "cost": 100, "best_cost": 900,
}  # fmt: skip


def _room_offered(
    visit: Visit, served: Served, answer: dict[str, Any], button: str, toast: str
) -> tuple[str, list[Any]]:
    """The page's side of `GET`/`POST /v1/dispatch/tickets/{id}/room` (their rules are tested
    over the API, tests/api/test_room_api.py): whether a room exists depends on the demo
    world's hour, so the first option is read as late and the room's ``answer`` is given;
    the offer's text, and what its ``button`` posted once ``toast`` showed."""
    region, ticket = _open_ticket(served)
    room = answer | {"ticket_id": ticket}
    posted: list[Any] = []

    def late_first(route: Any) -> None:
        answer = route.fetch()
        found = answer.json()
        if not found["options"]:  # nobody at this hour: an option as the server writes one
            found["options"] = [{
                "rank": 1, "engineer_id": 3, "engineer_name": "Late Engineer",
                "dedicated": False, "departs_at": room["departs_at"],
                "arrives_at": room["arrives_at"], "fixes_at": room["arrives_at"],
                "keeps_all_promises": False, "lateness_min": 30, "cost": 700.0,
                "overtime_min": 0, "kind": "working", "callout_cost": 0.0, "travel_min": 40.0,
                "travel_km": 30.0, "parts": {"source": "none"}, "promises": [],
                "reason": "#1: the only one"}]  # fmt: skip
        first = found["options"][0]
        first["promises"] = [p for p in first["promises"] if p["promise"] != "arrival"] + [{
            "promise": "arrival", "deadline": room["arrives_at"], "at": room["arrives_at"],
            "kept": False, "slack_min": -30, "cost": 600.0}]  # fmt: skip
        route.fulfill(response=answer, json=found)

    def answer_room(route: Any) -> None:
        if route.request.method == "POST":
            posted.append(route.request.post_data_json)
        route.fulfill(json=room if route.request.method == "GET" else {})

    page = _open_board(visit)
    page.goto(f"{visit.base}/board?region={region}")
    page.locator("#lanes .lane").first.wait_for(timeout=WAIT_MS)
    page.route("**/v1/dispatch/recommendations", late_first)
    page.route(f"**/v1/dispatch/tickets/{ticket}/room", answer_room)
    page.locator(f"#worklist li[data-ticket='{ticket}'] button.open").click()
    offer = page.locator("#panel-body .room")
    offer.wait_for(timeout=WAIT_MS)
    text = offer.inner_text()
    visit.shot(f"board-{answer['kind']}")
    offer.get_by_role("button", name=button).click()
    page.locator("#toast", has_text=toast).wait_for(timeout=WAIT_MS)
    return text, posted


def test_when_every_option_is_late_the_board_offers_to_make_room(
    visit: Visit, served: Served
) -> None:
    text, posted = _room_offered(visit, served, ROOM, "Make room", "moved to Far Colleague")
    assert "Far Colleague takes T-MOVED" in text, text
    assert "Near Engineer leaves" in text, text
    assert posted == [{"engineer_id": 1, "moved_assignment_id": 7, "moved_to": 2, "kind": "room"}]


def test_when_nobody_makes_room_the_board_offers_to_divert_a_driver(
    visit: Visit, served: Served
) -> None:
    """A divert answer (`optimizer.divert`): worded with the driver, the visit he drives to
    and who takes it (a colleague, or himself after this ticket); posted with its kind."""
    divert = ROOM | {"kind": "divert", "engineer_name": "Chen Haiyan", "moved_to_name": "Li Wei"}
    text, posted = _room_offered(visit, served, divert, "Divert", "moved to Li Wei")
    assert "Divert Chen Haiyan" in text, text
    assert "driving to T-MOVED; that visit goes to Li Wei" in text, text
    assert posted == [{"engineer_id": 1, "moved_assignment_id": 7, "moved_to": 2, "kind": "divert"}]
    himself = divert | {"moved_to": 1, "moved_to_name": "Chen Haiyan"}
    text, _ = _room_offered(visit, served, himself, "Divert", "T-MOVED stays with him after")
    assert "that visit stays with him after" in text, text
