"""`DispatchWorld`: engineers, depots and suppliers, with numpy arrays built once.

The world is built once per snapshot and queried many times: every per-ticket question
(skills, shifts, busy, van stock, depot stock) is then a vectorised look-up over these arrays.
It lives beside `model` (not in it) only to keep both modules small.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

import numpy as np
import numpy.typing as npt

from optimizer.model import Depot, Engineer, Location, OnCall, Supplier

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Padding for absent shift windows and "not busy": far outside any real time axis, and small
# enough that sums of a few of them never overflow int64.
FAR = 1 << 50


def coordinates(locations: Sequence[Location]) -> FloatArray:
    """Return an ``(n, 2)`` float array of ``(lat, lon)`` degrees.

    Parameters
    ----------
    locations
        The points, in order.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, 2)``; ``(0, 2)`` for no points.
    """
    out = np.empty((len(locations), 2), dtype=np.float64)
    for i, loc in enumerate(locations):
        out[i, 0] = loc.lat
        out[i, 1] = loc.lon
    return out


def _unique_ids(
    items: Sequence[Engineer] | Sequence[Depot] | Sequence[Supplier], name: str
) -> None:
    ids = [item.id for item in items]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{name}: ids must be unique")


@dataclass(frozen=True, eq=False)
class EngineerArrays:
    """Column arrays over the world's engineers (row ``i`` is ``engineers[i]``)."""

    ids: IntArray
    coords: FloatArray
    busy_until: IntArray  # -FAR when free
    busy_coords: FloatArray  # where the current job ends (= coords when free)
    home_coords: FloatArray  # his home: a later shift starts there (`has_home`)
    has_home: BoolArray  # without a home he sets off from where his work left him
    # The gap before a committed visit (`Engineer.gap`): when and where from he may leave
    # (-FAR: no gap), and where and by when he must be back for that visit.
    gap_ready: IntArray
    gap_origin: FloatArray
    gap_back: FloatArray
    gap_back_by: IntArray
    overtime_s: IntArray  # how far a planned visit may run past a shift (plan_overtime_s)
    # (n, k): from each shift window's end to his next absence (FAR: none). A window that ends
    # where an absence (or assigned work) begins gives no overtime: it is not his shift's end.
    overtime_room: IntArray
    overtime_cost: IntArray  # fen per overtime hour
    cost_per_hour: IntArray  # fen per hour (his travel time in a recommendation's cost)
    cost_per_km: IntArray
    shift_start: IntArray  # (n, k), padded with -FAR
    shift_end: IntArray
    skill_col: dict[str, int]
    skill_level: npt.NDArray[np.int16]  # (n, product lines), 0 = no skill
    van: dict[int, tuple[IntArray, IntArray]]  # part -> (engineer rows, qty)
    dedicated_rows: dict[int, IntArray]  # site -> engineer rows


def _engineer_arrays(engineers: Sequence[Engineer]) -> EngineerArrays:
    n = len(engineers)
    k = max((len(e.shifts) for e in engineers), default=0)
    start = np.full((n, max(k, 1)), -FAR, dtype=np.int64)
    end = np.full((n, max(k, 1)), -FAR, dtype=np.int64)
    room = np.full((n, max(k, 1)), FAR, dtype=np.int64)
    lines = sorted({line for e in engineers for line in e.skills})
    col = {line: j for j, line in enumerate(lines)}
    level = np.zeros((n, len(lines)), dtype=np.int16)
    van: dict[int, tuple[list[int], list[int]]] = {}
    dedicated: dict[int, list[int]] = {}
    for i, e in enumerate(engineers):
        for j, (s, t) in enumerate(e.shifts):
            start[i, j], end[i, j] = s, t
            after = [a for a, b in e.absences if b > t]
            if after:
                room[i, j] = max(0, min(after) - t)
        for line, lv in e.skills.items():
            level[i, col[line]] = lv
        for part, qty in e.van_stock.items():
            if qty > 0:
                rows, qtys = van.setdefault(part, ([], []))
                rows.append(i)
                qtys.append(qty)
        for site in e.dedicated_sites:
            dedicated.setdefault(site, []).append(i)
    coords = coordinates([e.location for e in engineers])
    busy = np.array([FAR * -1 if e.busy_until is None else e.busy_until for e in engineers])
    busy_at = coordinates([e.busy_location or e.location for e in engineers])
    gaps = [e.gap for e in engineers]
    pairs = list(zip(engineers, gaps, strict=True))
    return EngineerArrays(
        ids=np.array([e.id for e in engineers], dtype=np.int64),
        coords=coords,
        busy_until=busy.astype(np.int64).reshape(n),
        busy_coords=busy_at,
        home_coords=coordinates([e.home or e.location for e in engineers]),
        has_home=np.array([e.home is not None for e in engineers], dtype=np.bool_).reshape(n),
        gap_ready=np.array([-FAR if g is None else g.ready for g in gaps], dtype=np.int64),
        gap_origin=coordinates(
            [e.location if g is None or g.origin is None else g.origin for e, g in pairs]
        ),
        gap_back=coordinates([e.location if g is None else g.back_to for e, g in pairs]),
        gap_back_by=np.array(
            [-FAR if g is None else g.back_by for g in gaps], dtype=np.int64
        ).reshape(n),
        overtime_s=np.array([e.plan_overtime_s for e in engineers], dtype=np.int64).reshape(n),
        overtime_room=room,
        overtime_cost=np.array(
            [e.overtime_cost_per_hour for e in engineers], dtype=np.int64
        ).reshape(n),
        cost_per_hour=np.array([e.cost_per_hour for e in engineers], dtype=np.int64).reshape(n),
        cost_per_km=np.array([e.cost_per_km for e in engineers], dtype=np.int64).reshape(n),
        shift_start=start,
        shift_end=end,
        skill_col=col,
        skill_level=level,
        van={
            p: (np.array(r, dtype=np.int64), np.array(q, dtype=np.int64))
            for p, (r, q) in van.items()
        },
        dedicated_rows={s: np.array(r, dtype=np.int64) for s, r in dedicated.items()},
    )


