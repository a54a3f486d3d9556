"""The warehouse, the planner and the engineer's day, in a real browser."""

from __future__ import annotations

import json
from typing import Any
from urllib.request import Request, urlopen

from tests.browser.conftest import Served, Visit

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
    from tests.browser.conftest import open_visit

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
