"""What a recommendation returns: ranked `Option`s and lazily built explanations.

All instants are offsets in seconds on the world's time axis; slacks are whole minutes
(negative = late), rounded down so that one second late is already -1 minute.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol


class PartsSource(enum.StrEnum):
    """Where an option's parts come from."""

    NONE = "none"  # the ticket needs no parts
    VAN = "van"  # the engineer carries them
    PICKUP = "pickup"  # he drives via a depot
    SHIPMENT = "shipment"  # a courier brings them; the job waits for the parts


class Promise(enum.StrEnum):
    """The promise clocks an option is checked against."""

    DEPART = "depart"
    ARRIVAL = "arrival"
    FIX = "fix"
    SWAP = "swap"  # a part in stock swapped (the fix done) by the swap promise
    SHIP = "ship"


@dataclass(frozen=True, slots=True)
class PartUse:
    """One ticket line as it will be supplied (``part_id`` differs for a substitute)."""

    line_part_id: int
    part_id: int
    qty: int

    @property
    def substitute(self) -> bool:
        """Whether a part of similar function replaces the exact one."""
        return self.part_id != self.line_part_id


@dataclass(frozen=True, slots=True)
class PartsPlan:
    """How the parts reach the job.

    ``depot_id`` is the pickup or shipping depot, ``supplier_id`` a shipping supplier;
    ``pickup_at`` is when the pick starts, ``ships_at`` when a shipment leaves (its promise is
    ``ship_by``) and ``part_arrives_at`` when it reaches the site.
    """

    source: PartsSource
    uses: tuple[PartUse, ...] = ()
    depot_id: int | None = None
    supplier_id: int | None = None
    pickup_at: int | None = None
    ships_at: int | None = None
    ship_by: int | None = None
    part_arrives_at: int | None = None


@dataclass(frozen=True, slots=True)
class PromiseCheck:
    """One promise of one option: its deadline, the planned time, the slack and its cost.

    ``cost`` is what this clock adds to the option's cost (fen, `optimizer.penalties`): 0
    when kept with the at-risk margin to spare, a share when kept only just, the penalty
    and more when broken.
    """

    promise: Promise
    deadline: int
    at: int
    cost: int = 0
    wanted_s: int = 0  # the margin the policy wants before the deadline
    after_job: bool = False  # another job of his comes first: ``wanted_s`` is the slack

    @property
    def kept(self) -> bool:
        """Whether the planned time is on or before the deadline."""
        return self.at <= self.deadline

    @property
    def short_of_slack(self) -> bool:
        """Kept, after another job, with less to spare than the policy's slack."""
        return self.after_job and self.kept and self.deadline - self.at < self.wanted_s

    @property
    def slack_min(self) -> int:
        """Whole minutes to spare (negative: late), rounded down."""
        return (self.deadline - self.at) // 60


@dataclass(frozen=True, slots=True)
class Option:
    """One engineer's plan for the ticket, with its place in the ranking and why."""

    engineer_id: int
    departs_at: int
    arrives_at: int
    fixes_at: int
    parts: PartsPlan
    promises: tuple[PromiseCheck, ...]
    travel_s: int
    travel_m: int
    dedicated: bool
    rank: int = 0
    reason: str = ""
    travel_cost: int = 0  # fen: his hour and km rates over the drive
    overtime_s: int = 0  # the visit's end past the end of the shift it starts in
    overtime_cost: int = 0  # fen, at his labour rules' overtime rate
    callout: bool = False  # an on-call engineer woken for this ticket
    callout_cost: int = 0  # fen, his labour rules' call-out cost

    @property
    def cost(self) -> int:
        """What the option costs (fen): its clocks' penalties, travel, overtime and a
        call-out; the ranking minimises it."""
        return (
            sum(c.cost for c in self.promises)
            + self.travel_cost
            + self.overtime_cost
            + self.callout_cost
        )

    @property
    def departs_late(self) -> bool:
        """Whether the option breaks the depart clock."""
        return any(c.promise is Promise.DEPART and not c.kept for c in self.promises)

    @property
    def keeps_all(self) -> bool:
        """Whether every promise is kept."""
        return all(check.kept for check in self.promises)

    @property
    def lateness_s(self) -> int:
        """Seconds late, summed over the broken promises."""
        return sum(max(0, check.at - check.deadline) for check in self.promises)


class ExclusionReason(enum.StrEnum):
    """Why an engineer is not an option."""

    SKILL = "skill"
    SHIFT = "shift"
    BUSY = "busy"
    TOO_FAR = "too_far"
    PARTS = "parts"


@dataclass(frozen=True, slots=True)
class Exclusion:
    """An engineer left out, with the reason and the number behind it."""

    engineer_id: int
    reason: ExclusionReason
    detail: str
    free_at: int | None = None  # BUSY: when his current job ends
    overtime_needed_s: int | None = None  # SHIFT: extra time past his shift that would do


