"""A digest of the plans the compiled kernels make on fixed seeds: "no change in results".

    python benchmarks/plan_digest.py [--size 200 --size 1000] [--seed 0 --seed 1]
                                     [--iterations 2000]

On the scaling benchmark's growth problems (as `benchmarks/search_steps.py` builds them),
runs the greedy start (compiled insertion) and an iteration-limited search (deterministic:
the compiled step) per seed, and prints each plan's objective and a SHA-256 of its routes,
then one digest over all. Run it before and after a change to `optimizer/insertion.py` or
`optimizer/step.py` that must not change what they compute: the digests must match.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import replace

from optimizer import warm_up
from optimizer.greedy import construct, objective
from optimizer.insertion import ready
from optimizer.search import improve


def main() -> None:
    from benchmarks.search_steps import problem
    from spares.bench_scaling import demo_world

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, action="append")
    ap.add_argument("--seed", type=int, action="append")
    ap.add_argument("--iterations", type=int, default=2_000)
    args = ap.parse_args()
    warm_up()
    assert ready(), "the compiled kernels did not load"
    demo = demo_world()
    every = hashlib.sha256()
    for n in args.size or [200, 1_000]:
        base = problem(demo, n)
        for seed in args.seed or [0, 1]:
            p = replace(base, params=replace(base.params, seed=seed))
            start = construct(p)
            found = improve(p, start.routes, seed=seed, iterations=args.iterations)
            assert found.objective == objective(p, found.routes)
            for name, routes, cost in (
                ("greedy", start.routes, start.objective),
                ("search", found.routes, found.objective),
            ):
                text = repr([list(r) for r in routes]).encode()
                every.update(text)
                sys.stdout.write(
                    f"{n} tickets, seed {seed}, {name}: objective {cost:,}, "
                    f"routes {hashlib.sha256(text).hexdigest()[:16]}\n"
                )
                sys.stdout.flush()
    sys.stdout.write(f"all: {every.hexdigest()}\n")


if __name__ == "__main__":
    main()
