"""Ticket streams: Poisson arrivals per region, spread over its sites, from a seed.

Arrivals follow each region's hour-of-day and weekday profile (`ArrivalProfile`): a
non-homogeneous Poisson process drawn by thinning (Lewis and Shedler): candidates at the
profile's peak rate, each kept with probability rate(t) / peak. A region's profile is the
scenario's `per_region_profile`, else the one learnt from the base world's service log
(`from_history`), else the scenario's `profile` (default: business hours). A flat profile
draws exactly the homogeneous stream (no thinning draws).

Common random numbers: the stream of one replication is drawn once, from the base world
and `(scenario seed, replication)`, and every variant and policy sees exactly that stream.
A demand surge adds extra arrivals from a stream of its own, so the common tickets stay
identical and only the surplus differs.
"""

from __future__ import annotations

import zlib
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from inventory.warranty import Cause
from scenarios.model import ArrivalProfile, SimSite, SimWorld, Surge, TicketType
from scenarios.spec import Demand

DAY_S = 86_400
HISTORY_MIN_TICKETS = 30  # fewer tickets than this say nothing about rates


@dataclass(frozen=True, slots=True)
class DemandTicket:
    """One arriving fault report, with everything random about it drawn up front."""

    id: int
    at_s: int
    site_id: int
    region_id: int
    asset_id: int
    line: str
    level: int
    planned_service_s: int  # the ticket type's standard duration
    service_s: int  # what it really takes (drawn)
    rank: int  # severity rank drawn from the mix (1 = most severe)
    parts: tuple[int, ...]
    cause: Cause
    type_id: int = 0  # its ticket type (the planning duration is learnt per type)


def rng_for(seed: int, replication: int, part: str) -> np.random.Generator:
    """An independent generator per (seed, replication, purpose); crc32 is stable."""
    return np.random.default_rng([seed, replication, zlib.crc32(part.encode())])


def region_rates(world: SimWorld, demand: Demand, history: Mapping[int, float]) -> dict[int, float]:
    """Tickets per day per region: per_region, else history, else split by site count."""
    sites = Counter(s.region_id for s in world.sites)
    total = sum(sites.values()) or 1
    rates = {rid: demand.tickets_per_day * n / total for rid, n in sites.items()}
    if demand.from_history and history:
        rates = {rid: history.get(rid, 0.0) for rid in sites}
    for code, rate in demand.per_region.items():
        rates[world.region_id(code)] = rate
    return rates


def history_rates(tables: Mapping[str, list[dict[str, Any]]]) -> dict[int, float]:
    """Tickets per day per region from a world's ticket history (empty when too little)."""
    tickets = tables.get("tickets", [])
    if len(tickets) < HISTORY_MIN_TICKETS:
        return {}
    region_of = {s["id"]: s["region_id"] for s in tables["sites"]}
    times = [t["reported_at"] for t in tickets]
    days = max((max(times) - min(times)).total_seconds() / DAY_S, 1.0)
    counts = Counter(region_of[t["site_id"]] for t in tickets)
    return {rid: n / days for rid, n in counts.items()}


def history_profiles(
    tables: Mapping[str, list[dict[str, Any]]], timezone: str
) -> dict[int, ArrivalProfile]:
    """Arrival profiles by region from a service log (its tickets' local report times).

    A region with at least HISTORY_MIN_TICKETS tickets gets its own profile; the others the
    whole log's (when the log has that many). Counts get one added per hour and weekday, so
    an hour never seen stays possible.
    """
    tickets = tables.get("tickets", [])
    if len(tickets) < HISTORY_MIN_TICKETS:
        return {}
    zone = ZoneInfo(timezone)
    region_of = {s["id"]: s["region_id"] for s in tables["sites"]}
    hours: dict[int, np.ndarray] = defaultdict(lambda: np.ones(24))
    days: dict[int, np.ndarray] = defaultdict(lambda: np.ones(7))
    for t in tickets:
        local = _aware(t["reported_at"]).astimezone(zone)
        for key in (region_of[t["site_id"]], -1):  # -1: the whole log
            hours[key][local.hour] += 1
            days[key][local.weekday()] += 1
    whole = _profile(hours[-1], days[-1])
    out = {}
    for s in tables["sites"]:
        rid = s["region_id"]
        enough = rid in days and days[rid].sum() - 7 >= HISTORY_MIN_TICKETS
        out[rid] = _profile(hours[rid], days[rid]) if enough else whole
    return out


def _aware(at: datetime) -> datetime:
    """The log stores UTC; a naive timestamp (SQLite) is UTC too."""
    return at if at.tzinfo is not None else at.replace(tzinfo=ZoneInfo("UTC"))


def _profile(hours: np.ndarray, days: np.ndarray) -> ArrivalProfile:
    return ArrivalProfile(tuple(float(h) for h in hours), tuple(float(d) for d in days))


def region_profile(world: SimWorld, demand: Demand, region_id: int) -> ArrivalProfile:
    """The region's arrival profile: per_region_profile, else learnt, else the default."""
    code = world.regions.get(region_id)
    if code in demand.per_region_profile:
        return demand.per_region_profile[code].profile()
    if demand.from_history and region_id in world.learnt_arrivals:
        return world.learnt_arrivals[region_id]
    return demand.profile.profile()