@dataclass(frozen=True, eq=False)
class DepotArrays:
    """Column arrays over the world's depots (row ``j`` is ``depots[j]``)."""

    ids: IntArray
    coords: FloatArray
    stock: dict[int, IntArray]  # part -> available qty per depot row


def _depot_arrays(depots: Sequence[Depot]) -> DepotArrays:
    m = len(depots)
    stock: dict[int, IntArray] = {}
    for j, d in enumerate(depots):
        for part, qty in d.stock.items():
            if qty > 0:
                stock.setdefault(part, np.zeros(m, dtype=np.int64))[j] = qty
    return DepotArrays(
        ids=np.array([d.id for d in depots], dtype=np.int64).reshape(m),
        coords=coordinates([d.location for d in depots]),
        stock=stock,
    )


@dataclass(frozen=True, eq=False)
class DispatchWorld:
    """Everything a recommendation looks at, except the ticket and the travel model.

    Parameters
    ----------
    epoch
        A timezone-aware datetime: offset 0 of the time axis.
    engineers
        Engineers with unique ids.
    depots
        Depots with unique ids.
    suppliers
        Partners and suppliers that can ship parts.
    on_call
        Engineers on call (not working): a recommendation may wake one for a severe ticket
        (`optimizer.assignment`); they are not in ``engineers`` for that.
    zone
        The time zone texts (drop reasons) state times in, named; ``None``: the epoch's.

    Notes
    -----
    The arrays (`engineer_arrays`, `depot_arrays`) are built once in ``__post_init__``; build
    the world once per snapshot and ask it many questions.
    """

    epoch: datetime
    engineers: tuple[Engineer, ...]
    depots: tuple[Depot, ...] = ()
    suppliers: tuple[Supplier, ...] = ()
    on_call: tuple[OnCall, ...] = ()
    zone: tzinfo | None = None
    engineer_arrays: EngineerArrays = field(init=False, repr=False)
    depot_arrays: DepotArrays = field(init=False, repr=False)
    engineer_row: dict[int, int] = field(init=False, repr=False)
    depot_row: dict[int, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.epoch.tzinfo is None or self.epoch.utcoffset() is None:
            raise ValueError("epoch: must be timezone-aware")
        _unique_ids(self.engineers, "engineers")
        _unique_ids(self.depots, "depots")
        _unique_ids(self.suppliers, "suppliers")
        object.__setattr__(self, "engineer_arrays", _engineer_arrays(self.engineers))
        object.__setattr__(self, "depot_arrays", _depot_arrays(self.depots))
        object.__setattr__(self, "engineer_row", {e.id: i for i, e in enumerate(self.engineers)})
        object.__setattr__(self, "depot_row", {d.id: j for j, d in enumerate(self.depots)})

    def with_engineers(self, engineers: tuple[Engineer, ...]) -> DispatchWorld:
        """The same depots and suppliers (their arrays shared, not rebuilt) with other
        engineers and nobody on call: the world of a call-out."""
        _unique_ids(engineers, "engineers")
        other = copy.copy(self)
        object.__setattr__(other, "engineers", engineers)
        object.__setattr__(other, "on_call", ())
        object.__setattr__(other, "engineer_arrays", _engineer_arrays(engineers))
        object.__setattr__(other, "engineer_row", {e.id: i for i, e in enumerate(engineers)})
        return other

    def with_on_call(self, on_call: tuple[OnCall, ...]) -> DispatchWorld:
        """The same world (its arrays shared) with other engineers on call."""
        other = copy.copy(self)
        object.__setattr__(other, "on_call", on_call)
        return other

    def clock(self, offset: int) -> str:
        """A time for a text: date, hour and minute in `zone`, with the zone named."""
        moment = self.at(offset)
        if self.zone is not None:
            moment = moment.astimezone(self.zone)
        return f"{moment:%Y-%m-%d %H:%M} {getattr(moment.tzinfo, 'key', None) or moment.tzname()}"

    def at(self, offset: int) -> datetime:
        """Return the datetime of a time-axis offset (seconds after ``epoch``)."""
        return self.epoch + timedelta(seconds=int(offset))

    def offset(self, moment: datetime) -> int:
        """Return the time-axis offset of a timezone-aware datetime, in whole seconds."""
        return int((moment - self.epoch).total_seconds())