@dataclass(frozen=True, slots=True)
class SkillExclusions:
    """The engineers lacking a required skill, in the world's engineer order, each with the
    first requirement he falls short of: ``details[which[i]]`` is ``engineer_ids[i]``'s.

    Ids and a few shared texts rather than an `Exclusion` each: most of a large world lacks
    some skill (1,400-1,800 of its 2,000 engineers per ticket), and building and answering
    them one object at a time was a third of an explained recommendation's CPU.
    """

    engineer_ids: tuple[int, ...]
    which: tuple[int, ...]  # per engineer: his detail's index in ``details``
    details: tuple[str, ...]  # "needs <line> level <n>, has <m>"

    def __len__(self) -> int:
        return len(self.engineer_ids)

    def exclusions(self) -> tuple[Exclusion, ...]:
        """One `Exclusion` per engineer, in order."""
        skill, details = ExclusionReason.SKILL, self.details
        return tuple(
            Exclusion(e, skill, details[k])
            for e, k in zip(self.engineer_ids, self.which, strict=True)
        )


@dataclass(frozen=True, slots=True)
class Unreached:
    """Candidates the best-first search stopped before: not priced, one reason for all.

    Skills, shift and drive let each of them take the ticket, but the bound the search
    prunes with already ranks him below the options found and his straight drive arrives no
    earlier than the earliest option found, so pricing his parts could change nothing shown.
    `Recommendation.priced` prices one of them fully when a dispatcher asks for him.
    """

    engineer_ids: tuple[int, ...]  # in the search's order: the most promising first
    travel_s: tuple[int, ...]  # each one's straight drive to the site
    detail: str  # why the search stopped before them, with the numbers
    cost_at_least: int  # fen: the least any of them could cost (the search's bound)
    arrives_from: int  # the earliest any of them could arrive (straight drive)


class SuggestionKind(enum.StrEnum):
    """What would make a ticket's promises keepable."""

    EXTEND_SHIFT = "extend_shift"
    PULL_PART = "pull_part"
    DEDICATED_FREE = "dedicated_free"
    # The dedicated engineer cannot be sent (no skill, out of reach): said, not offered.
    DEDICATED_UNQUALIFIED = "dedicated_unqualified"


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One change a dispatcher could make, in words and in data."""

    kind: SuggestionKind
    text: str
    engineer_id: int | None = None
    depot_id: int | None = None
    minutes: int | None = None
    at: int | None = None


@dataclass(frozen=True, slots=True)
class Loaner:
    """A unit of equal function lent while the repair overruns its fix promise."""

    part_id: int
    depot_id: int
    arrives_at: int
    travel_s: int


class Explainer(Protocol):
    """Builds a recommendation's explanations on demand (see `optimizer.explain`)."""

    def excluded(self) -> tuple[Exclusion, ...]: ...

    def lacking_skill(self) -> SkillExclusions: ...

    def excluded_otherwise(self) -> tuple[Exclusion, ...]: ...

    def unreached(self, options: tuple[Option, ...]) -> Unreached | None: ...

    def priced(self, engineer_id: int) -> Option | Exclusion | None: ...

    def suggestions(self, options: tuple[Option, ...]) -> tuple[Suggestion, ...]: ...

    def loaner(self, options: tuple[Option, ...]) -> Loaner | None: ...


@dataclass(frozen=True)
class Recommendation:
    """The ranked options for one ticket.

    ``excluded``, ``suggestions`` and ``loaner`` are computed on first access only, so the
    fast path (just the options) pays nothing for them.

    Parameters
    ----------
    ticket_id
        The ticket.
    now
        The moment of the recommendation (time-axis offset).
    options
        Best first: those that keep the depart clock (when anyone can), then by least cost
        (broken and at-risk clocks' penalties, travel, overtime), the dedicated engineer,
        the earliest arrival.
    """

    ticket_id: int
    now: int
    options: tuple[Option, ...]
    _explainer: Explainer = field(repr=False, compare=False)

    @property
    def best(self) -> Option | None:
        """The first option, or ``None`` when nobody can do the job."""
        return self.options[0] if self.options else None

    @property
    def keepable(self) -> bool:
        """Whether some option keeps every promise."""
        return any(option.keeps_all for option in self.options)

    @cached_property
    def excluded(self) -> tuple[Exclusion, ...]:
        """Engineers left out, each with the reason (skill, shift, busy, too far, parts).

        Only engineers the search priced can be left out for parts: those it never reached
        are in `unreached`, unpriced.
        """
        return self._explainer.excluded()

    @cached_property
    def lacking_skill(self) -> SkillExclusions:
        """`excluded`'s first part, compact: those lacking a skill (the most, by far)."""
        return self._explainer.lacking_skill()

    @cached_property
    def excluded_otherwise(self) -> tuple[Exclusion, ...]:
        """`excluded`'s second part: too far, busy, shift, parts (after `lacking_skill`)."""
        return self._explainer.excluded_otherwise()

    @cached_property
    def unreached(self) -> Unreached | None:
        """The candidates the search stopped before, unpriced, or None when it priced all."""
        return self._explainer.unreached(self.options)

    def priced(self, engineer_id: int) -> Option | Exclusion | None:
        """His option priced in full, ranked or not, or why he has none (None: no such
        engineer). The dispatcher's explicit ask: an unreached engineer is priced here only."""
        for option in self.options:
            if option.engineer_id == engineer_id:
                return option
        return self._explainer.priced(engineer_id)

    @cached_property
    def suggestions(self) -> tuple[Suggestion, ...]:
        """For a ticket whose promises nobody keeps: what would make them keepable."""
        return () if self.keepable else self._explainer.suggestions(self.options)

    @cached_property
    def loaner(self) -> Loaner | None:
        """A loaner from the nearest depot when the best option overruns the fix promise."""
        return self._explainer.loaner(self.options)
