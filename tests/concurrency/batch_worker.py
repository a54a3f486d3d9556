"""A worker process for the kill test: a batch of keyed reservations, one transaction each.

Run as `python -m tests.concurrency.batch_worker URL DEPOT PART USER COUNT [PAUSE_S]`.
It prints one line per committed reservation; PAUSE_S keeps each transaction open a
moment after its writes, so a SIGKILL is likely to land in the middle of one.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from sqlalchemy.orm import Session

import dispatch.models  # noqa: F401 (every table on the metadata: stock rows point at tickets)
from db import make_engine, make_sessionmaker
from db.transactions import run_in_transaction
from inventory import idempotency, reservations


def keyed_reserve(
    session: Session, *, depot: int, part: int, user: int, key: str, pause_s: float = 0.0
) -> int:
    """Reserve one unit under an idempotency key; returns the reservation id (replayed or new)."""
    now = datetime.now(UTC)
    printed = idempotency.fingerprint("POST", "/batch", f"{depot}:{part}".encode())
    found = idempotency.claim(session=session, user_id=user, key=key, fingerprint=printed, now=now)
    if isinstance(found, idempotency.StoredResponse):
        return int(found.body["id"])
    [held] = reservations.reserve(session=session, depot_id=depot, user_id=user, now=now,
                                  lines=[reservations.ReserveLine(part, 1)])  # fmt: skip
    idempotency.complete(session=session, claim=found, status=201, body={"id": held.id})
    if pause_s:
        time.sleep(pause_s)
    return held.id


def main(argv: list[str]) -> None:
    url, depot, part, user, count = argv[0], *map(int, argv[1:5])
    pause_s = float(argv[5]) if len(argv) > 5 else 0.0
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    for i in range(count):
        rid = run_in_transaction(
            factory,
            lambda s, i=i: keyed_reserve(s, depot=depot, part=part, user=user, key=f"batch-{i}",
                                         pause_s=pause_s),
        )  # fmt: skip
        print(f"{i} {rid}", flush=True)  # noqa: T201 (progress for the parent test)


if __name__ == "__main__":
    main(sys.argv[1:])
