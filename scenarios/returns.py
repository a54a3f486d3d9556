"""Returned faulty parts (清回三包旧件): carried, dropped or couriered, inspected, repaired.

A swap takes a faulty unit out of the asset. The engineer carries it until he next picks
parts at a depot and drops it into that depot's returns bin; if he has not been to a depot
within `carry_h`, it is couriered to the depot nearest the site (`courier_h`). The depot
inspects it (`inspect_h`); a `repairable_share` is repaired and goes back onto the shelf
after `repair_days` through `inventory.stock_rules.receive` (via `LiveState.receive`), the
rest is scrapped. A unit in repair counts in its depot's pipeline like a unit on order
(`repairing`), so the depot does not order what its repair shop is about to return. Which
units are repairable is drawn from (scenario seed, replication, ticket, line), so every
variant of a replication scraps the same units.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from scenarios.live import LiveState
from scenarios.model import ReturnsPolicy
from scenarios.records import ReturnsTally

_PURPOSE = zlib.crc32(b"returns")


@dataclass(slots=True)
class FaultyUnit:
    part_id: int
    ticket_id: int
    line: int  # index of the ticket's part line
    site_id: int
    dropped: bool = False


def repairable(policy: ReturnsPolicy, replication: int, unit: FaultyUnit) -> bool:
    """Whether inspection finds the unit repairable: a draw common to every variant."""
    rng = np.random.default_rng([policy.seed, replication, _PURPOSE, unit.ticket_id, unit.line])
    return bool(rng.random() < policy.repairable_share)


class Returns:
    """The returns flow of one run: SimPy processes over the run's stock and tally."""

    def __init__(
        self,
        env: simpy.Environment,
        state: LiveState,
        tally: ReturnsTally,
        *,
        policy: ReturnsPolicy,
        replication: int,
        nearest_depot: Callable[[int], int | None],
    ) -> None:
        self.env, self.state, self.tally = env, state, tally
        self.policy, self.replication = policy, replication
        self.nearest_depot = nearest_depot
        self.carried: dict[int, list[FaultyUnit]] = {}  # engineer id -> units in his van
        self.repairing: dict[tuple[int, int], int] = {}  # (depot, part) -> units in repair

    def swapped(self, engineer_id: int, site_id: int, ticket_id: int, parts: list[int]) -> None:
        """A fix took these parts (by line) out: the engineer now carries the faulty units."""
        if not self.policy.enabled:
            return
        for line, part in enumerate(parts):
            unit = FaultyUnit(part, ticket_id, line, site_id)
            self.tally.produced += 1
            self.carried.setdefault(engineer_id, []).append(unit)
            self.env.process(self._courier_if_kept(engineer_id, unit))

    def visit(self, engineer_id: int, depot_id: int) -> None:
        """The engineer is at a depot's counter: he drops every faulty unit he carries."""
        for unit in self.carried.pop(engineer_id, []):
            unit.dropped = True
            self._receive(unit, depot_id)

    def _courier_if_kept(self, engineer_id: int, unit: FaultyUnit) -> Generator[Any, Any, None]:
        yield self.env.timeout(round(self.policy.carry_h * 3_600))
        if unit.dropped:
            return
        unit.dropped = True
        self.carried[engineer_id].remove(unit)
        depot = self.nearest_depot(unit.site_id)
        if depot is None:  # a world without depots: nowhere to inspect it
            self.tally.scrapped += 1
            return
        yield self.env.timeout(round(self.policy.courier_h * 3_600))
        self._receive(unit, depot)

    def _receive(self, unit: FaultyUnit, depot_id: int) -> None:
        received = self.tally.received
        received[depot_id] = received.get(depot_id, 0) + 1
        self.env.process(self._inspect(unit, depot_id))

    def _inspect(self, unit: FaultyUnit, depot_id: int) -> Generator[Any, Any, None]:
        yield self.env.timeout(round(self.policy.inspect_h * 3_600))
        if not repairable(self.policy, self.replication, unit):
            self.tally.scrapped += 1
            return
        key = (depot_id, unit.part_id)
        self.repairing[key] = self.repairing.get(key, 0) + 1
        yield self.env.timeout(round(self.policy.repair_days * 86_400))
        self.repairing[key] -= 1
        self.state.receive(key, 1)
        self.tally.repaired += 1
