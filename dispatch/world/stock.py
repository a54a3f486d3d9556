"""Opening stock: the central warehouse holds most SKUs, regional depots a subset, vans a few."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dispatch.world.catalogue import Catalogue
from dispatch.world.model import Row

# (share of SKUs held, mean on hand, reorder point) for (non-key, key) parts. Key parts are
# dear, so fewer are held, but regional depots favour them: they are what a swap needs.
CENTRAL = ((0.9, 15.0, 5), (0.9, 4.0, 2))
REGIONAL = ((0.3, 4.0, 2), (0.5, 1.5, 1))
EMPTY_SHARE = 0.08  # held SKUs that happen to be out of stock on the reference date
VAN_SKUS = (4, 10)  # a van carries this many SKUs (inclusive) of its engineer's lines
VAN_MAX_EACH = 3


def stock_rows(
    depots: list[Row],
    vans: list[tuple[int, list[int]]],
    catalogue: Catalogue,
    rng: np.random.Generator,
) -> list[Row]:
    """Stock levels by (depot, part); `vans` gives (van depot id, the engineer's line ids)."""
    key = catalogue.part_key
    rows: list[Row] = []
    for depot in depots:
        table = CENTRAL if depot["kind"] == "central" else REGIONAL
        held = rng.random(key.size) < np.where(key, table[1][0], table[0][0])
        mean = np.where(key, table[1][1], table[0][1])
        on_hand = rng.poisson(mean) * (rng.random(key.size) >= EMPTY_SHARE)
        reorder = np.where(key, table[1][2], table[0][2])
        # The central warehouse has reordered whatever fell below its reorder point.
        central = depot["kind"] == "central"
        on_order = np.where(central & (on_hand < reorder), 2 * reorder, 0)
        parts = np.flatnonzero(held)
        for part, have, point, ordered in zip(
            parts.tolist(),
            on_hand[parts].tolist(),
            reorder[parts].tolist(),
            on_order[parts].tolist(),
            strict=True,
        ):
            rows.append(_row(len(rows) + 1, depot["id"], part + 1, have, point, ordered))
    for depot_id, lines in vans:
        rows += _van_rows(len(rows), depot_id, lines, catalogue.part_line, key, rng)
    return rows


def _van_rows(
    offset: int,
    depot_id: int,
    lines: list[int],
    part_line: npt.NDArray[np.int64],
    key: npt.NDArray[np.bool_],
    rng: np.random.Generator,
) -> list[Row]:
    """A few cheap (non-key) parts of the engineer's product lines, 1-3 of each."""
    candidates = np.flatnonzero(np.isin(part_line, np.array(lines) - 1) & ~key)
    take = min(candidates.size, int(rng.integers(VAN_SKUS[0], VAN_SKUS[1] + 1)))
    parts = np.sort(rng.choice(candidates, size=take, replace=False))
    counts = rng.integers(1, VAN_MAX_EACH + 1, size=take)
    return [
        _row(offset + i + 1, depot_id, int(p) + 1, int(c), 1, 0)
        for i, (p, c) in enumerate(zip(parts.tolist(), counts.tolist(), strict=True))
    ]


def _row(row_id: int, depot: int, part: int, on_hand: int, reorder: int, on_order: int) -> Row:
    return {
        "id": row_id,
        "depot_id": depot,
        "part_id": part,
        "on_hand": int(on_hand),
        "reserved": 0,
        "in_transit": 0,
        "on_order": int(on_order),
        "reorder_point": int(reorder),
    }
