"""Many clients write the same thing at once, over HTTP, on a SQLite file and on PostgreSQL.

Every write route that changes one ticket, assignment or plan is raced by `RACERS`
clients released together: never a 5xx, exactly the expected number of winners, the
rest 409 problem+json, and the database afterwards as one winner left it. Admin writes
race on one unique code (one wins, the rest 409 naming the clash) or one row.
No timed asserts; each request is bounded by the client's timeout.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from db import Role
from dispatch.models import Absence, Assignment, AssignmentStatus, LogKind, ServiceLogEntry, Ticket
from inventory.verify import verify
from tests.builders import key_for, make_contract, make_policy, make_region, make_user
from tests.concurrency.conftest import race
from tests.dispatch_world import make_dispatch_world
from tests.ticket_builders import T0

RACERS = 50
SOLVING_RACERS = 8  # each disruption solves a re-plan: fewer, still all at once
TIMEOUT_S = 120.0
PROBLEM_JSON = "application/problem+json"


@pytest.fixture
def clock() -> Callable[[], datetime]:
    return lambda: T0


@dataclass
class Ids:
    ticket: int
    engineers: tuple[int, ...]


@pytest.fixture
def ids(wide_engine: Engine) -> Ids:
    with Session(wide_engine) as s, s.begin():
        dw = make_dispatch_world(s)
        for role in (Role.ADMIN, Role.PLANNER):
            make_user(s, role)
        return Ids(dw.ticket.id, (dw.haizhu.id, dw.panyu.id, dw.liwan.id))


Result = tuple[int, dict[str, Any], str]


def hammer(
    base: str, n: int, method: str, url: str | Callable[[int], str], role: Role = Role.DISPATCHER,
    body: dict[str, Any] | Callable[[int], dict[str, Any]] | None = None,
    idempotent: bool = False, headers: dict[str, str] | None = None,
) -> list[Result]:  # fmt: skip
    """Send `n` requests at once (one client and socket each); (status, json, content type)."""
    extra = headers or {}

    def attempt(i: int) -> Result:
        headers = {"X-API-Key": key_for(role)} | extra
        if idempotent:
            headers["Idempotency-Key"] = f"race-{i}"
        path = url(i) if callable(url) else url
        payload = body(i) if callable(body) else body
        with httpx.Client(base_url=base, timeout=TIMEOUT_S) as client:
            got = client.request(method, path, json=payload, headers=headers)
        return got.status_code, got.json(), got.headers.get("content-type", "")

    return race(n, attempt)


def outcome(results: list[Result], winner: int) -> Counter[int]:
    """The status counts, after checking there is no 5xx and every refusal is a problem."""
    counts = Counter(code for code, _, _ in results)
    assert not [r for r in results if r[0] >= 500], [r for r in results if r[0] >= 500][:3]
    for code, body, media in results:
        if code != winner:
            assert media == PROBLEM_JSON, (code, body)
            assert body["status"] == code
    return counts


def _one(engine: Engine, stmt: Any) -> Any:
    with Session(engine) as s:
        return s.execute(stmt).scalar_one()


def _ledger_clean(engine: Engine) -> None:
    with Session(engine) as s:
        assert verify(session=s) == []


def test_one_transition_wins_the_rest_409(served: str, ids: Ids, wide_engine: Engine) -> None:
    url = f"/v1/tickets/{ids.ticket}/transitions"
    results = hammer(served, RACERS, "POST", url, body={"to": "responded"})
    assert outcome(results, 200) == {200: 1, 409: RACERS - 1}
    refused = {body["type"] for code, body, _ in results if code == 409}
    assert refused == {"urn:spares:problem:illegal-transition"}
    logged = (
        select(func.count())
        .select_from(ServiceLogEntry)
        .where(ServiceLogEntry.ticket_id == ids.ticket, ServiceLogEntry.kind == LogKind.TRANSITION)
    )
    assert _one(wide_engine, logged) == 1


def test_severity_changes_queue_up_and_each_is_logged_once(
    served: str, ids: Ids, wide_engine: Engine
) -> None:
    severities = ("serious", "general")
    results = hammer(served, RACERS, "PATCH", f"/v1/tickets/{ids.ticket}",
                     body=lambda i: {"severity": severities[i % 2]})  # fmt: skip
    assert outcome(results, 200) == {200: RACERS}  # each applied in turn, none lost
    with Session(wide_engine) as s:
        ticket = s.get(Ticket, ids.ticket)
        assert ticket is not None
        log = select(func.count()).select_from(ServiceLogEntry)
        changes = s.scalar(log.where(ServiceLogEntry.ticket_id == ids.ticket,
                                     ServiceLogEntry.kind == LogKind.CHANGE))  # fmt: skip
        assert changes is not None
        assert ticket.version == 1 + changes  # every change bumped the version once
        assert 2 <= changes <= RACERS


def test_one_change_for_the_version_read_wins_the_rest_412(
    served: str, ids: Ids, wide_engine: Engine
) -> None:
    """Every racer read version 1 and sends `If-Match: "1"`: one changes the severity, the
    rest are refused and told the version the ticket has now (2); one change logged."""
    severities = ("serious", "general")
    results = hammer(served, RACERS, "PATCH", f"/v1/tickets/{ids.ticket}",
                     body=lambda i: {"severity": severities[i % 2]},
                     headers={"If-Match": '"1"'})  # fmt: skip
    assert outcome(results, 200) == {200: 1, 412: RACERS - 1}
    refused = {(b["type"], b["current_version"]) for code, b, _ in results if code == 412}
    assert refused == {("urn:spares:problem:version-mismatch", 2)}
    with Session(wide_engine) as s:
        ticket = s.get(Ticket, ids.ticket)
        assert ticket is not None
        assert ticket.version == 2
        log = select(func.count()).select_from(ServiceLogEntry)
        assert s.scalar(log.where(ServiceLogEntry.ticket_id == ids.ticket,
                                  ServiceLogEntry.kind == LogKind.CHANGE)) == 1  # fmt: skip


def test_one_assignment_wins_the_rest_409(served: str, ids: Ids, wide_engine: Engine) -> None:
    def body(i: int) -> dict[str, Any]:
        return {"ticket_id": ids.ticket, "engineer_id": ids.engineers[i % 2]}

    results = hammer(served, RACERS, "POST", "/v1/dispatch/assignments", body=body,
                     idempotent=True)  # fmt: skip
    assert outcome(results, 201) == {201: 1, 409: RACERS - 1}
    active = (
        select(func.count())
        .select_from(Assignment)
        .where(Assignment.ticket_id == ids.ticket, Assignment.status == AssignmentStatus.ACTIVE)
    )
    assert _one(wide_engine, active) == 1
    _ledger_clean(wide_engine)


def _plan(base: str, ticket_id: int, *, publish: bool) -> int:
    headers = {"X-API-Key": key_for(Role.DISPATCHER)}
    with httpx.Client(base_url=base, timeout=TIMEOUT_S) as client:
        made = client.post("/v1/dispatch/plans", json={"ticket_ids": [ticket_id],
                           "time_limit_s": 0}, headers=headers)  # fmt: skip
        assert made.status_code == 201, made.text
        plan_id = int(made.json()["id"])
        if publish:
            done = client.post(f"/v1/dispatch/plans/{plan_id}/publish",
                               headers=headers | {"Idempotency-Key": f"p-{plan_id}"})  # fmt: skip
            assert done.status_code == 200, done.text
    return plan_id


def test_one_publish_wins_the_rest_409(served: str, ids: Ids, wide_engine: Engine) -> None:
    plan_id = _plan(served, ids.ticket, publish=False)
    url = f"/v1/dispatch/plans/{plan_id}/publish"
    results = hammer(served, RACERS, "POST", url, idempotent=True)
    assert outcome(results, 200) == {200: 1, 409: RACERS - 1}
    refused = {body["type"] for code, body, _ in results if code == 409}
    assert refused == {"urn:spares:problem:publish-conflict"}
    active = (
        select(func.count())
        .select_from(Assignment)
        .where(Assignment.ticket_id == ids.ticket, Assignment.status == AssignmentStatus.ACTIVE)
    )
    assert _one(wide_engine, active) == 1
    _ledger_clean(wide_engine)


def _active_assignment(engine: Engine, ticket_id: int) -> tuple[int, int]:
    with Session(engine) as s:
        row = s.execute(
            select(Assignment.id, Assignment.engineer_id).where(
                Assignment.ticket_id == ticket_id, Assignment.status == AssignmentStatus.ACTIVE
            )
        ).one()
        return row[0], row[1]


def test_pins_are_one_change_and_one_withdrawal_wins(
    served: str, ids: Ids, wide_engine: Engine
) -> None:
    _plan(served, ids.ticket, publish=True)
    assignment, _ = _active_assignment(wide_engine, ids.ticket)
    url = f"/v1/dispatch/assignments/{assignment}"
    assert outcome(hammer(served, RACERS, "POST", f"{url}/pin"), 200) == {200: RACERS}
    decisions = select(func.count()).select_from(ServiceLogEntry).where(
        ServiceLogEntry.ticket_id == ids.ticket, ServiceLogEntry.kind == LogKind.DECISION,
        ServiceLogEntry.reason.like("pinned to%"),
    )  # fmt: skip
    assert _one(wide_engine, decisions) == 1
    results = hammer(served, RACERS, "POST", f"{url}/withdraw", body={"reason": "van broke down"})
    assert outcome(results, 200) == {200: 1, 409: RACERS - 1}
    _ledger_clean(wide_engine)


def test_absences_reported_at_once_are_recorded_once(
    served: str, ids: Ids, wide_engine: Engine
) -> None:
    plan_id = _plan(served, ids.ticket, publish=True)
    _, gone = _active_assignment(wide_engine, ids.ticket)
    body = {"kind": "engineer_absent", "engineer_id": gone, "time_limit_s": 0}
    url = f"/v1/dispatch/plans/{plan_id}/disruptions"
    results = hammer(served, SOLVING_RACERS, "POST", url, body=body)
    assert outcome(results, 201) == {201: SOLVING_RACERS}  # each a draft around one absence
    assert {body["absence_id"] for _, body, _ in results} == {
        _one(wide_engine, select(Absence.id).where(Absence.engineer_id == gone))
    }
    _ledger_clean(wide_engine)


def test_one_intake_per_request_none_lost(served: str, ids: Ids, wide_engine: Engine) -> None:
    with Session(wide_engine) as s:
        ticket = s.get(Ticket, ids.ticket)
        assert ticket is not None
        body = {"site_id": ticket.site_id, "asset_id": ticket.asset_id, "severity": "urgent",
                "ticket_type_id": ticket.ticket_type_id, "channel": "phone"}  # fmt: skip
    results = hammer(served, RACERS, "POST", "/v1/tickets", body=body)
    assert outcome(results, 201) == {201: RACERS}
    assert len({b["id"] for _, b, _ in results}) == RACERS


class TestAdminWrites:
    """Unique codes raced: one 201, the rest 409 naming the clash; one row edited at once."""

    @pytest.fixture
    def refs(self, wide_engine: Engine) -> dict[str, int]:
        with Session(wide_engine) as s, s.begin():
            make_user(s, Role.ADMIN)
            make_user(s, Role.PLANNER)
            region = make_region(s)
            policy = make_policy(s, code="P-RACE")
            contract = make_contract(s, policy, code="C-RACE-0")
            return {"region": region.id, "policy": policy.id, "contract": contract.id}

    def _clash(self, served: str, url: str, body: dict[str, Any], field: str) -> None:
        results = hammer(served, RACERS, "POST", url, Role.ADMIN, body=body)
        assert outcome(results, 201) == {201: 1, 409: RACERS - 1}
        for code, problem, _ in results:
            if code == 409:
                assert (problem["field"], problem["value"]) == (field, body[field])

    def test_contracts(self, served: str, refs: dict[str, int]) -> None:
        body = {"code": "C-RACE", "customer_name": "ACME", "policy_id": refs["policy"],
                "starts_on": "2025-01-01"}  # fmt: skip
        self._clash(served, "/v1/contracts", body, "code")

    def test_engineers(self, served: str, refs: dict[str, int]) -> None:
        body = {"code": "E-RACE", "name": "Racer", "region_id": refs["region"],
                "home_lat": 23.1, "home_lon": 113.3}  # fmt: skip
        self._clash(served, "/v1/engineers", body, "code")

    def test_sites(self, served: str, refs: dict[str, int]) -> None:
        body = {"code": "S-RACE", "name": "Race site", "region_id": refs["region"],
                "contract_id": refs["contract"], "lat": 23.1, "lon": 113.2}  # fmt: skip
        self._clash(served, "/v1/sites", body, "code")

    def test_users(self, served: str, refs: dict[str, int]) -> None:
        body = {"name": "racer", "role": "dispatcher", "active": False}
        self._clash(served, "/v1/users", body, "name")

    def test_scenario_runs_are_each_queued(self, served: str, refs: dict[str, int]) -> None:
        body = {"name": "race", "horizon_days": 0.25, "replications": 1, "policies": ["naive"],
                "demand": {"tickets_per_day": 20}}  # fmt: skip
        results = hammer(served, RACERS, "POST", "/v1/scenarios/runs", Role.PLANNER, body=body)
        assert outcome(results, 202) == {202: RACERS}
        assert len({b["id"] for _, b, _ in results}) == RACERS

    def test_one_absence_edited_at_once(self, served: str, ids: Ids) -> None:
        engineer = ids.engineers[0]
        url = f"/v1/engineers/{engineer}/absences"
        headers = {"X-API-Key": key_for(Role.ADMIN)}
        body = {"starts_at": "2026-03-02T00:00:00Z", "ends_at": "2026-03-09T00:00:00Z",
                "reason": "sick leave"}  # fmt: skip
        with httpx.Client(base_url=served, timeout=TIMEOUT_S) as client:
            made = client.post(url, json=body, headers=headers)
        assert made.status_code == 201, made.text
        path = f"{url}/{made.json()['id']}"
        results = hammer(served, RACERS, "PATCH", path, Role.ADMIN,
                         body=lambda i: {"reason": f"edit {i}"})  # fmt: skip
        assert outcome(results, 200) == {200: RACERS}
