"""One province day with whichever tree ``PYTHONPATH`` points to, as one JSON line.

Run it alternately on two trees (``git worktree add /tmp/prov_old COMMIT``) so both see the
same load; it reports what `spares bench province` does plus drops by reason and each
region's tickets, engineers, borrowed and served, which say where a drop comes from.

    PYTHONPATH=/tmp/prov_old python benchmarks/province_ab.py [--busy=N] [LIMIT [TICKETS
                                                  [ENGINEERS|- [REGION_TICKETS [JSON]]]]]

``JSON``: extra `ProvinceParams` fields, e.g. '{"staff_slack": 0.0}'. ``--busy=N``: N
busy loops (``timeout 200 nice -n 5 python -c 'while 1: pass'``) run beside the plan call
only, started when it starts and ended when it ends, so that the world's build (about a
minute, longer when shared) does not eat into them and every call sees the same contention.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import time

BUSY = ["timeout", "200", "nice", "-n", "5", sys.executable, "-c", "while 1: pass"]


def main(argv: list[str]) -> None:
    """Plan the day once and print the row."""
    from optimizer.province import ProvinceParams
    from spares import bench_province

    busy = next((int(a.split("=", 1)[1]) for a in argv if a.startswith("--busy=")), 0)
    argv = [a for a in argv if not a.startswith("--busy=")]
    limit = float(argv[0]) if argv else 60.0
    tickets = int(argv[1]) if len(argv) > 1 else 10_000
    engineers = int(argv[2]) if len(argv) > 2 and argv[2] != "-" else None
    region_tickets = int(argv[3]) if len(argv) > 3 else 500
    extra = json.loads(argv[4]) if len(argv) > 4 else {}
    load0 = os.getloadavg()[0]
    view = bench_province.province_world(engineers)
    todo = bench_province.province_tickets(view, tickets)
    params = ProvinceParams(region_tickets=region_tickets, border_ratio=1.5, workers=2, **extra)
    with bench_province.runner(2, None) as run:
        loops = [subprocess.Popen(BUSY) for _ in range(busy)]
        load_plan = os.getloadavg()[0]
        try:
            row, out = bench_province.run_province(view, todo, limit, run, params)
        finally:
            for p in loops:
                p.terminate()
                p.wait()
    tree = os.environ.get("PYTHONPATH", ".")
    commit = subprocess.run(
        ["git", "-C", tree, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    reasons = collections.Counter(d.reason.value for d in out.plan.dropped)
    sys.stdout.write(json.dumps({
        "commit": commit, "at": time.strftime("%H:%M:%S", time.gmtime()),
        "load": [round(load0, 1), round(load_plan, 1), round(os.getloadavg()[0], 1)],
        "busy": busy, "extra": extra,
        "wall": round(row.wall_s, 1), "regions_s": round(row.regions_s, 1),
        "seams_s": round(row.seams_s, 1), "served": row.served, "dropped": row.dropped,
        "reasons": dict(reasons), "region_served": sum(r.served for r in out.regions),
        "regions": [(r.tickets, r.engineers, r.borrowed, r.served) for r in out.regions],
        "seams_kept": row.seams_kept, "seams": row.seams, "moved": row.moved,
        "shared": row.shared, "travel_h": round(row.travel_h), "quality": row.quality,
        "regions_valid": row.regions_feasible, "valid": row.feasible,
    }) + "\n")  # fmt: skip
    sys.stdout.flush()


if __name__ == "__main__":  # the process pool's forkserver imports this module again
    main(sys.argv[1:])
