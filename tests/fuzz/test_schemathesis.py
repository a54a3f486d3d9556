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

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.app import create_app
from api.settings import Settings
from db import Role, make_engine
from tests.api.conftest import delete_all_rows
from tests.builders import key_for, make_user
from tests.dispatch_world import make_dispatch_world

pytestmark = pytest.mark.fuzz

FUZZ_EXAMPLES = int(os.environ.get("SPARES_FUZZ_EXAMPLES", "6"))
# Left out: operations that solve (seconds each, by design; their own tests cover their
# input) and the world import (a zip body, which schemathesis cannot generate).
LEFT_OUT = ("/v1/dispatch/plans$", "/disruptions$", "/insert$", "/v1/stock/recommendations$",
            "/v1/world/import$")  # fmt: skip
KEYS = itertools.cycle([key_for(r) for r in Role] + [None])


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


def test_no_5xx_and_every_answer_documented(
    api_schema: schemathesis.BaseSchema, served: str
) -> None:
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 50
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.generate])  # fmt: skip
        def run(case: schemathesis.Case) -> None:
            key = next(KEYS)
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
