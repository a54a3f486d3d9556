"""Travel times: the geodesic model against geopy, its road model, and the matrix fake."""

from __future__ import annotations

import math

import numpy as np
import pytest
from geopy.distance import geodesic, great_circle

from optimizer import GeodesicTravelTimes, MatrixTravelTimes, RoadModel, TravelTimes, haversine_m

# Real Guangdong places: Guangzhou, Shenzhen, Zhuhai, Shantou, Zhanjiang, Shaoguan.
PLACES = np.array(
    [
        [23.1291, 113.2644],
        [22.5431, 114.0579],
        [22.2710, 113.5767],
        [23.3541, 116.6819],
        [21.2707, 110.3594],
        [24.8104, 113.5972],
    ]
)


def test_haversine_matches_geopy_great_circle_to_1e_6() -> None:
    metres = haversine_m(PLACES, PLACES)
    for i, a in enumerate(PLACES):
        for j, b in enumerate(PLACES):
            expected = great_circle(tuple(a), tuple(b)).meters
            assert metres[i, j] == pytest.approx(expected, rel=1e-6, abs=1e-6)


def test_haversine_is_within_half_a_percent_of_the_ellipsoid() -> None:
    metres = haversine_m(PLACES, PLACES)
    for i, a in enumerate(PLACES):
        for j, b in enumerate(PLACES):
            if i != j:
                assert metres[i, j] == pytest.approx(geodesic(tuple(a), tuple(b)).meters, rel=5e-3)


def test_geodesic_provider_is_a_travel_times() -> None:
    assert isinstance(GeodesicTravelTimes(), TravelTimes)
    assert isinstance(MatrixTravelTimes(PLACES[:1], np.zeros((1, 1), int)), TravelTimes)


def test_geodesic_seconds_and_metres_are_integers_with_circuity() -> None:
    travel = GeodesicTravelTimes(RoadModel(circuity=1.5))
    seconds, metres = travel.matrix(PLACES, PLACES[:2])
    assert seconds.shape == metres.shape == (6, 2)
    assert seconds.dtype == metres.dtype == np.int64
    gc = great_circle(tuple(PLACES[0]), tuple(PLACES[1])).meters
    assert metres[0, 1] == round(gc * 1.5)
    assert seconds[0, 0] == 0


def test_many_to_one_equals_the_matrix_column() -> None:
    travel = GeodesicTravelTimes()
    seconds, metres = travel.many_to_one(PLACES, PLACES[3])
    full_s, full_m = travel.matrix(PLACES, PLACES[3:4])
    assert (seconds == full_s[:, 0]).all()
    assert (metres == full_m[:, 0]).all()


def test_road_model_drives_each_band_at_its_speed() -> None:
    # 3 km at 20 km/h (540 s) + 7 km at 35 km/h (720 s)
    model = RoadModel()
    assert model.seconds(np.array([10_000.0]))[0] == pytest.approx(540 + 720)


def test_geodesic_times_satisfy_the_triangle_inequality() -> None:
    rng = np.random.default_rng(3)
    points = np.column_stack((rng.uniform(21, 25, 40), rng.uniform(110, 117, 40)))
    seconds, _ = GeodesicTravelTimes().matrix(points, points)
    via = (seconds[:, :, None] + seconds[None, :, :]).min(axis=1)
    assert (seconds <= via).all()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"circuity": 0.9}, "circuity"),
        ({"bands": ((1_000.0, 30.0),)}, "bands"),
        ({"bands": ((1_000.0, 50.0), (math.inf, 30.0))}, "bands"),
    ],
)
def test_road_model_rejects_bad_values_naming_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        RoadModel(**kwargs)


def test_matrix_fake_reads_its_matrices_and_rejects_unknown_points() -> None:
    fake = MatrixTravelTimes(PLACES[:2], np.array([[0, 5], [7, 0]]), np.array([[0, 50], [70, 0]]))
    seconds, metres = fake.matrix(PLACES[1:2], PLACES[:2])
    assert seconds.tolist() == [[7, 0]]
    assert metres.tolist() == [[70, 0]]
    with pytest.raises(ValueError, match="origins"):
        fake.matrix(PLACES[3:4], PLACES[:1])
