"""Names, not only ids, on the command line (issue 17): codes, SKUs and names resolve to ids;
an ambiguous name is a usage error that lists its matches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import db
import spares.cli as cli
from inventory.models import Supplier, SupplierKind
from spares.names import resolve
from tests.builders import make_depot, make_engineer, make_region
from tests.ticket_builders import TicketWorld, make_ticket_world, open_ticket

runner = CliRunner()


@pytest.fixture
def world(tmp_path: Path) -> tuple[str, TicketWorld, str, int]:
    url = f"sqlite:///{tmp_path}/names.db"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine) as s, s.begin():
        w = make_ticket_world(s)
        w.region.code, w.region.name = "GZ", "Guangzhou"
        make_region(s, code="SZ", name="Shenzhen")
        make_engineer(s, w.region, code="E-LW", name="Li Wei")
        make_engineer(s, w.region, code="E-LN", name="Li Na")
        make_depot(s, w.region, code="RD-GZ-1", name="Guangzhou depot 1")
        s.add(Supplier(code="SUP-HW", name="Huawei spares", kind=SupplierKind.SUPPLIER,
                       lead_time_hours=48))  # fmt: skip
        ticket = open_ticket(s, w)
        code, ticket_id = ticket.code, ticket.id
        s.expunge_all()
    engine.dispose()
    return url, w, code, ticket_id


def _resolve(url: str, kind: str, text: str) -> int:
    engine = db.make_engine(url)
    try:
        with Session(engine) as s:
            return resolve(s, kind, text)
    finally:
        engine.dispose()


def test_ids_codes_and_names_in_any_case(world: tuple[str, TicketWorld, str, int]) -> None:
    url, w, code, ticket_id = world
    assert _resolve(url, "ticket", code.lower()) == ticket_id
    assert _resolve(url, "ticket", str(ticket_id)) == ticket_id
    assert _resolve(url, "region", "gz") == w.region.id
    assert _resolve(url, "region", "guangzhou") == w.region.id
    assert _resolve(url, "region", str(w.region.id)) == w.region.id
    li_na = _resolve(url, "engineer", "E-LN")
    assert _resolve(url, "engineer", "li na") == li_na
    assert _resolve(url, "engineer", "Na") == li_na  # the only name that contains it
    assert _resolve(url, "supplier", "huawei") == _resolve(url, "supplier", "SUP-HW")
    assert _resolve(url, "part", w.part.sku.lower()) == w.part.id
    assert _resolve(url, "depot", "guangzhou depot 1") == _resolve(url, "depot", "rd-gz-1")


def test_an_ambiguous_name_lists_its_matches(world: tuple[str, TicketWorld, str, int]) -> None:
    url, *_ = world
    with pytest.raises(typer.BadParameter) as caught:
        _resolve(url, "engineer", "li")
    text = str(caught.value)
    assert "'li' matches 2 engineers" in text
    assert "Li Wei (E-LW, id " in text
    assert "Li Na (E-LN, id " in text


def test_nothing_found_says_what_was_looked_for(world: tuple[str, TicketWorld, str, int]) -> None:
    url, *_ = world
    with pytest.raises(typer.BadParameter, match="no ticket has the id or code 'T-NONE'"):
        _resolve(url, "ticket", "T-NONE")
    with pytest.raises(typer.BadParameter, match="no region has the id, code or name 'XX'"):
        _resolve(url, "region", "XX")


def _invoke(url: str, *args: str) -> Any:
    return runner.invoke(cli.app, ["--database-url", url, *args], catch_exceptions=False)


def test_commands_take_codes_and_names(world: tuple[str, TicketWorld, str, int]) -> None:
    url, w, code, _ = world
    sku = w.part.sku
    ordered = _invoke(url, "stock", "order", "--depot", "guangzhou depot 1", "--part", sku,
                      "-n", "3", "--supplier", "Huawei spares")  # fmt: skip
    assert ordered.exit_code == 0, ordered.output
    assert f"3 of {sku} ({w.part.name}) for depot RD-GZ-1" in " ".join(ordered.output.split())
    received = _invoke(url, "stock", "receive", "--depot", "RD-GZ-1", "--part", sku, "-n", "2")
    assert received.exit_code == 0, received.output
    by_id = _invoke(url, "stock", "receive", "--depot", "guangzhou depot 1",
                    "--part", str(w.part.id), "-n", "1")  # fmt: skip
    assert by_id.exit_code == 0, by_id.output  # issue 17: the answer names what an id meant
    said = " ".join(by_id.output.split())
    assert f"received 1 of {sku} ({w.part.name}) at depot RD-GZ-1" in said
    fixed = _invoke(url, "stock", "adjust", "--depot", "guangzhou depot 1",
                    "--part", str(w.part.id), "--delta", "-1", "--reason", "count")  # fmt: skip
    assert fixed.exit_code == 0, fixed.output
    assert f"adjusted {sku} ({w.part.name}) at depot RD-GZ-1 by -1" in " ".join(
        fixed.output.split()
    )
    held = _invoke(url, "stock", "reserve", "--depot", "rd-gz-1", "--part", sku,
                   "--ticket", code.lower())  # fmt: skip
    assert held.exit_code == 0, held.output
    assert f"1 of {sku} ({w.part.name}) held at depot RD-GZ-1" in " ".join(held.output.split())
    holds = _invoke(url, "stock", "reservations", "--ticket", code)
    assert holds.exit_code == 0, holds.output
    assert "1 live hold(s)" in holds.output
    assert code in holds.output  # the ticket by its code, not its id
    ambiguous = _invoke(url, "dispatch", "disrupt", "1", "--user", "nobody", "--absent", "li")
    assert ambiguous.exit_code == 2
    assert "matches 2 engineers" in ambiguous.output
    unknown = _invoke(url, "dispatch", "recommend", "T-NONE")
    assert unknown.exit_code == 2
    assert "no ticket has the id or code" in unknown.output
