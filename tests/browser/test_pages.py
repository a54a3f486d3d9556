"""The warehouse, the planner and the engineer's day, in a real browser."""

from __future__ import annotations

import json
from typing import Any
from urllib.request import Request, urlopen

from tests.browser.conftest import Served, Visit, open_visit

WAIT_MS = 20_000


def _api(served: Served, key: str, path: str) -> Any:
    request = Request(served.base + path, headers={"X-API-Key": key})
    with urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def test_the_warehouse_finds_a_part_by_its_code(visit: Visit, served: Served) -> None:
    key = "spk_demo_warehouse"
    row = _api(served, key, "/v1/stock?limit=1")["items"][0]
    visit.login(key)
    page = visit.page
    page.wait_for_url("**/warehouse")
    page.locator("#stock tr").first.wait_for(timeout=WAIT_MS)
    page.get_by_label("Part", exact=True).fill(row["part_sku"].lower())
    page.get_by_role("button", name="Search").click()
    page.wait_for_function(  # only that part's rows remain
        "sku => [...document.querySelectorAll('#stock tr')].every(r => r.innerText.includes(sku))",
        arg=row["part_sku"], timeout=WAIT_MS,
    )  # fmt: skip
    found = page.locator(f"#stock tr[data-part='{row['part_id']}']").first
    assert row["part_sku"] in found.inner_text()
    page.get_by_label("Depot or van").select_option(str(row["depot_id"]))
    page.wait_for_function(
        "!document.querySelector('#picks').innerText.includes('Choose a depot')", timeout=WAIT_MS
    )
    visit.shot("warehouse")


def _hold_and_ship(served: Served) -> dict[str, Any]:
    """A live hold and a pending shipment for a ticket, at a depot the warehouse user sees."""
    admin = "spk_demo_admin"
    stock = _api(served, "spk_demo_warehouse", "/v1/stock?limit=100")["items"]
    row = next(r for r in stock if r["available"] >= 2)
    ticket = _api(served, admin, "/v1/tickets?limit=1")["items"][0]
    body = {"depot_id": row["depot_id"], "ticket_id": ticket["id"],
            "lines": [{"part_id": row["part_id"]}]}  # fmt: skip
    [held] = _post(served, admin, "/v1/reservations", body, **{"Idempotency-Key": "wh-hold-1"})
    _post(served, admin, f"/v1/reservations/{held['id']}/pick",
          {"ship_to_site_id": ticket["site_id"]}, **{"Idempotency-Key": "wh-pick-1"})  # fmt: skip
    _post(served, admin, "/v1/reservations", body, **{"Idempotency-Key": "wh-hold-2"})
    return {"row": row, "ticket": ticket}


def test_the_warehouse_reads_codes_and_receives_by_sku(visit: Visit, served: Served) -> None:
    made = _hold_and_ship(served)
    row, ticket = made["row"], made["ticket"]
    visit.login("spk_demo_warehouse")
    page = visit.page
    page.wait_for_url("**/warehouse")
    page.get_by_label("Depot or van").select_option(str(row["depot_id"]))
    for name in ("Reservations", "Shipments due"):
        table = page.get_by_role("table", name=name)
        table.get_by_text(ticket["code"], exact=True).first.wait_for(timeout=WAIT_MS)
        mine = table.locator("tbody tr", has_text=ticket["code"]).first
        cells = mine.locator("td").all_inner_texts()  # depot, part, qty, ticket, when
        assert cells[1] == f"{row['part_sku']} {row['part_name']}", cells  # not the part id
        assert cells[3] == ticket["code"], cells  # not the ticket id
    query = f"/v1/stock?depot_id={row['depot_id']}&part_id={row['part_id']}"
    before = _api(served, "spk_demo_warehouse", query)["items"][0]["on_hand"]  # after the pick
    page.get_by_label("Movement").select_option("receive")
    page.get_by_label("Part code (SKU)").fill("NO-SUCH-PART")
    page.get_by_label("Quantity").fill("2")
    page.get_by_label("Reason").fill("delivery note 4711")
    page.get_by_role("button", name="Record").click()
    toast = page.locator("#toast")
    page.wait_for_function(
        "() => document.querySelector('#toast').innerText.includes('no part has the code')",
        timeout=WAIT_MS,
    )
    assert "NO-SUCH-PART" in toast.inner_text()
    assert _api(served, "spk_demo_warehouse", query)["items"][0]["on_hand"] == before
    page.locator(f"#stock tr[data-part='{row['part_id']}']").first.click()  # a row fills the code
    assert page.get_by_label("Part code (SKU)").input_value() == row["part_sku"]
    page.get_by_role("button", name="Record").click()
    page.wait_for_function(
        "sku => document.querySelector('#toast').innerText.includes(`receive of ${sku} recorded`)",
        arg=row["part_sku"], timeout=WAIT_MS,
    )  # fmt: skip
    assert _api(served, "spk_demo_warehouse", query)["items"][0]["on_hand"] == before + 2
    visit.shot("warehouse-codes")


