"""A worker killed mid-batch leaves ledger and balances consistent; a replay runs each key once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from db import make_sessionmaker
from db.transactions import run_in_transaction
from inventory.models import IdempotencyKey, Reservation, StockLevel
from inventory.verify import verify
from tests.concurrency.batch_worker import keyed_reserve
from tests.inventory.stock_builders import Shop

ROOT = Path(__file__).resolve().parents[2]
BATCH = 40
KILL_AFTER = 12  # committed reservations seen before the kill


def _count(session: Session, model: type[Any]) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_killed_mid_batch_then_replayed(clean_engine: Engine, shop_factory: Any) -> None:
    shop: Shop = shop_factory(BATCH + 5)
    url = clean_engine.url.render_as_string(hide_password=False)
    args = [url, shop.depot, shop.part, shop.user, BATCH, 0.02]
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.concurrency.batch_worker", *map(str, args)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env=os.environ | {"PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert worker.stdout is not None
    done = [worker.stdout.readline() for _ in range(KILL_AFTER)]
    worker.send_signal(signal.SIGKILL)  # most likely inside the next transaction's pause
    worker.wait()
    worker.stdout.close()
    assert all(done)
    with Session(clean_engine) as s:
        assert verify(session=s) == []  # each write wholly present or absent
        assert KILL_AFTER <= _count(s, Reservation) == _count(s, IdempotencyKey) < BATCH
    factory = make_sessionmaker(clean_engine)
    replayed = [
        run_in_transaction(factory, lambda s, i=i: keyed_reserve(
            s, depot=shop.depot, part=shop.part, user=shop.user, key=f"batch-{i}"))
        for i in range(BATCH)
    ]  # fmt: skip
    with Session(clean_engine) as s:
        assert verify(session=s) == []
        assert _count(s, Reservation) == _count(s, IdempotencyKey) == BATCH  # each key once
        assert len(set(replayed)) == BATCH
        level = s.scalars(select(StockLevel).where(StockLevel.part_id == shop.part)).one()
        assert level.reserved == BATCH
