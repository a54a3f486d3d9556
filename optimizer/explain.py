"""Explanations of a recommendation, built only when asked for.

`Explanations` keeps the call's screen arrays; `Recommendation.excluded`, ``.unreached``,
``.suggestions`` and ``.loaner`` call it on first access, so the fast path never pays for
them. Engineers the best-first search never reached are not priced here (on a large world
that was most of an explained recommendation's time): they are reported together, with where
the search stopped, and `priced` prices one of them when a dispatcher asks for him.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from optimizer.candidates import Call, Screen, chunk_options
from optimizer.reasons import option_reason, yuan
from optimizer.result import (
    Exclusion,
    ExclusionReason,
    Loaner,
    Option,
    SkillExclusions,
    Suggestion,
    SuggestionKind,
    Unreached,
)
from optimizer.schedule import first_fit
from optimizer.world import FAR

_NO_PARTS = "no van, depot or supplier has the parts"


@dataclass(frozen=True, slots=True)
class SearchStops:
    """Where `recommend`'s two best-first searches stopped.

    ``ranked``: the rank key of the last ranked option when the ranking was full (None when
    it found fewer than asked, so it reached everyone); ``fastest``: the earliest arrival found.
    """

    ranked: tuple[int, int, int, int, int] | None = None
    fastest: int | None = None


class Explanations:
    """The `Explainer` of `optimizer.recommend`: excluded and unreached engineers, an engineer
    priced on request, suggestions, loaners."""

    def __init__(self, call: Call, screen: Screen, stops: SearchStops | None = None) -> None:
        self._call = call
        self._screen = screen
        self._stops = stops or SearchStops()
        # What the searches priced, fixed now: pricing an engineer asked for by name later
        # adds to the call's cache and must not move anyone between the explanations.
        self._reached = frozenset(call.evaluated)
        self._parts_failed = tuple(call.parts_failed)
        self._excluded: tuple[Exclusion, ...] | None = None
        self._lacking: SkillExclusions | None = None
        self._otherwise: tuple[Exclusion, ...] | None = None

    def _clock(self, offset: int) -> str:
        """A time as its reader's clock shows it, with the zone named (texts leave no doubt)."""
        moment = self._call.world.at(offset)
        if self._call.params.zone is not None:
            moment = moment.astimezone(self._call.params.zone)
        return f"{moment:%H:%M} {getattr(moment.tzinfo, 'key', None) or moment.tzname()}"

    def excluded(self) -> tuple[Exclusion, ...]:
        """Every engineer left out, by reason: skill, too far, busy, shift, parts.

        Worked out once per call, from its two parts (`lacking_skill`, then
        `excluded_otherwise`). Parts are known only of the engineers the searches priced;
        the others are `unreached`, not excluded.
        """
        if self._excluded is None:
            self._excluded = self.lacking_skill().exclusions() + self.excluded_otherwise()
        return self._excluded

    def lacking_skill(self) -> SkillExclusions:
        """Those lacking a required skill, with the first requirement each falls short of.

        Over the engineer arrays, a column per requirement in the ticket's order: the same
        texts as asking each engineer in turn, without a Python step per engineer.
        """
        if self._lacking is None:
            self._lacking = self._lacking_skill()
        return self._lacking

    def _lacking_skill(self) -> SkillExclusions:
        arrays = self._call.world.engineer_arrays
        rows = np.flatnonzero(~self._screen.skill_ok)
        which = np.full(rows.size, -1, dtype=np.int64)
        details: list[str] = []
        for line, level in self._call.ticket.skills.items():
            col = arrays.skill_col.get(line)
            held = arrays.skill_level[rows, col] if col is not None else np.zeros(rows.size)
            short = (which < 0) & (held < level)
            if not short.any():
                continue
            levels, of = np.unique(held[short], return_inverse=True)
            which[short] = len(details) + of
            details.extend(f"needs {line} level {level}, has {int(h)}" for h in levels)
        if (which < 0).any():  # unreachable: the mask said each lacks one
            which[which < 0] = len(details)
            details.append("lacks a required skill")
        ids = arrays.ids[rows]
        return SkillExclusions(tuple(ids.tolist()), tuple(which.tolist()), tuple(details))

    def excluded_otherwise(self) -> tuple[Exclusion, ...]:
        """The skilled engineers left out: too far, busy or off shift, no parts (once)."""
        if self._otherwise is None:
            self._otherwise = self._exclude_skilled()
        return self._otherwise

    def _exclude_skilled(self) -> tuple[Exclusion, ...]:
        call, screen = self._call, self._screen
        ids = call.world.engineer_arrays.ids
        out = []
        for pos in np.flatnonzero(~screen.near):
            minutes = int(screen.travel_s[pos]) // 60
            detail = f"{minutes} min drive, over the {call.params.max_travel_s // 60} min limit"
            out.append(Exclusion(int(ids[screen.rows[pos]]), ExclusionReason.TOO_FAR, detail))
        out.extend(self._unfit())
        out.extend(Exclusion(e, ExclusionReason.PARTS, _NO_PARTS) for e in self._parts_failed)
        return tuple(out)

    def unreached(self, options: tuple[Option, ...]) -> Unreached | None:
        """The candidates neither search reached, unpriced, with why it stopped before them.

        Every one of them ranks below the ranked options by the search's lower bound and
        arrives no earlier than the earliest option (`optimizer.assignment`, step 3).
        """
        call, screen = self._call, self._screen
        ids = call.world.engineer_arrays.ids
        order = screen.order
        if self._reached:
            order = order[~np.isin(order, np.fromiter(self._reached, np.int64))]
        shown = {o.engineer_id for o in options}  # a call-out may show one the search skipped
        pos = np.array([p for p in order.tolist() if int(ids[screen.rows[p]]) not in shown])
        if pos.size == 0:
            return None
        travel = screen.travel_s[pos]
        cost = int(screen.lb[1][pos].min())
        arrives = int((screen.depart[pos] + travel).min())
        detail = self._unreached_detail(screen.lower_bound(int(pos[0])), int(travel.min()))
        return Unreached(
            tuple(int(i) for i in ids[screen.rows[pos]]), tuple(int(s) for s in travel), detail,
            cost, arrives,
        )  # fmt: skip

    def _unreached_detail(self, first: tuple[int, int, int, int, int], nearest_s: int) -> str:
        """Why the search stopped before them, in numbers: its bound against what it found."""
        stops, n = self._stops, self._call.params.max_options
        why = []
        if stops.ranked is not None and first[0] > stops.ranked[0]:
            why.append(f"none can rank above the {n} options found: each would depart after"
                       " the depart promise, which those keep")  # fmt: skip
        elif stops.ranked is not None:
            why.append(f"none can rank above the {n} options found: the best of them would"
                       f" cost at least {yuan(first[1])} (drive and promise clocks alone),"
                       f" #{n} costs {yuan(stops.ranked[1])}")  # fmt: skip
        if stops.fastest is not None:
            why.append(f"none arrives before {self._clock(stops.fastest)}, the earliest arrival"
                       " found")  # fmt: skip
        why.append(f"the nearest of them drives {nearest_s // 60} min")
        return "not priced, the search stopped before them: " + "; ".join(why)

    def priced(self, engineer_id: int) -> Option | Exclusion | None:
        """Price one engineer in full, reached or not: his option, or why he has none.

        None for an engineer the world does not know. His option is not ranked (rank 0):
        placing it would mean pricing everyone the search skipped.
        """
        call, screen = self._call, self._screen
        row = call.world.engineer_row.get(engineer_id)
        if row is None:
            return None
        if not screen.skill_ok[row]:
            return Exclusion(engineer_id, ExclusionReason.SKILL, self._missing_skill(row))
        for exclusion in self.excluded_otherwise():
            if exclusion.engineer_id == engineer_id:
                return exclusion
        found = np.flatnonzero(screen.rows == row)
        if found.size == 0:  # unreachable: a row without the skills is excluded above
            return None
        pos = int(found[0])
        if pos not in call.evaluated:
            call.evaluated[pos] = chunk_options(call, screen, np.array([pos], np.int64))[0]
        option = call.evaluated[pos]
        if option is None:
            failed = engineer_id in call.parts_failed
            detail = _NO_PARTS if failed else "his parts come too late for his next booked visit"
            return Exclusion(engineer_id, ExclusionReason.PARTS, detail)
        return replace(option, rank=0, reason=option_reason(call, 0, option))

    def _missing_skill(self, row: int) -> str:
        """The detail `lacking_skill` gives the engineer of ``row`` (who lacks a skill)."""
        lacking = self.lacking_skill()
        at = int(np.searchsorted(np.flatnonzero(~self._screen.skill_ok), row))
        return lacking.details[lacking.which[at]]

    def _unfit(self) -> list[Exclusion]:
        """Near, skilled engineers whose visit fits no shift: busy, or off shift."""
        call, screen = self._call, self._screen
        arrays = call.world.engineer_arrays
        pos = np.flatnonzero(screen.near & ~screen.fits)
        if pos.size == 0:
            return []
        rows = screen.rows[pos]
        duration = screen.travel_s[pos] + call.ticket.service_s
        start, end = arrays.shift_start[rows], arrays.shift_end[rows]
        now = np.full(pos.size, call.now, dtype=np.int64)
        _, _, fits_if_free = first_fit(now, duration, start, end, screen.overtime[pos])
        depart = np.maximum(screen.ready[pos][:, None], start)
        needed = np.where(end > -FAR, depart + duration[:, None] - end - screen.overtime[pos], FAR)
        needed = np.where(needed > 0, needed, FAR).min(axis=1)
        out = []
        for i, row in enumerate(int(r) for r in rows):
            engineer_id = int(arrays.ids[row])
            ready = int(screen.ready[pos[i]])
            if fits_if_free[i] and ready > call.now:
                detail = f"busy until {self._clock(ready)}"
                out.append(Exclusion(engineer_id, ExclusionReason.BUSY, detail, free_at=ready))
            elif needed[i] >= FAR:
                detail = "no shift ahead" + self._cap_note(row)
                out.append(Exclusion(engineer_id, ExclusionReason.SHIFT, detail))
            else:
                extra = int(needed[i])
                detail = f"off shift: needs {-(-extra // 60)} min past the shift's end"
                detail += self._cap_note(row)
                out.append(
                    Exclusion(engineer_id, ExclusionReason.SHIFT, detail, overtime_needed_s=extra)
                )
        return out

    def _cap_note(self, row: int) -> str:
        """Why his overtime is short, when a day or week cap (with what he worked) cut it."""
        engineer = self._call.world.engineers[row]
        if engineer.overtime_cap is None:
            return ""
        left = -(-engineer.overtime_s // 60)
        return f"; the {engineer.overtime_cap}'s overtime cap leaves {left} min (already worked)"

    def suggestions(self, options: tuple[Option, ...]) -> tuple[Suggestion, ...]:
        """What would make the ticket keepable: a longer shift, a pulled part, the dedicated one."""
        out = self._extend_shifts()
        pulled = self._pull_part()
        if pulled is not None:
            out.append(pulled)
        dedicated = self._dedicated_free(options)
        if dedicated is not None:
            out.append(dedicated)
        return tuple(out)

    def _keeps(self, depart: int, arrival: int) -> bool:
        """Whether a straight visit keeps the depart, arrival and fix promises."""
        t = self._call.ticket
        depart_ok = t.depart_by is None or depart <= t.depart_by
        arrive_ok = t.arrive_by is None or arrival <= t.arrive_by
        fix_ok = t.fix_by is None or arrival + t.service_s <= t.fix_by
        return depart_ok and arrive_ok and fix_ok

    def _extend_shifts(self, limit: int = 3) -> list[Suggestion]:
        """Off-shift engineers whose straight visit would keep the promises with overtime."""
        screen = self._screen
        found = []
        for exclusion in self.excluded_otherwise():
            if exclusion.reason is not ExclusionReason.SHIFT or exclusion.overtime_needed_s is None:
                continue
            row = self._call.world.engineer_row[exclusion.engineer_id]
            if self._call.world.engineers[row].overtime_cap is not None:
                continue  # more time past his shift would break his overtime caps
            pos = int(
                np.flatnonzero(
                    self._call.world.engineer_arrays.ids[screen.rows] == exclusion.engineer_id
                )[0]
            )
            visit = self._visit_with_overtime(pos, exclusion.overtime_needed_s)
            if visit is not None and self._keeps(*visit):
                found.append((exclusion.overtime_needed_s, exclusion.engineer_id))
        return [
            Suggestion(
                SuggestionKind.EXTEND_SHIFT,
                f"extend engineer {e}'s shift by {-(-s // 60)} min",
                engineer_id=e,
                minutes=-(-s // 60),
            )  # fmt: skip
            for s, e in sorted(found)[:limit]
        ]

    def _visit_with_overtime(self, pos: int, extra: int) -> tuple[int, int] | None:
        """(departure, arrival) of the straight visit in the first shift it fits with
        ``extra`` overtime."""
        screen, call = self._screen, self._call
        engineer = call.world.engineers[int(screen.rows[pos])]
        ready, drive = int(screen.ready[pos]), int(screen.travel_s[pos])
        for k, (start, end) in enumerate(engineer.shifts):
            depart = max(ready, start)
            if depart + drive + call.ticket.service_s <= end + int(screen.overtime[pos, k]) + extra:
                return depart, depart + drive
        return None

    def _pull_part(self) -> Suggestion | None:
        """A courier from the depot whose parts reach the site soonest, if that keeps the fix."""
        call = self._call
        if not call.ticket.parts or call.ticket.fix_by is None:
            return None
        depots = np.flatnonzero(call.covering(call.ticket.parts))
        if depots.size == 0:
            return None
        seconds = call.depot_to_site()[0][depots]
        best = int(np.argmin(seconds))
        depot = call.world.depots[int(depots[best])]
        pick = call.params.pick_s if depot.pick_s is None else depot.pick_s
        arrives = call.now + pick + int(seconds[best])
        if arrives + call.ticket.service_s > call.ticket.fix_by:
            return None
        text = f"pull the part from depot {depot.id} by courier: on site at {self._clock(arrives)}"
        return Suggestion(SuggestionKind.PULL_PART, text, depot_id=depot.id, at=arrives)

    def _dedicated_free(self, options: tuple[Option, ...]) -> Suggestion | None:
        """When the dedicated engineer can leave, unless he already keeps the promises.

        Only an engineer who could be sent is offered: one excluded for lack of skill or
        for the drive gets a text that says so (kind ``dedicated_unqualified``), never a
        "free at" that the dispatcher would act on.
        """
        call, arrays = self._call, self._call.world.engineer_arrays
        engineer_id = call.ticket.dedicated_engineer
        if engineer_id is None or engineer_id not in call.world.engineer_row:
            return None
        if any(o.engineer_id == engineer_id and o.keeps_all for o in options):
            return None
        row = call.world.engineer_row[engineer_id]
        unfit = self._cannot_send(row)
        if unfit is not None:
            text = f"the dedicated engineer {engineer_id} cannot take this ticket: {unfit}"
            return Suggestion(SuggestionKind.DEDICATED_UNQUALIFIED, text, engineer_id=engineer_id)
        ready = max(call.now, int(arrays.busy_until[row]))
        starts = [s for s, e in call.world.engineers[row].shifts if e > ready]
        if not starts:
            return None
        free = max(ready, starts[0])
        text = f"the dedicated engineer {engineer_id} is free at {self._clock(free)}"
        return Suggestion(SuggestionKind.DEDICATED_FREE, text, engineer_id=engineer_id, at=free)

    def _cannot_send(self, row: int) -> str | None:
        """Why the engineer of ``row`` can never be sent to this ticket, or None."""
        screen = self._screen
        if not screen.skill_ok[row]:
            return self._missing_skill(row)
        pos = int(np.flatnonzero(screen.rows == row)[0])
        if not screen.near[pos]:
            minutes = int(screen.travel_s[pos]) // 60
            limit = self._call.params.max_travel_s // 60
            return f"{minutes} min drive, over the {limit} min limit"
        return None

    def loaner(self, options: tuple[Option, ...]) -> Loaner | None:
        """A unit of equal function from the nearest depot, when the fix promise overruns."""
        call = self._call
        fix_by = call.ticket.fix_by
        if fix_by is None or not call.ticket.loaner_units:
            return None
        if options and options[0].fixes_at <= fix_by:
            return None
        seconds = call.depot_to_site()[0]
        best: tuple[int, int, int] | None = None
        for j, depot in enumerate(call.world.depots):
            for part in call.ticket.loaner_units:
                if depot.stock.get(part, 0) > 0 and (best is None or int(seconds[j]) < best[0]):
                    best = (int(seconds[j]), j, part)
        if best is None:
            return None
        depot = call.world.depots[best[1]]
        pick = call.params.pick_s if depot.pick_s is None else depot.pick_s
        return Loaner(best[2], depot.id, call.now + pick + best[0], best[0])
