"""Time-window arithmetic: the first shift a visit fits in, and depot opening hours."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from optimizer.model import Window
from optimizer.world import FAR

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def first_fit(
    ready: IntArray, duration: IntArray, start: IntArray, end: IntArray, overtime: IntArray
) -> tuple[IntArray, IntArray, BoolArray]:
    """Return each engineer's departure in the first shift his visit fits in.

    A visit of ``duration`` (drive plus service) fits shift ``k`` when it departs at
    ``max(ready, start[k])`` and ends by ``end[k] + overtime``. Shifts are sorted, so the
    first fitting shift is also the earliest departure.

    Parameters
    ----------
    ready
        ``(n,)`` when each engineer can leave (now, or when his current job ends).
    duration
        ``(n,)`` seconds from departure to the end of the service.
    start, end
        ``(n, k)`` shift windows, padded with ``-FAR``.
    overtime
        ``(n,)`` allowed seconds past a shift's end, or ``(n, k)`` per shift.

    Returns
    -------
    tuple of numpy.ndarray
        ``(depart, shift index, fits)``; where ``fits`` is false the other two are meaningless.
    """
    depart = np.maximum(ready[:, None], start)
    extra = overtime if overtime.ndim == 2 else overtime[:, None]
    ok = (depart + duration[:, None] <= end + extra) & (end > -FAR)
    first = ok.argmax(axis=1)
    rows = np.arange(len(ready))
    fits: BoolArray = np.asarray(ok.any(axis=1), dtype=np.bool_)
    chosen: IntArray = depart[rows, first]
    return chosen, first.astype(np.int64), fits


def next_open(opening: tuple[Window, ...], t: int) -> int | None:
    """Return the first instant >= ``t`` when a place with ``opening`` windows is open.

    An empty ``opening`` means 24x7; ``None`` means it never opens again.
    """
    if not opening:
        return t
    for start, end in opening:
        if t < end:
            return max(t, start)
    return None


def open_at(openings: list[tuple[Window, ...]], arrive: IntArray) -> IntArray:
    """Return, per depot, when a pickup arriving at ``arrive`` can start (``FAR``: never)."""
    out = arrive.astype(np.int64, copy=True)
    for j, opening in enumerate(openings):
        if opening:
            at = next_open(opening, int(arrive[j]))
            out[j] = FAR if at is None else at
    return out