def relative_rate(profile: ArrivalProfile, epoch_weekday: int, at_s: np.ndarray) -> np.ndarray:
    """rate(t) / mean rate at offsets `at_s` from a local midnight on `epoch_weekday`.

    E.g. the default at 10:00 on a Monday: 1.9 / 0.99 (mean hour) * 1.15 / 1.0 (mean day).
    """
    hours = np.asarray(profile.hours) / np.mean(profile.hours)
    days = np.asarray(profile.weekdays) / np.mean(profile.weekdays)
    out: np.ndarray = hours[(at_s % DAY_S) // 3_600] * days[(epoch_weekday + at_s // DAY_S) % 7]
    return out


def arrival_times(
    rng: np.random.Generator,
    per_day: float,
    profile: ArrivalProfile,
    *,
    epoch_weekday: int,
    start: int,
    end: int,
) -> np.ndarray:
    """Sorted arrival offsets in [start, end) of a non-homogeneous Poisson process (thinning)."""
    if profile.flat:
        n = int(rng.poisson(per_day * (end - start) / DAY_S))
        return np.sort(rng.integers(start, end, size=n))
    peak = max(profile.hours) / np.mean(profile.hours)
    peak *= max(profile.weekdays) / np.mean(profile.weekdays)
    n = int(rng.poisson(per_day * peak * (end - start) / DAY_S))
    times = np.sort(rng.integers(start, end, size=n))
    keep = rng.random(n) * peak < relative_rate(profile, epoch_weekday, times)
    kept: np.ndarray = times[keep]
    return kept


def ticket_stream(
    world: SimWorld,
    demand: Demand,
    *,
    horizon_s: int,
    seed: int,
    replication: int,
    history: Mapping[int, float] | None = None,
) -> tuple[DemandTicket, ...]:
    """The common stream of one replication, ordered by arrival (ids 1..n in that order)."""
    rng = rng_for(seed, replication, "demand")
    rates = region_rates(world, demand, history or {})
    by_region = _sites_by_region(world)
    arrivals: list[tuple[int, SimSite]] = []
    for rid in sorted(rates):
        if not by_region.get(rid):
            continue
        times = arrival_times(
            rng, rates[rid], region_profile(world, demand, rid),
            epoch_weekday=world.epoch.weekday(), start=0, end=horizon_s,
        )  # fmt: skip
        picks = rng.integers(0, len(by_region[rid]), size=len(times))
        arrivals += [(int(t), by_region[rid][int(p)]) for t, p in zip(times, picks, strict=True)]
    arrivals.sort(key=lambda item: (item[0], item[1].id))
    return tuple(
        _ticket(world, demand, i + 1, at, site, rng) for i, (at, site) in enumerate(arrivals)
    )


def surge_tickets(
    world: SimWorld,
    demand: Demand,
    *,
    horizon_s: int,
    seed: int,
    replication: int,
    first_id: int,
    history: Mapping[int, float] | None = None,
) -> tuple[DemandTicket, ...]:
    """Extra arrivals of the world's surges: rate x (factor - 1) in the region and period."""
    rates = region_rates(world, demand, history or {})
    by_region = _sites_by_region(world)
    out: list[DemandTicket] = []
    for k, surge in enumerate(world.surges):
        rng = rng_for(seed, replication, f"surge-{k}-{surge.region_id}")
        profile = region_profile(world, demand, surge.region_id)
        weekday = world.epoch.weekday()
        for at, site in _surge_arrivals(surge, rates, by_region, horizon_s, rng, profile, weekday):
            out.append(_ticket(world, demand, first_id + len(out), at, site, rng))
    return tuple(out)


def _surge_arrivals(
    surge: Surge,
    rates: Mapping[int, float],
    by_region: Mapping[int, list[SimSite]],
    horizon_s: int,
    rng: np.random.Generator,
    profile: ArrivalProfile,
    weekday: int,
) -> list[tuple[int, SimSite]]:
    sites = by_region.get(surge.region_id, [])
    start, end = surge.period.start_s, min(surge.period.end_s, horizon_s)
    if not sites or end <= start:
        return []
    extra = rates.get(surge.region_id, 0.0) * (surge.factor - 1)
    times = arrival_times(rng, extra, profile, epoch_weekday=weekday, start=start, end=end)
    return [(int(t), sites[int(rng.integers(0, len(sites)))]) for t in times]


def _sites_by_region(world: SimWorld) -> dict[int, list[SimSite]]:
    out: dict[int, list[SimSite]] = defaultdict(list)
    for site in world.sites:
        if world.assets_by_site.get(site.id):
            out[site.region_id].append(site)
    return out


def _types_by_line(types: tuple[TicketType, ...]) -> dict[str, list[TicketType]]:
    out: dict[str, list[TicketType]] = defaultdict(list)
    for ticket_type in types:
        out[ticket_type.line].append(ticket_type)
    return out


def _ticket(
    world: SimWorld, demand: Demand, tid: int, at: int, site: SimSite, rng: np.random.Generator
) -> DemandTicket:
    """Draw one ticket's asset, type, severity, parts, cause and real service time."""
    u = rng.random(5)  # a fixed number of draws per ticket keeps the streams aligned
    assets = world.assets_by_site[site.id]
    asset = assets[int(u[0] * len(assets))]
    types = _types_by_line(world.ticket_types)[asset.line] or list(world.ticket_types)
    ticket_type = types[int(u[1] * len(types))]
    rank = int(np.searchsorted(np.cumsum(demand.severity_mix), u[2], side="right")) + 1
    rank = min(rank, len(demand.severity_mix))
    fits = world.part_fits.get(asset.model_id, ())
    parts = (fits[int(rng.integers(len(fits)))],) if fits and u[3] < demand.part_share else ()
    cause = Cause.CUSTOMER_DAMAGE if u[4] < demand.damage_share else Cause.NORMAL_FAULT
    planned = ticket_type.service_min * 60
    spread = float(rng.lognormal(0.0, demand.service_spread)) if demand.service_spread else 1.0
    return DemandTicket(
        tid, at, site.id, site.region_id, asset.id, asset.line, ticket_type.required_level,
        planned, max(300, round(planned * spread)), rank, parts, cause, ticket_type.id,
    )  # fmt: skip
