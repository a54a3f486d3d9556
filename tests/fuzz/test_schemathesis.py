"""schemathesis over the served OpenAPI document, with each role's key and without one.

Marked `fuzz`: the normal suite skips it (`-m "not fuzz"` in the pytest options) and
`.ci/run` runs it on its own with a bounded budget (`FUZZ_EXAMPLES` per operation and
backend). Every answer must be no 5xx, a status the document declares for the operation,
and the content type it declares (problem+json for every error). The world is small
and built once per backend; the keys rotate over the cases, so each operation is tried
with several roles and without a key.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.app import create_app
from api.settings import Settings
from db import Role, make_engine
from dispatch.models import Engineer, Site, Ticket, TicketType
from inventory.models import Region
from tests.api.conftest import delete_all_rows
from tests.builders import key_for, make_user
from tests.dispatch_world import make_dispatch_world

pytestmark = pytest.mark.fuzz

FUZZ_EXAMPLES = int(os.environ.get("SPARES_FUZZ_EXAMPLES", "6"))
# The operations that solve take up to seconds each, by design: they are fuzzed on their own
# with a smaller budget, their time limits cut to `SOLVING_TIME_LIMIT_S`.
SOLVING = ("/v1/dispatch/plans$", "/disruptions$", "/insert$", "/v1/stock/recommendations$")
SOLVING_EXAMPLES = int(os.environ.get("SPARES_FUZZ_SOLVING_EXAMPLES", "8"))
SOLVING_TIME_LIMIT_S = 0.2
# Left out everywhere: the world import (a zip body, which schemathesis cannot generate).
LEFT_OUT = (*SOLVING, "/v1/world/import$")
KEYS = itertools.cycle([key_for(r) for r in Role] + [None])
# The solving operations admit dispatchers, admins and (stock) planners and warehouse staff:
# most cases carry one of their keys, so most can reach the solver.
SOLVERS = itertools.cycle([key_for(Role.DISPATCHER), key_for(Role.ADMIN), key_for(Role.PLANNER),
                           key_for(Role.WAREHOUSE), key_for(Role.DISPATCHER), None,
                           key_for(Role.ADMIN), key_for(Role.ENGINEER)])  # fmt: skip


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:
        pass


@pytest.fixture(scope="module")
def served(engine: Engine, database_url: str) -> Iterator[str]:
    """The real app under uvicorn on a small world, rate limits off; its base URL."""
    delete_all_rows(engine)
    with Session(engine) as s, s.begin():
        make_dispatch_world(s)
        for role in (Role.ADMIN, Role.WAREHOUSE, Role.PLANNER):
            make_user(s, role)
    wide = make_engine(engine.url.render_as_string(hide_password=False), pool_size=20)
    app_settings = Settings(_env_file=None, database_url=database_url,
                            rate_limit_per_key="off", rate_limit_per_address="off")  # fmt: skip
    app = create_app(app_settings, engine=wide)
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join()
    wide.dispose()
    delete_all_rows(engine)


@pytest.fixture(scope="module")
def api_schema(served: str) -> schemathesis.BaseSchema:
    document = httpx.get(f"{served}/openapi.json", timeout=60).json()
    schema = schemathesis.openapi.from_dict(document)
    return schema.exclude(path_regex="|".join(LEFT_OUT))


@pytest.fixture(scope="module")
def solving_schema(served: str) -> schemathesis.BaseSchema:
    document = httpx.get(f"{served}/openapi.json", timeout=60).json()
    return schemathesis.openapi.from_dict(document).include(path_regex="|".join(SOLVING))


@pytest.fixture(scope="module")
def known(served: str, engine: Engine) -> dict[str, int]:
    """Ids that exist (a region, a ticket, an engineer; a plan, published if it can be)."""
    with Session(engine) as s:
        ids = {name: s.scalars(select(model.id).order_by(model.id)).first()
               for name, model in (("region_id", Region), ("ticket_id", Ticket),
                                   ("engineer_id", Engineer), ("site_id", Site),
                                   ("ticket_type_id", TicketType))}  # fmt: skip
    headers = {"X-API-Key": key_for(Role.DISPATCHER)}
    with httpx.Client(base_url=served, timeout=60, headers=headers) as client:
        made = client.post("/v1/dispatch/plans", json={"ticket_ids": [ids["ticket_id"]],
                           "time_limit_s": 0})  # fmt: skip
        assert made.status_code == 201, made.text
        plan_id = made.json()["id"]
        client.post(f"/v1/dispatch/plans/{plan_id}/publish", headers={"Idempotency-Key": "fz"})
        fresh = client.post(
            "/v1/tickets",
            json={
                "site_id": ids["site_id"],
                "channel": "phone",
                "ticket_type_id": ids["ticket_type_id"],
                "severity": "urgent",
            },
        )
        assert fresh.status_code == 201, fresh.text  # a new ticket: the one to insert, plan
    ids["ticket_id"] = fresh.json()["id"]
    return {name: i for name, i in ids.items() if i is not None} | {"plan_id": plan_id}


def _quick(known: dict[str, int]) -> Any:
    """Cut each case's search time short (the budget is examples, not minutes) and, for every
    other case, point its ids at rows that exist, so the solver runs on the fuzzed rest."""
    turn = itertools.count()

    def adjust(case: Any) -> Any:
        body = case.body if isinstance(case.body, dict) else {}
        limit = body.get("time_limit_s")
        if isinstance(limit, int | float):
            body["time_limit_s"] = min(float(limit), SOLVING_TIME_LIMIT_S)
        if next(turn) % 2:
            return case
        for name in set(known) & set(case.path_parameters or {}):
            case.path_parameters[name] = known[name]
        for name in set(known) & set(body):
            body[name] = known[name]
        if isinstance(body.get("ticket_ids"), list):
            body["ticket_ids"] = [known["ticket_id"]]
        if "region" in body:  # a region code; none is the whole network
            body["region"] = None
        if "region_id" in body and "ticket_ids" in body:  # one or the other
            del body["region_id"]
        elif case.operation.path == "/v1/dispatch/plans" and "region_id" not in body:
            body["ticket_ids"] = [known["ticket_id"]]
        for params, name in ((case.query, "tz"), (case.headers, "Time-Zone")):
            if params:  # the display zone is fuzzed everywhere else
                params.pop(name, None)
        return case

    return adjust


def test_no_5xx_and_every_answer_documented(
    api_schema: schemathesis.BaseSchema, served: str
) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 50
    _fuzz(operations, served, FUZZ_EXAMPLES, KEYS)


def test_the_solving_operations_too(
    solving_schema: schemathesis.BaseSchema, served: str, known: dict[str, int]
) -> None:
    operations = [result.ok() for result in solving_schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= len(SOLVING)  # and the listing of plans
    _fuzz(operations, served, SOLVING_EXAMPLES, SOLVERS, adjust=_quick(known))


def _fuzz(
    operations: list[Any], served: str, examples: int, keys: Iterator[str | None],
    *, adjust: Any = None,
) -> None:  # fmt: skip
    """Each operation with `examples` generated cases and a rotating key: no 5xx, as documented."""
    failures: list[str] = []
    for operation in operations:
        strategy = operation.as_strategy()

        @given(case=strategy.map(adjust) if adjust is not None else strategy)
        @settings(max_examples=examples, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.generate])  # fmt: skip
        def run(case: schemathesis.Case) -> None:
            key = next(keys)
            headers = {} if key is None else {"X-API-Key": key}
            case.call_and_validate(
                base_url=served, headers=headers, timeout=60,
                checks=[checks.not_a_server_error, checks.status_code_conformance,
                        checks.content_type_conformance],
            )  # fmt: skip

        try:
            run()
        except Exception as exc:  # every operation is tried; all failures are reported
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    assert not failures, "\n\n".join(failures)
