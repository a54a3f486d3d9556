"""The uniform rule's steps on an advice file's fresh ticket streams (the final check's).

`spares advise` takes the uniform rule's first step that holds on the *search* streams; when
none does, its answer is the last step and the cheaper ones are never checked on the fresh
streams. This runs every step there, so the saving can be taken against the first that holds
(BENCHMARKS.md, *Capacity advice*):

    PYTHONPATH=. .venv/bin/python benchmarks/advise_uniform_steps.py FILE [WORKERS]
"""

from __future__ import annotations

import sys
import time

from scenarios.advise import SimulationEvaluator, load_advice, scenario_runner, uniform_changes
from scenarios.executors import make_executor


def main(path: str, workers: int) -> None:
    spec = load_advice(path)
    evaluate = SimulationEvaluator(spec, scenario_runner(make_executor(workers)))
    steps = range(1, max(1, spec.max_rounds) + 1)
    started = time.monotonic()
    got = evaluate({f"u{k}": uniform_changes(evaluate.world, spec.moves, k) for k in steps}, 1)
    for k in steps:
        e = got[f"u{k}"]
        cells = []
        for t in spec.targets:
            a = e.attainment.get((t.kpi, t.scope))
            if a is not None:
                cells.append(f"{t.kpi}@{t.scope} {100 * a.mean:.1f} [{100 * a.low:.1f}, "
                             f"{100 * a.high:.1f}]")  # fmt: skip
        holds = "holds" if e.holds(spec.targets, spec.tolerance) else "does not hold"
        sys.stdout.write(f"step {k}: {e.cost.engineers} engineers, {e.cost.total:,.0f} "
                         f"{spec.costs.currency}; {'; '.join(cells)}; {holds}\n")  # fmt: skip
    sys.stdout.write(f"wall {time.monotonic() - started:.0f} s\n")


if __name__ == "__main__":  # a process pool needs the guard
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2)
