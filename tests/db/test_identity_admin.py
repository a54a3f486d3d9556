"""Administering users: names stay unique, a rotated key replaces the old, one admin remains."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from db.errors import DuplicateUserError, LastAdminError, UserNotFoundError
from db.identity import (
    Role,
    add_user,
    find_active_user,
    list_users,
    rotate_api_key,
    update_user,
)


def test_add_refuses_a_taken_name(session: Session) -> None:
    add_user(session=session, name="Ann", role=Role.PLANNER)
    with pytest.raises(DuplicateUserError):
        add_user(session=session, name="Ann", role=Role.ADMIN)


def test_rotate_replaces_the_key(session: Session) -> None:
    user, old = add_user(session=session, name="Bo", role=Role.WAREHOUSE)
    _, new = rotate_api_key(session=session, user_id=user.id)
    assert find_active_user(session=session, api_key=old) is None
    assert find_active_user(session=session, api_key=new) is user


def test_the_last_active_admin_stays_one(session: Session) -> None:
    first, _ = add_user(session=session, name="Root", role=Role.ADMIN)
    second, _ = add_user(session=session, name="Root2", role=Role.ADMIN)
    update_user(session=session, user_id=second.id, changes={"active": False})
    with pytest.raises(LastAdminError):
        update_user(session=session, user_id=first.id, changes={"role": Role.PLANNER})
    update_user(session=session, user_id=second.id, changes={"active": True})
    assert update_user(session=session, user_id=first.id, changes={"role": Role.PLANNER}).role == (
        Role.PLANNER
    )


def test_rename_list_and_missing(session: Session) -> None:
    user, _ = add_user(session=session, name="Cy", role=Role.ENGINEER)
    add_user(session=session, name="Di", role=Role.ENGINEER)
    with pytest.raises(DuplicateUserError):
        update_user(session=session, user_id=user.id, changes={"name": "Di"})
    page = list_users(session=session, after=user.id - 1, limit=1)
    assert [u.name for u in page.items] == ["Cy"]
    assert page.next_after == user.id
    with pytest.raises(UserNotFoundError):
        rotate_api_key(session=session, user_id=999_999)
