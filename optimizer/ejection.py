"""The urgent fast path's search: make room for one visit with at most N changes.

A *change* is an announced, unlocked visit that the insertion reassigns to another engineer
(its start stays within the ETA tolerance: its window says so) or, when it is less severe
than the urgent ticket, defers out of today's plan (the background re-plan tries it again).
Locked visits (pinned, in progress, inside the frozen horizon) never change.

The search is level by level, level ``L`` holding the candidates with exactly ``L`` changes:

- level 0: cheapest insertion of ``u`` into the nearest engineers and those who can reach it
  first (`optimizer.locks.reach`);
- level ``L``: *room* on one of the engineers who can reach ``u`` first: ``L`` of his movable
  visits taken out so that ``u`` fits, and *chains* from level ``L - 1``: a visit waiting to
  be placed goes to another engineer in place of one of his movable visits, which then waits;
  every waiting visit is finally relocated (cheapest insertion among the engineers who can
  start it inside its window) or deferred. Only the best `BEAM` partial candidates of a
  level (least late ``u``, then the least severe work disturbed, then the cheapest) are
  completed and grow chains; ``u``'s route is never touched again once ``u`` is in it.

The result is the best candidate by (lateness of ``u``, changes, objective change): on time
first, then the fewest changes (stability is what the budget protects), then the cheapest.
A level is searched only while it can still reduce ``u``'s lateness, and a level does not
depend on the budget, so a larger budget searches a superset: it never gives a worse
outcome for ``u`` (monotone by construction; the property tests check it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

from optimizer.greedy import route_cost
from optimizer.locks import Locked, candidates, insertions, reach, remove
from optimizer.problem import VISIT

EJECT = 6  # engineers who can reach u first, on whose routes room is made
RELOCATE = 8  # engineers tried for a visit that must move (those who can start it first)
BEAM = 8  # partial candidates per level that grow chains
ROOM = 6  # first movable visits of a route that room is made from (the ones delaying u)
NEVER = 1 << 60  # lateness of a visit that fits nowhere


@dataclass(frozen=True, slots=True)
class Outcome:
    """A way to insert ``u``: changed routes, relocated and deferred announced visits."""

    late: int  # seconds u starts past its due time; NEVER: not inserted
    cost: int  # objective change (routes, plus the drop penalty of deferred visits)
    routes: dict[int, list[int]] = field(default_factory=dict)
    moved: frozenset[int] = frozenset()
    deferred: frozenset[int] = frozenset()

    @property
    def changes(self) -> int:
        """Announced visits reassigned or deferred (what the change budget counts)."""
        return len(self.moved) + len(self.deferred)

    @property
    def key(self) -> tuple[int, int, int]:
        """On time first, then fewest changes, then cheapest."""
        return (self.late, self.changes, self.cost)


@dataclass(frozen=True, slots=True)
class _Partial:
    outcome: Outcome
    vehicle: int  # u's vehicle (never touched again)
    pending: tuple[int, ...]  # announced visits taken out, still to place


class _Search:
    def __init__(self, lk: Locked, routes: Sequence[Sequence[int]], costs: Sequence[int]) -> None:
        self.lk, self.base, self.costs = lk, routes, costs
        p, tab = lk.p, lk.tab
        announced, now = lk.baseline.by_ticket(), p.now
        self.home: dict[int, int] = {}  # movable node -> its announced vehicle
        for v, seq in enumerate(routes):
            for n in seq:
                if tab.kind[n] != VISIT:
                    continue
                c = announced.get(lk.keep[int(p.ticket[n])].id)
                if c is not None and not lk.baseline.is_locked(c, now):
                    self.home[n] = v

    def weight(self, nodes: Sequence[int]) -> int:
        """Lateness weight of the waiting visits: disturb the least severe work first."""
        return sum(self.lk.tab.weight[n] for n in nodes)

    def rank(self, n: int) -> int:
        return self.lk.keep[int(self.lk.p.ticket[n])].severity_rank

    def route(self, o: Outcome, v: int) -> list[int]:
        found = o.routes.get(v)
        return list(self.base[v]) if found is None else found

    def cost(self, o: Outcome, v: int) -> int:
        found = o.routes.get(v)
        if found is None:
            return self.costs[v]
        return (route_cost(self.lk.p, v, found, self.lk.tab) or 0) if found else 0

    def movable(self, o: Outcome, seq: Sequence[int]) -> list[int]:
        return [n for n in seq if n in self.home and n not in o.moved]


def best_insertion(
    lk: Locked, routes: Sequence[Sequence[int]], costs: Sequence[int], u: int, budget: int
) -> Outcome:
    """The best way to insert visit ``u`` with at most ``budget`` changes (module docstring)."""
    s = _Search(lk, routes, costs)
    best = _direct(s, u)
    beam: list[_Partial] = []
    for level in range(1, budget + 1):
        if best.late == 0:
            break
        partial = [*_room(s, u, level, best.late), *_chains(s, beam, best.late)]
        partial.sort(key=lambda q: (q.outcome.late, s.weight(q.pending), q.outcome.cost))
        for q in partial[:BEAM]:
            done = _resolve(s, q, u)
            if done is not None and done.key < best.key:
                best = done
        beam = partial[:BEAM]
    return best


def _direct(s: _Search, u: int) -> Outcome:
    lk, best = s.lk, Outcome(NEVER, 0)
    near = candidates(lk, u)
    for v in [*near, *(v for v in reach(lk, u, EJECT) if v not in near)]:
        found = insertions(lk, s.base[v], v, u)
        if found is not None:
            o = Outcome(late_of(lk, v, found[1], u), found[0] - s.costs[v], {v: found[1]})
            best = o if o.key < best.key else best
    return best


def _room(s: _Search, u: int, level: int, bound: int) -> list[_Partial]:
    """``level`` movable visits out of one route that can reach ``u`` first, ``u`` in."""
    lk, out = s.lk, []
    for v in reach(lk, u, EJECT):
        seq = list(s.base[v])
        for gone in combinations(s.movable(Outcome(0, 0), seq)[:ROOM], level):
            rest = seq
            for w in gone:
                rest = remove(lk, rest, w)
            found = insertions(lk, rest, v, u)
            if found is None:
                continue
            late = late_of(lk, v, found[1], u)
            if late < bound:
                o = Outcome(late, found[0] - s.costs[v], {v: found[1]})
                out.append(_Partial(o, v, gone))
    return out


def _chains(s: _Search, beam: Sequence[_Partial], bound: int) -> list[_Partial]:
    """The first waiting visit of each partial takes another engineer's movable visit's place."""
    lk, out = s.lk, []
    for q in beam:
        o, w = q.outcome, q.pending[0]
        if o.late >= bound:
            continue
        for v2 in reach(lk, w, RELOCATE):
            if v2 in (q.vehicle, s.home[w]):
                continue
            seq = s.route(o, v2)
            for w2 in s.movable(o, seq):
                found = insertions(lk, remove(lk, seq, w2), v2, w)
                if found is None:
                    continue
                cost = o.cost + found[0] - s.cost(o, v2)
                o2 = Outcome(o.late, cost, {**o.routes, v2: found[1]}, o.moved | {w}, o.deferred)
                out.append(_Partial(o2, q.vehicle, (*q.pending[1:], w2)))
    return out


def _resolve(s: _Search, q: _Partial, u: int) -> Outcome | None:
    """Place every waiting visit: the cheapest relocation, or a deferral if less severe."""
    o = q.outcome
    for w in q.pending:
        best: tuple[int, int, list[int]] | None = None  # (cost change, vehicle, route)
        for v2 in reach(s.lk, w, RELOCATE):
            if v2 in (q.vehicle, s.home[w]):
                continue
            found = insertions(s.lk, s.route(o, v2), v2, w)
            if found is not None:
                delta = found[0] - s.cost(o, v2)
                best = best if best is not None and best[0] <= delta else (delta, v2, found[1])
        defer = int(s.lk.p.drop[w]) if s.rank(w) > s.rank(u) else None
        if best is not None and (defer is None or best[0] <= defer):
            o = Outcome(o.late, o.cost + best[0], {**o.routes, best[1]: best[2]},
                        o.moved | {w}, o.deferred)  # fmt: skip
        elif defer is not None:
            o = Outcome(o.late, o.cost + defer, o.routes, o.moved, o.deferred | {w})
        else:
            return None
    return o


def late_of(lk: Locked, v: int, seq: Sequence[int], u: int) -> int:
    """Seconds visit ``u`` starts past its due time on route ``seq`` of ``v`` (0: on time)."""
    p, tab = lk.p, lk.tab
    prev, time = int(p.starts[v]), int(p.depart[v])
    for node in seq:
        time = max(time + tab.sec[prev][node], tab.earliest[node])
        if node == u:
            return max(0, time - tab.due[node]) if tab.due[node] >= 0 else 0
        time += tab.service[node]
        prev = node
    return 0