def test_the_planner_runs_an_example_and_shows_its_chart(visit: Visit) -> None:
    visit.login("spk_demo_planner")
    page = visit.page
    page.wait_for_url("**/planner")
    page.get_by_label("Example", exact=True).select_option(index=0)
    page.get_by_label("Demo world").select_option("small")
    page.get_by_label("Days simulated").fill("1")
    page.get_by_label("Replications", exact=True).fill("2")
    page.get_by_label("Tickets per day").fill("20")
    page.get_by_role("button", name="Run", exact=True).click()
    chart = page.locator("#charts img").first
    chart.wait_for(timeout=180_000)
    page.wait_for_function("document.querySelector('#charts img').naturalWidth > 0")
    assert page.locator("#kpis table tbody tr").count() >= 3
    shown = page.locator("#kpis table tbody th").all_inner_texts()
    for promise in ("respond kept", "depart kept", "arrival kept", "fix kept"):
        assert promise in shown, shown  # the report's names, every clock a planner compares
    assert "[" in page.locator("#kpis table tbody td").first.inner_text()  # an interval
    visit.shot("planner")


def test_the_planner_asks_for_advice_and_sees_its_plan_and_costs(visit: Visit) -> None:
    visit.login("spk_demo_planner")
    page = visit.page
    page.wait_for_url("**/planner")
    page.get_by_label("Example", exact=True).select_option(index=0)
    page.get_by_label("Demo world").select_option("small")
    page.get_by_label("Days simulated").fill("1")
    page.get_by_label("Replications", exact=True).fill("2")
    page.get_by_label("Tickets per day").fill("20")
    page.get_by_label("Rounds").fill("1")
    page.get_by_role("button", name="Advise", exact=True).click()
    page.locator("#advice-runs li[data-run]").first.wait_for(timeout=WAIT_MS)  # listed at once
    chart = page.locator("#advice-charts img").first
    chart.wait_for(timeout=300_000)
    page.wait_for_function("document.querySelector('#advice-charts img').naturalWidth > 0")
    assert "done" in page.locator("#advice-runs li").first.inner_text()
    targets = page.get_by_role("table", name="Targets")
    assert targets.locator("tbody tr").count() == 2  # arrival and 2-hour swap, all regions
    assert "[" in targets.locator("tbody td").first.inner_text()  # an interval
    costs = page.get_by_role("table", name="Costs").inner_text()
    assert "total" in costs
    assert "engineers" in costs
    assert page.get_by_role("table", name="Plan of changes").count() == 1
    assert "target" in page.locator("#advice-verdict").inner_text()
    # per region: engineers and cost today -> advised, shares kept, which target binds there
    regions = page.get_by_role("table", name="By region")
    assert regions.locator("tbody tr").count() >= 2
    head = regions.locator("thead").inner_text()
    assert "binds" in head
    assert "arrival kept" in head
    assert "CNY" in head
    page.locator("#advice-title").scroll_into_view_if_needed()
    visit.shot("planner-advice")
    regions.scroll_into_view_if_needed()
    visit.shot("planner-advice-regions")


def _post(served: Served, key: str, path: str, body: dict[str, Any], **headers: str) -> Any:
    headers = {"X-API-Key": key, "Content-Type": "application/json"} | headers
    request = Request(served.base + path, data=json.dumps(body).encode(), method="POST",
                      headers=headers)  # fmt: skip
    with urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def _give_the_demo_engineer_a_visit(served: Served) -> bool:
    """Assign the demo engineer (engineer 1) an open ticket he can take, if there is one."""
    key = "spk_demo_dispatcher"
    for ticket in _api(served, key, "/v1/tickets?status=new&limit=50")["items"]:
        body = {"ticket_id": ticket["id"], "engineer_id": 1}
        if _post(served, key, "/v1/dispatch/checks", body)["allowed"]:
            _post(served, key, "/v1/dispatch/assignments", body,
                  **{"Idempotency-Key": f"my-day-{ticket['id']}"})  # fmt: skip
            return True
    return False


