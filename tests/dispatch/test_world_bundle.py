"""World bundles: round trips, whole-bundle validation (every problem, nothing written), zips."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import db
from db.base import Base
from dispatch.errors import WorldNotEmptyError
from dispatch.world import World, WorldSize, generate_world, load_world, world_is_empty
from dispatch.world.bundle import (
    MANIFEST_FILE,
    MAX_PROBLEMS,
    ArchiveLimits,
    BundleConflict,
    BundleInvalid,
    BundleTooLarge,
    Problem,
    UploadBuffer,
    bundle_tables,
    export_world,
    import_world,
    pack_bundle,
    read_bundle,
    unpack_bundle,
    write_bundle,
)
from dispatch.world.bundle.reference import format_reference

SEED = 7
AT = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
DOC = Path(__file__).parents[2] / "docs" / "world-format.md"


@pytest.fixture(scope="module")
def small() -> World:
    return generate_world(SEED, WorldSize.SMALL)


@pytest.fixture
def bundle(tmp_path: Path, small: World) -> Path:
    """A valid bundle of the small world, written without a database."""
    return _written(small, tmp_path / "bundle")


def _written(world: World, directory: Path) -> Path:
    write_bundle(world.tables, directory, created_at=AT)
    return directory


def _rows(directory: Path, file: str) -> list[list[str]]:
    with (directory / file).open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _save(directory: Path, file: str, records: list[list[str]]) -> None:
    with (directory / file).open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(records)


def edit(
    directory: Path, file: str, row: int, **cells: str | Callable[[dict[str, str]], str]
) -> None:
    """Set cells of data row `row` (1-based); a callable gets the row as a dict."""
    records = _rows(directory, file)
    header = records[0]
    current = dict(zip(header, records[row], strict=True))
    for name, value in cells.items():
        records[row][header.index(name)] = value(current) if callable(value) else value
    _save(directory, file, records)


def append(directory: Path, file: str, **cells: str) -> None:
    records = _rows(directory, file)
    records.append([cells.get(name, "") for name in records[0]])
    _save(directory, file, records)
    manifest = json.loads((directory / MANIFEST_FILE).read_text())
    for entry in manifest["files"]:
        entry["rows"] += entry["name"] == file
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest))


def problems(directory: Path, **kw: Any) -> list[Problem]:
    with pytest.raises(BundleInvalid) as caught:
        read_bundle(directory, **kw)
    return caught.value.errors


def only(directory: Path) -> Problem:
    found = problems(directory)
    assert len(found) == 1, found
    return found[0]


def _all_rows(session: Session) -> dict[str, list[Any]]:
    found = {}
    for table in Base.metadata.sorted_tables:
        stmt = select(table).order_by(*table.primary_key.columns)
        found[table.name] = [tuple(row) for row in session.execute(stmt)]
    return found


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def _manifest(directory: Path) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((directory / MANIFEST_FILE).read_text())
    body.pop("created_at")
    return body


def _sqlite(path: Path) -> Engine:
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    return engine


class TestRoundTrip:
    def test_large_world_export_import_export_is_identical(self, tmp_path: Path) -> None:
        source, target = _sqlite(tmp_path / "a.db"), _sqlite(tmp_path / "b.db")
        with Session(source) as session, session.begin():
            load_world(session, generate_world(SEED, WorldSize.LARGE))
        with Session(source) as session:
            export_world(session, tmp_path / "first", created_at=AT)
            before = _all_rows(session)
        with Session(target) as session, session.begin():
            import_world(session, tmp_path / "first")
        with Session(target) as session:
            export_world(session, tmp_path / "again", created_at=datetime.now(UTC))
            after = _all_rows(session)
        first, again = _files(tmp_path / "first"), _files(tmp_path / "again")
        assert first.keys() == again.keys()
        assert {n: b for n, b in first.items() if n != MANIFEST_FILE} == {
            n: b for n, b in again.items() if n != MANIFEST_FILE
        }
        assert _manifest(tmp_path / "first") == _manifest(tmp_path / "again")
        assert before == after
        assert len(after["sites"]) == 20_000
        source.dispose()
        target.dispose()

    def test_small_world_round_trip_in_one_transaction(
        self, session: Session, small: World, tmp_path: Path
    ) -> None:
        # Runs on SQLite and PostgreSQL: load, export, empty, import, export again.
        load_world(session, small)
        export_world(session, tmp_path / "first", created_at=AT)
        before = _all_rows(session)
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())
        import_world(session, tmp_path / "first")
        export_world(session, tmp_path / "again", created_at=AT)
        assert _files(tmp_path / "first") == _files(tmp_path / "again")
        assert _all_rows(session) == before

    def test_a_generated_world_reads_back_to_its_rows(self, bundle: Path, small: World) -> None:
        world = read_bundle(bundle)
        assert list(world.tables)[: len(world.tables)] == [s.name for s in bundle_tables()]
        for name, rows in small.tables.items():
            assert len(world.tables[name]) == len(rows), name
            for generated, read in zip(rows, world.tables[name], strict=True):
                assert {k: read[k] for k in generated} == generated, name

    def test_export_refuses_a_folder_with_files(self, session: Session, tmp_path: Path) -> None:
        (tmp_path / "old.csv").write_text("x")
        with pytest.raises(FileExistsError):
            export_world(session, tmp_path)

    def test_the_manifest_names_format_version_and_counts(self, bundle: Path, small: World) -> None:
        manifest = json.loads((bundle / MANIFEST_FILE).read_text())
        assert (manifest["format"], manifest["format_version"]) == ("spares-world", 1)
        assert manifest["created_at"] == "2026-11-02T01:00:00+00:00"
        counts = {f["table"]: f["rows"] for f in manifest["files"]}
        assert counts["sites"] == small.counts["sites"]
        assert counts["ticket_parts_used"] == 0

    def test_users_go_out_with_hashes_never_keys(self, bundle: Path, small: World) -> None:
        text = (bundle / "users.csv").read_text()
        assert all(key not in text for key in small.demo_keys.values())
        assert _rows(bundle, "users.csv")[0] == [
            "id",
            "name",
            "role",
            "api_key_hash",
            "active",
            "created_at",
        ]


class TestImport:
    def test_many_bad_rows_across_files_are_all_reported_and_nothing_is_written(
        self, session: Session, bundle: Path
    ) -> None:
        edit(bundle, "regions.csv", 2, lat="north")
        edit(bundle, "sites.csv", 5, contract_id="99999", rural="yes")
        edit(bundle, "stock_levels.csv", 3, reserved="1000")
        edit(bundle, "parts.csv", 1, sku="")
        with pytest.raises(BundleInvalid) as caught:
            import_world(session, bundle)
        found = {(p.file, p.row, p.field) for p in caught.value.errors}
        assert found == {
            ("regions.csv", 2, "lat"),
            ("sites.csv", 5, "contract_id"),
            ("sites.csv", 5, "rural"),
            ("stock_levels.csv", 3, "reserved, on_hand"),
            ("parts.csv", 1, "sku"),
        }
        assert caught.value.total == 5
        assert all(p.reason for p in caught.value.errors)
        assert world_is_empty(session)

    def test_problems_come_in_bundle_order(self, bundle: Path) -> None:
        edit(bundle, "sites.csv", 9, lat="x")
        edit(bundle, "sites.csv", 2, lon="x")
        edit(bundle, "regions.csv", 4, lat="x")
        found = [(p.file, p.row) for p in problems(bundle)]
        assert found == [("regions.csv", 4), ("sites.csv", 2), ("sites.csv", 9)]

    def test_the_report_is_capped_and_counts_the_rest(self, bundle: Path) -> None:
        for row in range(1, 11):
            edit(bundle, "sites.csv", row, lat="x")
        with pytest.raises(BundleInvalid) as caught:
            read_bundle(bundle, max_problems=4)
        assert len(caught.value.errors) == 4
        assert caught.value.total == 10
        assert "first 4 shown" in str(caught.value)
        assert MAX_PROBLEMS == 1_000

    def test_a_database_with_a_world_is_refused(
        self, session: Session, small: World, bundle: Path
    ) -> None:
        load_world(session, small)
        with pytest.raises(WorldNotEmptyError):
            import_world(session, bundle)

    def test_a_stored_user_matching_the_bundle_is_kept(
        self, session: Session, small: World, bundle: Path
    ) -> None:
        first = small.tables["users"][0]
        session.execute(Base.metadata.tables["users"].insert(), [first])
        world = import_world(session, bundle)
        assert world.counts["users"] == len(small.tables["users"])
        assert (
            session.scalar(select(db.User.name).where(db.User.id == first["id"])) == first["name"]
        )

    def test_a_stored_user_clashing_with_the_bundle_is_a_conflict(
        self, session: Session, small: World, bundle: Path
    ) -> None:
        clash = small.tables["users"][0] | {"name": "Somebody else"}
        session.execute(Base.metadata.tables["users"].insert(), [clash])
        with pytest.raises(BundleConflict) as caught:
            import_world(session, bundle)
        assert [(p.file, p.row, p.field) for p in caught.value.errors] == [("users.csv", 1, "id")]


class TestManifest:
    def test_missing(self, bundle: Path) -> None:
        (bundle / MANIFEST_FILE).unlink()
        assert only(bundle) == Problem(MANIFEST_FILE, None, None, only(bundle).reason)

    @pytest.mark.parametrize(
        ("key", "value"),
        [
            ("format_version", 2),
            ("format_version", "1"),
            ("format", "other"),
            ("created_at", "2026-11-02T01:00:00"),
        ],
    )
    def test_bad_values(self, bundle: Path, key: str, value: object) -> None:
        manifest = json.loads((bundle / MANIFEST_FILE).read_text()) | {key: value}
        (bundle / MANIFEST_FILE).write_text(json.dumps(manifest))
        assert (only(bundle).file, only(bundle).field) == (MANIFEST_FILE, key)

    def test_an_unsupported_version_stops_before_the_files(self, bundle: Path) -> None:
        manifest = json.loads((bundle / MANIFEST_FILE).read_text()) | {"format_version": 2}
        (bundle / MANIFEST_FILE).write_text(json.dumps(manifest))
        edit(bundle, "sites.csv", 1, lat="x")
        assert "not supported" in only(bundle).reason

    def test_unknown_key(self, bundle: Path) -> None:
        manifest = json.loads((bundle / MANIFEST_FILE).read_text()) | {"author": "me"}
        (bundle / MANIFEST_FILE).write_text(json.dumps(manifest))
        assert only(bundle).field == "author"

    def test_row_count_must_match(self, bundle: Path) -> None:
        records = _rows(bundle, "shifts.csv")
        _save(bundle, "shifts.csv", records[:-1])  # truncated
        found = only(bundle)
        assert (found.file, found.row, found.field) == ("shifts.csv", None, None)
        assert f"the manifest says {len(records) - 1} rows, the file has" in found.reason

    def test_files_may_be_left_out(self, bundle: Path) -> None:
        manifest = json.loads((bundle / MANIFEST_FILE).read_text())
        del manifest["files"]
        (bundle / MANIFEST_FILE).write_text(json.dumps(manifest))
        assert read_bundle(bundle).counts["sites"] == 300


class TestFiles:
    def test_missing_file(self, bundle: Path) -> None:
        (bundle / "depots.csv").unlink()
        found = only(bundle)  # references into the missing file are not reported again
        assert (found.file, found.row, found.field) == ("depots.csv", None, None)
        assert "missing" in found.reason

    def test_optional_file_may_be_left_out(self, bundle: Path) -> None:
        for name in ("service_log", "ticket_skills", "ticket_parts", "ticket_parts_used"):
            (bundle / f"{name}.csv").unlink()
        (bundle / "tickets.csv").unlink()
        manifest = json.loads((bundle / MANIFEST_FILE).read_text())
        del manifest["files"]
        (bundle / MANIFEST_FILE).write_text(json.dumps(manifest))
        assert read_bundle(bundle).counts["tickets"] == 0

    def test_unknown_file(self, bundle: Path) -> None:
        (bundle / "notes.txt").write_text("hello")
        assert (only(bundle).file, only(bundle).row) == ("notes.txt", None)

    def test_unknown_column(self, bundle: Path) -> None:
        records = _rows(bundle, "regions.csv")
        records[0].append("population")
        _save(bundle, "regions.csv", [records[0], *([*r, "1"] for r in records[1:])])
        found = only(bundle)
        assert (found.file, found.row, found.field) == ("regions.csv", 0, "population")
        assert "unknown column" in found.reason

    def test_missing_required_column_is_reported_once(self, bundle: Path) -> None:
        records = _rows(bundle, "regions.csv")
        at = records[0].index("name")
        _save(bundle, "regions.csv", [r[:at] + r[at + 1 :] for r in records])
        assert (only(bundle).row, only(bundle).field) == (0, "name")

    def test_optional_columns_may_be_left_out(self, bundle: Path) -> None:
        records = _rows(bundle, "regions.csv")
        at = records[0].index("timezone")
        _save(bundle, "regions.csv", [r[:at] + r[at + 1 :] for r in records])
        assert {r["timezone"] for r in read_bundle(bundle).tables["regions"]} == {"Asia/Shanghai"}

    def test_repeated_column(self, bundle: Path) -> None:
        records = _rows(bundle, "product_lines.csv")
        _save(bundle, "product_lines.csv", [[*r, r[1]] for r in records])
        assert (only(bundle).row, only(bundle).field) == (0, "code")

    def test_row_with_the_wrong_number_of_cells(self, bundle: Path) -> None:
        records = _rows(bundle, "product_lines.csv")
        records[2].append("extra")
        _save(bundle, "product_lines.csv", records)
        assert (only(bundle).row, only(bundle).field) == (2, None)

    def test_not_utf8(self, bundle: Path) -> None:
        (bundle / "product_lines.csv").write_bytes("id,code,name\n1,x,Caf\xe9\n".encode("latin-1"))
        assert (only(bundle).file, only(bundle).row) == ("product_lines.csv", None)
        assert "UTF-8" in only(bundle).reason


class TestCells:
    @pytest.mark.parametrize(
        ("file", "field", "value", "reason"),
        [
            ("regions.csv", "id", "1.0", "not an integer"),
            ("policy_severities.csv", "rank", "40000", "outside"),
            ("regions.csv", "lat", "nan", "not a number"),
            ("parts.csv", "cost_price", "1.234", "more than 2 decimal places"),
            ("parts.csv", "cost_price", "1e3", "not a plain decimal"),
            ("parts.csv", "list_price", "12345678901.00", "integer digits"),
            ("parts.csv", "key_part", "True", "not true or false"),
            ("contracts.csv", "starts_on", "2026/11/02", "not an ISO date"),
            ("shifts.csv", "starts_at", "8:30", "not an ISO time"),
            ("absences.csv", "starts_at", "2026-11-02T09:00:00", "with an offset"),
            ("depots.csv", "kind", "warehouse", "not one of central, regional, van"),
            ("product_lines.csv", "code", "x" * 33, "longer than 32"),
            ("product_lines.csv", "name", "", "required"),
            ("service_log.csv", "details", "{oops", "not valid JSON"),
        ],
    )
    def test_bad_cell(self, bundle: Path, file: str, field: str, value: str, reason: str) -> None:
        edit(bundle, file, 1, **{field: value})
        found = only(bundle)
        assert (found.file, found.row, found.field) == (file, 1, field)
        assert reason in found.reason

    def test_timestamps_with_any_offset_are_stored_in_utc(self, bundle: Path) -> None:
        edit(bundle, "absences.csv", 1, starts_at="2026-11-02T09:00:00+08:00")
        assert read_bundle(bundle).tables["absences"][0]["starts_at"] == AT

    def test_an_empty_cell_takes_the_default(self, bundle: Path) -> None:
        edit(bundle, "parts.csv", 1, currency="", key_part="")
        part = read_bundle(bundle).tables["parts"][0]
        assert (part["currency"], part["key_part"]) == ("CNY", False)


class TestKeys:
    def test_duplicate_primary_key(self, bundle: Path) -> None:
        edit(bundle, "shifts.csv", 2, id="1")
        found = only(bundle)
        assert (found.file, found.row, found.field) == ("shifts.csv", 2, "id")
        assert "row 1 has it already" in found.reason

    def test_duplicate_unique_column(self, bundle: Path) -> None:
        edit(bundle, "regions.csv", 3, code=lambda row: _rows(bundle, "regions.csv")[1][1])
        assert (only(bundle).row, only(bundle).field) == (3, "code")

    def test_duplicate_unique_pair(self, bundle: Path) -> None:
        edit(
            bundle,
            "policy_severities.csv",
            2,
            code=lambda row: _rows(bundle, "policy_severities.csv")[1][2],
        )
        assert (only(bundle).row, only(bundle).field) == (2, "policy_id, code")

    def test_dangling_foreign_key(self, bundle: Path) -> None:
        edit(bundle, "assets.csv", 7, site_id="123456")
        found = only(bundle)
        assert (found.file, found.row, found.field) == ("assets.csv", 7, "site_id")
        assert "matches no id in sites.csv" in found.reason


# One bundle edit per CHECK constraint of the models: (file, row, cells).
CHECK_CASES: dict[str, tuple[str, int, dict[str, Any]]] = {
    "ck_absences_ends_after_start": ("absences.csv", 1, {"ends_at": "2000-01-01T00:00:00+00:00"}),
    "ck_assets_accepted_after_installed": ("assets.csv", 1, {"accepted_on": "1990-01-01"}),
    "ck_contracts_ends_after_start": ("contracts.csv", 1, {"ends_on": "2000-01-01"}),
    "ck_depots_hours_both_or_neither": ("depots.csv", 1, {"opens_at": "08:00", "closes_at": ""}),
    "ck_depots_located": ("depots.csv", 1, {"lat": ""}),
    "ck_depots_pick_nonnegative": ("depots.csv", 1, {"pick_min": "-1"}),
    "ck_engineer_skills_level_range": ("engineer_skills.csv", 1, {"level": "4"}),
    "ck_engineers_costs_nonnegative": ("engineers.csv", 1, {"cost_per_km": "-1"}),
    "ck_engineers_van_capacity": ("engineers.csv", 1, {"van_capacity": "-1"}),
    "ck_installed_parts_removed_after_installed": (
        "installed_parts.csv",
        1,
        {"removed_on": "1990-01-01"},
    ),  # fmt: skip
    "ck_part_substitutes_not_self": (
        "part_substitutes.csv",
        1,
        {"substitute_id": lambda r: r["part_id"]},
    ),  # fmt: skip
    "ck_parts_cost_nonnegative": ("parts.csv", 1, {"cost_price": "-1"}),
    "ck_parts_list_not_below_cost": ("parts.csv", 1, {"list_price": "0"}),
    "ck_policy_severities_offsets_nonnegative": ("policy_severities.csv", 1, {"fix_min": "-1"}),
    "ck_policy_severities_rank_positive": ("policy_severities.csv", 1, {"rank": "0"}),
    "ck_promise_policies_frozen_horizon_nonnegative": (
        "promise_policies.csv",
        1,
        {"frozen_horizon_min": "-1"},
    ),  # fmt: skip
    "ck_promise_policies_eta_tolerance_nonnegative": (
        "promise_policies.csv",
        1,
        {"eta_tolerance_min": "-1"},
    ),  # fmt: skip
    "ck_promise_policies_inspection_window_positive": (
        "promise_policies.csv",
        1,
        {"inspection_window_days": "0"},
    ),  # fmt: skip
    "ck_promise_policies_margin_nonnegative": (
        "promise_policies.csv",
        1,
        {"at_risk_margin_min": "-1"},
    ),  # fmt: skip
    "ck_promise_policies_rates_nonnegative": ("promise_policies.csv", 1, {"service_fee": "-1"}),
    "ck_promise_policies_reservation_lifetime_positive": (
        "promise_policies.csv",
        1,
        {"reservation_lifetime_min": "0"},
    ),  # fmt: skip
    "ck_promise_policies_ship_positive": ("promise_policies.csv", 1, {"ship_within_min": "0"}),
    "ck_promise_policies_swap_positive": ("promise_policies.csv", 1, {"swap_within_min": "0"}),
    "ck_promise_policies_warranty_years_range": (
        "promise_policies.csv",
        1,
        {"warranty_years": "21"},
    ),  # fmt: skip
    "ck_regions_lat_range": ("regions.csv", 1, {"lat": "90.5"}),
    "ck_regions_lon_range": ("regions.csv", 1, {"lon": "-180.5"}),
    "ck_shifts_nonempty": ("shifts.csv", 1, {"ends_at": lambda r: r["starts_at"]}),
    "ck_shifts_weekday_range": ("shifts.csv", 1, {"weekday": "7"}),
    "ck_sites_lat_range": ("sites.csv", 1, {"lat": "-91"}),
    "ck_sites_lon_range": ("sites.csv", 1, {"lon": "181"}),
    "ck_stock_levels_in_transit_nonnegative": ("stock_levels.csv", 1, {"in_transit": "-1"}),
    "ck_stock_levels_on_hand_nonnegative": (
        "stock_levels.csv",
        1,
        {"on_hand": "-1", "reserved": "-1"},
    ),  # fmt: skip
    "ck_stock_levels_on_order_nonnegative": ("stock_levels.csv", 1, {"on_order": "-1"}),
    "ck_stock_levels_reorder_point_nonnegative": ("stock_levels.csv", 1, {"reorder_point": "-1"}),
    "ck_stock_levels_reserved_nonnegative": ("stock_levels.csv", 1, {"reserved": "-1"}),
    "ck_stock_levels_reserved_within_on_hand": (
        "stock_levels.csv",
        1,
        {"reserved": lambda r: str(int(r["on_hand"]) + 1)},
    ),  # fmt: skip
    "ck_suppliers_lead_time_nonnegative": ("suppliers.csv", 1, {"lead_time_hours": "-1"}),
    "ck_suppliers_transit_nonnegative": ("suppliers.csv", 1, {"transit_hours": "-1"}),
    "ck_ticket_parts_quantity_positive": ("ticket_parts.csv", 1, {"quantity": "0"}),
    "ck_ticket_parts_used_quantity_positive": ("ticket_parts_used.csv", 1, {"quantity": "0"}),
    "ck_ticket_skills_level_range": ("ticket_skills.csv", 1, {"min_level": "0"}),
    "ck_ticket_types_level_range": ("ticket_types.csv", 1, {"required_level": "4"}),
    "ck_ticket_types_service_positive": ("ticket_types.csv", 1, {"service_min": "0"}),
    "ck_tickets_cancel_has_reason": (
        "tickets.csv",
        1,
        {"status": "cancelled", "cancel_reason": ""},
    ),  # fmt: skip
    "ck_tickets_satisfaction_range": ("tickets.csv", 1, {"satisfaction": "6"}),
}


# Valid rows for tables the demo world leaves empty, appended before a rule is broken.
_WHEN = "2026-11-02T01:00:00+00:00"
SEED_ROWS: dict[str, dict[str, str]] = {
    "ticket_parts_used.csv": dict(id="1", ticket_id="1", part_id="1", quantity="1",
                                  recorded_at=_WHEN, recorded_by_id="1"),
    "reservations.csv": dict(id="1", depot_id="1", part_id="1", quantity="1",
                             expires_at=_WHEN, created_at=_WHEN),
    "supplier_orders.csv": dict(id="1", supplier_id="1", depot_id="1", part_id="1", quantity="1",
                                ordered_at=_WHEN, expected_at=_WHEN),
    "shipments.csv": dict(id="1", from_depot_id="1", to_depot_id="2", part_id="1", quantity="1",
                          requested_at=_WHEN, ship_by=_WHEN, transit_min="60"),
    "assignments.csv": dict(id="1", ticket_id="1", engineer_id="1", status="active",
                            departs_at=_WHEN, arrives_at="2026-11-02T02:00:00+00:00",
                            fixes_at="2026-11-02T03:00:00+00:00", parts_source="none",
                            pinned="false", created_at=_WHEN, created_by_id="1"),
    "quotes.csv": dict(id="1", ticket_id="1", kind="quote", cause="normal_fault",
                       on_date="2026-11-02", currency="CNY", total="0.00", warranty_job="true",
                       lines="[]", created_at=_WHEN),
}  # fmt: skip
CHECK_CASES |= {
    "ck_stock_levels_returns_nonnegative": ("stock_levels.csv", 1, {"returns": "-1"}),
    "ck_reservations_quantity_positive": ("reservations.csv", 1, {"quantity": "0"}),
    "ck_supplier_orders_quantity_positive": ("supplier_orders.csv", 1, {"quantity": "0"}),
    "ck_shipments_quantity_positive": ("shipments.csv", 1, {"quantity": "0"}),
    "ck_shipments_transit_nonnegative": ("shipments.csv", 1, {"transit_min": "-1"}),
    "ck_shipments_one_destination": ("shipments.csv", 1, {"to_site_id": "1"}),
    "ck_assignments_arrives_after_departure": (
        "assignments.csv",
        1,
        {"arrives_at": "2026-11-02T00:00:00+00:00"},
    ),  # fmt: skip
    "ck_quotes_total_nonnegative": ("quotes.csv", 1, {"total": "-1.00"}),
    "ck_assignments_fixed_after_arrival": (
        "assignments.csv",
        1,
        {"fixes_at": "2026-11-02T01:30:00+00:00"},
    ),  # fmt: skip
    # labour rules and clock penalties (issue 16)
    "ck_labour_rules_minutes_nonnegative": ("labour_rules.csv", 1, {"overtime_max_min": "-1"}),
    "ck_labour_rules_costs_nonnegative": ("labour_rules.csv", 1, {"callout_cost": "-1.00"}),
    "ck_policy_severities_penalties_nonnegative": (
        "policy_severities.csv",
        1,
        {"arrive_penalty": "-1.00"},
    ),  # fmt: skip
    "ck_promise_policies_penalty_shares_nonnegative": (
        "promise_policies.csv",
        1,
        {"at_risk_penalty_pct": "-1"},
    ),  # fmt: skip
    # planning durations and slack (issue 16)
    "ck_promise_policies_planning_policy_range": (
        "promise_policies.csv",
        1,
        {"plan_duration_pct": "40"},
    ),  # fmt: skip
    "ck_promise_policies_plan_log_jobs_positive": (
        "promise_policies.csv",
        1,
        {"plan_log_jobs": "0"},
    ),  # fmt: skip
    # the worker's re-dispatch tick and overrun threshold (issue 16)
    "ck_promise_policies_redispatch_policy_range": (
        "promise_policies.csv",
        1,
        {"redispatch_every_min": "0"},
    ),  # fmt: skip
    # engineers asked to make room for a ticket's arrival (issue 16)
    "ck_promise_policies_make_room_engineers_nonnegative": (
        "promise_policies.csv",
        1,
        {"make_room_engineers": "-1"},
    ),  # fmt: skip
    # drivers asked to take a ticket first (issue 16)
    "ck_promise_policies_divert_engineers_nonnegative": (
        "promise_policies.csv",
        1,
        {"divert_engineers": "-1"},
    ),  # fmt: skip
}


class TestCheckRules:
    def test_every_check_constraint_has_a_case(self) -> None:
        # A new CHECK in a model needs a case here (and a seed row if its table starts empty).
        assert {c.name for spec in bundle_tables() for c in spec.checks} == set(CHECK_CASES)

    @pytest.mark.parametrize("rule", sorted(CHECK_CASES))
    def test_rule_is_enforced(self, bundle: Path, rule: str) -> None:
        file, row, cells = CHECK_CASES[rule]
        if file in SEED_ROWS:
            append(bundle, file, **SEED_ROWS[file])
            read_bundle(bundle)  # the seed row itself is valid
        edit(bundle, file, row, **cells)
        found = problems(bundle)
        assert {(p.file, p.row) for p in found} == {(file, row)}
        assert any(p.reason.startswith(f"breaks rule {rule}:") for p in found), found

    def test_a_rule_over_null_passes(self, bundle: Path) -> None:
        edit(bundle, "tickets.csv", 1, satisfaction="")
        read_bundle(bundle)


class TestExplicitRules:
    @pytest.mark.parametrize(
        ("file", "row", "field", "value", "reason"),
        [
            ("regions.csv", 1, "timezone", "Mars/Olympus", "not an IANA time zone"),
            ("promise_policies.csv", 1, "timezone", "UTC+8", "not an IANA time zone"),
            ("parts.csv", 1, "currency", "cny", "not a currency code"),
            ("promise_policies.csv", 1, "currency", "RM", "not a currency code"),
            ("users.csv", 1, "api_key_hash", "spk_demo_dispatcher", "never hold keys"),
            ("engineers.csv", 1, "van_depot_id", "1", "is a central depot, not a van"),
            ("tickets.csv", 1, "severity", "whenever", "is not a severity of policy"),
        ],
    )
    def test_rule(
        self, bundle: Path, file: str, row: int, field: str, value: str, reason: str
    ) -> None:
        edit(bundle, file, row, **{field: value})
        found = only(bundle)
        assert (found.file, found.row, found.field) == (file, row, field)
        assert reason in found.reason


class TestArchive:
    def test_pack_then_unpack_gives_the_same_files(self, bundle: Path, tmp_path: Path) -> None:
        data = pack_bundle(bundle)
        assert pack_bundle(bundle) == data  # deterministic bytes
        out = tmp_path / "out"
        out.mkdir()
        unpack_bundle(data, out, ArchiveLimits())
        assert _files(out) == _files(bundle)

    def test_one_enclosing_folder_is_stripped(self, bundle: Path, tmp_path: Path) -> None:
        data = _zip({f"my-world/{n}": b for n, b in _files(bundle).items()})
        out = tmp_path / "out"
        out.mkdir()
        unpack_bundle(data, out, ArchiveLimits())
        assert read_bundle(out).counts["sites"] == 300

    @pytest.mark.parametrize(
        ("name", "reason"),
        [
            ("../evil.csv", "leaves the bundle"),
            ("/etc/evil.csv", "absolute"),
            ("C:/evil.csv", "absolute or Windows"),
            ("a/b/evil.csv", "nested"),
        ],
    )
    def test_unsafe_paths_are_refused(self, tmp_path: Path, name: str, reason: str) -> None:
        data = _zip({MANIFEST_FILE: b"{}", name: b"x"})
        with pytest.raises(BundleInvalid) as caught:
            unpack_bundle(data, tmp_path / "x", ArchiveLimits())
        assert [p.file for p in caught.value.errors] == [name]
        assert reason in caught.value.errors[0].reason
        assert not (tmp_path / "evil.csv").exists()

    def test_a_symbolic_link_is_refused(self, tmp_path: Path) -> None:
        link = zipfile.ZipInfo("regions.csv")
        link.external_attr = (0o120777) << 16
        data = _zip({MANIFEST_FILE: b"{}", link: b"/etc/passwd"})
        with pytest.raises(BundleInvalid) as caught:
            unpack_bundle(data, tmp_path, ArchiveLimits())
        assert "symbolic link" in caught.value.errors[0].reason

    def test_not_a_zip(self, tmp_path: Path) -> None:
        with pytest.raises(BundleInvalid) as caught:
            unpack_bundle(b"id,code\n", tmp_path, ArchiveLimits())
        assert "not a zip file" in caught.value.errors[0].reason

    def test_upload_over_the_limit(self, tmp_path: Path) -> None:
        with pytest.raises(BundleTooLarge):
            unpack_bundle(b"x" * 101, tmp_path, ArchiveLimits(max_upload_bytes=100))
        buffer = UploadBuffer(10)
        buffer.add(b"12345")
        with pytest.raises(BundleTooLarge):
            buffer.add(b"123456")
        with pytest.raises(BundleTooLarge):
            UploadBuffer(10).expect("11")

    def test_a_zip_bomb_is_stopped_while_inflating(self, tmp_path: Path) -> None:
        data = _zip({"regions.csv": b"0" * 5_000_000})
        assert len(data) < 50_000
        with pytest.raises(BundleTooLarge, match="unpacked"):
            unpack_bundle(data, tmp_path, ArchiveLimits(max_unpacked_bytes=1_000_000))


def _zip(members: dict[Any, bytes]) -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return output.getvalue()


def test_the_format_document_lists_every_file_column_and_rule() -> None:
    assert format_reference() in DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize("column", ["make_room_engineers", "divert_engineers"])
def test_a_bundle_older_than_a_policy_column_takes_the_documented_default(
    bundle: Path, column: str
) -> None:
    """Bundles written before issue 16 made these policy data have no such column: 3 each."""
    records = _rows(bundle, "promise_policies.csv")
    drop = records[0].index(column)
    _save(bundle, "promise_policies.csv", [r[:drop] + r[drop + 1 :] for r in records])
    policies = read_bundle(bundle).tables["promise_policies"]
    assert policies
    assert {p[column] for p in policies} == {3}
