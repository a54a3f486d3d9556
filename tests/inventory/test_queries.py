"""Read services run inside the caller's transaction (rolled back here) and never commit."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db import find_active_user
from db.identity import Role
from dispatch.errors import NotFoundError as DispatchNotFound
from inventory.errors import NotFoundError
from inventory.models import Region
from inventory.pagination import fetch_page
from inventory.queries import get_by_id, get_region, list_regions
from tests.builders import key_for, make_region, make_user


class TestFetchPage:
    def test_refuses_a_limit_below_one(self, session: Session) -> None:
        with pytest.raises(ValueError, match="limit"):
            fetch_page(select(Region), Region.id, session=session, after=None, limit=0)

    def test_next_after_is_the_last_id_only_when_more_rows_follow(self, session: Session) -> None:
        ids = [make_region(session).id for _ in range(3)]
        first = list_regions(session=session, after=None, limit=2)
        assert [r.id for r in first.items] == ids[:2]
        assert first.next_after == ids[1]
        last = list_regions(session=session, after=first.next_after, limit=2)
        assert ([r.id for r in last.items], last.next_after) == (ids[2:], None)


class TestGetById:
    def test_missing_row_raises_with_entity_and_key(self, session: Session) -> None:
        with pytest.raises(NotFoundError) as caught:
            get_region(session=session, region_id=123456)
        assert (caught.value.entity, caught.value.key) == ("Region", 123456)

    def test_each_package_raises_its_own_error(self, session: Session) -> None:
        with pytest.raises(DispatchNotFound):
            get_by_id(Region, 123456, session=session, not_found=DispatchNotFound)


class TestFindActiveUser:
    def test_finds_by_key_and_refuses_inactive_users(self, session: Session) -> None:
        user = make_user(session, Role.PLANNER)
        make_user(session, Role.WAREHOUSE, active=False)
        assert find_active_user(session=session, api_key=key_for(Role.PLANNER)) is user
        assert find_active_user(session=session, api_key=key_for(Role.WAREHOUSE)) is None
        assert find_active_user(session=session, api_key="spk_unknown") is None