def test_an_engineer_sees_his_day_on_a_phone(browser: Any, served: Served) -> None:

    busy = _give_the_demo_engineer_a_visit(served)
    v = open_visit(browser, served, viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        v.login("spk_demo_engineer")
        page = v.page
        page.wait_for_url("**/my-day")
        page.locator("#visits li").first.wait_for(timeout=WAIT_MS)
        if busy:
            assert page.locator("#visits li button").count() >= 1  # his next step
            assert "UTC+08:00" in page.locator("#zone").inner_text()
            # in route order, each visit saying when to leave and what to pick up where
            mine = _api(served, "spk_demo_engineer", "/v1/me/tickets")
            cards = page.locator("#visits li").all_inner_texts()
            assert [t["code"] for t in mine] == page.locator("#visits li .code").all_inner_texts()
            for ticket, card in zip(mine, cards, strict=True):
                visit = ticket["visit"]
                if ticket["status"] == "assigned" and visit:
                    assert "Leave " in card
                    assert " · arrive " in card
                if visit and visit["parts_source"] == "pickup":
                    assert f"Pick up {visit['pickup'][0]['sku']}" in card
                    assert f"at {visit['depot_name']}" in card
                if visit and visit["parts_source"] == "shipment":
                    assert "Part shipped to site" in card
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, "nothing scrolls sideways on a phone"
        v.shot("my-day-phone")
        assert v.foreign == []
        assert v.errors == []
    finally:
        v.page.context.close()


def test_every_control_has_a_label(visit: Visit) -> None:
    visit.login("spk_demo_admin")
    page = visit.page
    for path in ("/board?region=3", "/warehouse", "/planner"):
        page.goto(visit.base + path)
        page.wait_for_load_state("networkidle")
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input, select, textarea, button')]
                .filter((e) => !e.closest('[hidden]') && !e.closest('dialog:not([open])'))
                .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                               && !(e.tagName === 'BUTTON' && e.textContent.trim()))
                .map((e) => e.outerHTML.slice(0, 80))"""
        )
        assert unlabelled == [], f"{path}: {unlabelled}"


def test_his_day_says_a_pushed_visit_is_late_and_what_to_pick_up(
    browser: Any, served: Served
) -> None:
    """The cards as a phone shows a visit pushed behind his overrunning job (expected times,
    the planned ones beside them, the delay in words) and a pickup (which part at which
    depot): his answer from /v1/me/tickets stands in for such a day (the demo has none)."""
    from datetime import UTC, datetime, timedelta

    tickets = _api(served, "spk_demo_dispatcher", "/v1/tickets?limit=2")["items"]
    depot = _api(served, "spk_demo_dispatcher", "/v1/depots?limit=1")["items"][0]
    now = datetime.now(UTC).replace(second=0, microsecond=0)

    def iso(minutes: int) -> str:
        return (now + timedelta(minutes=minutes)).isoformat()

    def visit(start: int, pushed: int, **parts: Any) -> dict[str, Any]:
        planned = {"departs_at": iso(start), "arrives_at": iso(start + 30),
                   "fixes_at": iso(start + 90)}  # fmt: skip
        times = (("departs_at", start), ("arrives_at", start + 30), ("fixes_at", start + 90))
        late = {f"expected_{k}": iso(m + pushed) for k, m in times}
        return {"assignment_id": 1, **planned, **late, "pushed_min": pushed, "depot_id": None,
                "depot_name": None, "shipment_id": None, "pickup": [], **parts}  # fmt: skip

    pushed, pickup = ({**t, "status": "assigned"} for t in tickets)
    pushed["visit"] = visit(20, 95, parts_source="none")
    part = {"part_id": 1, "sku": "HW-PSU-2200", "part_name": "Power supply 2200 W", "quantity": 1}
    pickup["visit"] = visit(200, 0, parts_source="pickup", depot_id=depot["id"],
                            depot_name=depot["name"], pickup=[part])  # fmt: skip
    # the pickup's plan arrives 2 h 50 min after its promise: the clock reads at risk with
    # that slack (`dispatch.expected.projections_of`), and the card says so
    pickup["clocks"] = [{"clock": "arrive", "deadline": iso(60), "event_at": None,
                         "state": "at_risk", "slack_min": -170}]  # fmt: skip
    first, second = _his_phone_shows(browser, served, [pushed, pickup], "my-day-pushed-phone")
    assert "Leave " in first
    assert "planned: leave " in first
    assert "1 h 35 min late, your job before runs over" in first
    assert "(-" not in first  # an overdue clock says "overdue", never "-2 h 40 min left"
    assert f"Pick up HW-PSU-2200 Power supply 2200 W at {depot['name']}" in second
    assert "planned" not in second
    assert "— your plan is 2 h 50 min late" in second


def _his_phone_shows(browser: Any, served: Served, tickets: list[Any], shot: str) -> list[str]:
    """My day on a phone, `/v1/me/tickets` answering ``tickets``: each card's text (the
    page fits the phone's width, asks nothing of another host, logs no error)."""
    v = open_visit(browser, served, viewport={"width": 390, "height": 844}, is_mobile=True)
    v.page.route("**/v1/me/tickets", lambda route: route.fulfill(json=tickets))
    try:
        v.login("spk_demo_engineer")
        page = v.page
        page.wait_for_url("**/my-day")
        page.locator("#visits li .code").first.wait_for(timeout=WAIT_MS)
        cards = page.locator("#visits li").all_inner_texts()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        v.shot(shot)
        assert v.foreign == []
        assert v.errors == []
        return cards
    finally:
        v.page.context.close()


