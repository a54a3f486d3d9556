"""The soak run (benchmarks/soak.py) under pytest: 32 mixed clients on PostgreSQL.

Guards (issue 18): under minutes of mixed traffic no request answers 5xx, the ledger still
verifies (`spares stock verify`), and no ticket, reservation or assignment answered 201 is
lost. Bounded by `SPARES_SOAK_SECONDS` (default 120, the CI size); the 30-minute run is
`python -m benchmarks.soak --minutes 30`. Needs `SPARES_TEST_POSTGRES_URL` (skipped without).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from soak import Report, soak

POSTGRES = os.environ.get("SPARES_TEST_POSTGRES_URL")
SECONDS = float(os.environ.get("SPARES_SOAK_SECONDS", "120"))


@pytest.mark.skipif(POSTGRES is None, reason="set SPARES_TEST_POSTGRES_URL to soak PostgreSQL")
@pytest.mark.benchmark(group="soak")
def test_soak_postgres(benchmark: Any) -> None:
    assert POSTGRES is not None
    reports: list[Report] = []
    benchmark.pedantic(lambda: reports.append(soak(POSTGRES, SECONDS)), rounds=1, iterations=1)
    report = reports[0]
    print("\n" + report.table())  # noqa: T201
    out = Path(__file__).resolve().parents[1] / "reports" / "soak.json"  # gitignored
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report.__dict__, indent=2) + "\n")
    benchmark.extra_info.update({"routes": report.routes, "seconds": report.seconds})
    assert report.server_errors == []
    assert report.verify_exit == 0, report.verify_output
    assert report.tickets_missing == []
    assert report.tickets_unexplained == 0
    assert report.reservations_missing == []
    assert report.assignments_missing == []
    assert report.replay_mismatches == 0
