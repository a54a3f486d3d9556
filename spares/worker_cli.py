"""`spares worker`: the command; the worker itself (jobs, heartbeats) is `spares.worker`,
loaded when the command runs so that the command line starts at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

POLL_S = 2.0  # seconds between two polls for a job, when none is waiting


def worker_command(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="one round, then exit")] = False,
    poll: Annotated[float, typer.Option("--poll", min=0.1, help="seconds between polls")] = POLL_S,
) -> None:  # fmt: skip
    """Run background jobs (route plans), the stock sweeper and the re-dispatch tick until
    SIGINT/SIGTERM."""
    import signal

    from rich.console import Console

    import db
    import optimizer as opt
    from api.travel import make_travel
    from spares.worker import SIGNALS, Worker, handlers

    settings = ctx.obj.settings
    engine = db.make_engine(settings.database_url)
    db.upgrade(engine)
    # Start the process server before the first job's clock runs, with what both job kinds'
    # children need imported (one server per process: the first to start it sets the list).
    opt.warm_up(preload=["scenarios.executors"])
    travel = make_travel(settings)
    worker = Worker(
        db.make_sessionmaker(engine),
        handlers(travel),
        stale_after=timedelta(seconds=settings.worker_stale_after_s),
        heartbeat_every_s=settings.worker_heartbeat_s,
        travel=travel,  # the re-dispatch tick (issue 16)
    )
    previous = {sig: signal.signal(sig, lambda *_: worker.stop.set()) for sig in SIGNALS}
    console = Console(stderr=True)
    console.print(f"worker {worker.name} on {len(worker.registry)} job kind(s)")
    try:
        if once:
            status = worker.run_once()
            console.print(f"ran a job: {status}" if status else "no job waiting")
        else:
            worker.run(poll_s=poll)
            console.print("stopped")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        engine.dispose()
