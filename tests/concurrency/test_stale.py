"""A lost version check on a ticket names the version that won (409 `current_version`).

Every ticket write locks the row first, so routes never meet it; a caller that changes a
ticket it read earlier without the lock does, and learns what to read again.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from dispatch import tickets
from dispatch.errors import StaleTicketError
from dispatch.models import Ticket
from tests.ticket_builders import make_ticket_world, open_ticket


def test_a_lost_version_check_names_the_current_version(clean_engine: Engine) -> None:
    with Session(clean_engine) as s, s.begin():
        ticket_id = open_ticket(s, make_ticket_world(s)).id
    with Session(clean_engine, expire_on_commit=False) as stale:
        mine = stale.get(Ticket, ticket_id)  # read at version 1, without the row lock
        assert mine is not None
        stale.commit()  # the read ends; the object keeps what it read
        with Session(clean_engine) as other, other.begin():  # another change wins
            theirs = other.get(Ticket, ticket_id)
            assert theirs is not None
            theirs.description = "theirs"
        mine.description = "mine"
        with pytest.raises(StaleTicketError) as lost:
            tickets._flush(stale, mine)
        assert (lost.value.ticket_id, lost.value.current_version) == (ticket_id, 2)