def test_his_day_says_when_he_now_arrives_and_ends_under_way(browser: Any, served: Served) -> None:
    """The cards of visits under way as the board projects them (`dispatch.expected`): en
    route after setting off 25 min late, "Arrive" at the expected time with the plan beside
    it; on site with his job running over, "done by" the expected end, the planned end
    beside it. His answer from /v1/me/tickets stands in for such a day (the demo has none)."""
    from datetime import UTC, datetime, timedelta

    tickets = _api(served, "spk_demo_dispatcher", "/v1/tickets?limit=2")["items"]
    now = datetime.now(UTC).replace(second=0, microsecond=0)

    def iso(minutes: int) -> str:
        return (now + timedelta(minutes=minutes)).isoformat()

    def visit(planned: tuple[int, int, int], seen: tuple[int, int, int]) -> dict[str, Any]:
        keys = ("departs_at", "arrives_at", "fixes_at")
        return {"assignment_id": 1, **{k: iso(m) for k, m in zip(keys, planned, strict=True)},
                **{f"expected_{k}": iso(m) for k, m in zip(keys, seen, strict=True)},
                "pushed_min": 0, "parts_source": "none", "depot_id": None, "depot_name": None,
                "shipment_id": None, "pickup": []}  # fmt: skip

    on_site, en_route = ({**t, "clocks": []} for t in tickets)
    # on site since 60 min ago, planned 45 min: expected to end in 50 min, not 15 min ago
    on_site |= {"status": "on_site", "visit": visit((-80, -60, -15), (-80, -60, 50))}
    # planned to leave 10 min ago and arrive in 20; set off 25 min late: arrives in 45
    en_route |= {"status": "en_route", "visit": visit((-10, 20, 80), (15, 45, 105))}
    first, second = _his_phone_shows(browser, served, [on_site, en_route], "my-day-under-way-phone")
    assert "On site · done by " in first
    assert "planned: done by " in first
    assert "1 h 05 min late, your job runs over" in first
    assert "Arrive " in second
    assert "planned: arrive " in second
    assert "25 min late, you set off late" in second


def test_his_day_says_not_arrived_and_overdue_when_the_server_says_so(
    browser: Any, served: Served
) -> None:
    """En route past his planned drive: the server's `visit.overdue` makes the card say
    "Arriving now ... not arrived yet", and a clock it reads `overdue` says "overdue"; the
    phone's own clock decides neither (here the deadline is still ahead by the phone's)."""
    from datetime import UTC, datetime, timedelta

    (ticket,) = _api(served, "spk_demo_dispatcher", "/v1/tickets?limit=1")["items"]
    now = datetime.now(UTC).replace(second=0, microsecond=0)

    def iso(minutes: int) -> str:
        return (now + timedelta(minutes=minutes)).isoformat()

    keys = ("departs_at", "arrives_at", "fixes_at")
    planned, seen = (-40, -10, 50), (-40, 0, 60)  # left on time, due 10 min ago: now
    en_route = ticket | {
        "status": "en_route",
        "visit": {"assignment_id": 1, **{k: iso(m) for k, m in zip(keys, planned, strict=True)},
                  **{f"expected_{k}": iso(m) for k, m in zip(keys, seen, strict=True)},
                  "pushed_min": 0, "parts_source": "none", "depot_id": None, "depot_name": None,
                  "shipment_id": None, "pickup": [], "overdue": ["arrive"]},
        "clocks": [{"clock": "arrive", "deadline": iso(5), "event_at": None,
                    "state": "breached", "slack_min": 0, "overdue": True}],
    }  # fmt: skip
    (card,) = _his_phone_shows(browser, served, [en_route], "my-day-overdue-phone")
    assert "Arriving now" in card
    assert "not arrived yet" in card
    assert "overdue" in card
    assert "left)" not in card
