"""Administration of engineers: who they are, skills, shifts, absences and van stock."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import CurrentUser, NowDep, SessionDep, requires
from api.schemas.admin import (
    AbsenceCreate,
    AbsenceRead,
    AbsenceUpdate,
    EngineerCreate,
    EngineerUpdate,
    ShiftCreate,
    ShiftRead,
    SkillsPut,
    StockLevelRead,
    StockPut,
)
from api.schemas.common import EngineerRead, IdPath, name_skills
from db.identity import Role
from dispatch import masterdata

router = APIRouter(prefix="/engineers", tags=["engineers"])
ADMIN = [requires(Role.ADMIN)]


@router.post("", dependencies=ADMIN, status_code=status.HTTP_201_CREATED)
def create_engineer(session: SessionDep, body: EngineerCreate) -> EngineerRead:
    """Create an engineer with skills; `create_van` also creates their van depot."""
    engineer = masterdata.create_engineer(session=session, **body.fields())
    return _read(session, engineer)


@router.patch("/{engineer_id}", dependencies=ADMIN)
def update_engineer(session: SessionDep, engineer_id: IdPath, body: EngineerUpdate) -> EngineerRead:
    """Change the fields sent; deactivating a dedicated engineer needs their sites handed over."""
    found = masterdata.update_engineer(
        session=session, engineer_id=engineer_id, changes=body.fields()
    )
    return _read(session, found)


@router.put("/{engineer_id}/skills", dependencies=ADMIN)
def replace_skills(session: SessionDep, engineer_id: IdPath, body: SkillsPut) -> EngineerRead:
    """Replace the engineer's whole skill set."""
    found = masterdata.replace_skills(session=session, engineer_id=engineer_id, **body.fields())
    return _read(session, found)


def _read(session: SessionDep, engineer: object) -> EngineerRead:
    """The engineer with his skills named as product lines."""
    read = EngineerRead.model_validate(engineer)
    name_skills(session, [read])
    return read


@router.post("/{engineer_id}/shifts", dependencies=ADMIN, status_code=status.HTTP_201_CREATED)
def add_shift(session: SessionDep, engineer_id: IdPath, body: ShiftCreate) -> ShiftRead:
    """Add a weekly shift; it may not overlap another of the engineer's shifts."""
    shift = masterdata.add_shift(session=session, engineer_id=engineer_id, **body.fields())
    return ShiftRead.model_validate(shift)


@router.delete(
    "/{engineer_id}/shifts/{shift_id}",
    dependencies=ADMIN,
    status_code=status.HTTP_204_NO_CONTENT,
)
def remove_shift(session: SessionDep, engineer_id: IdPath, shift_id: IdPath) -> None:
    """Remove a weekly shift."""
    masterdata.remove_shift(session=session, engineer_id=engineer_id, shift_id=shift_id)


@router.post("/{engineer_id}/absences", dependencies=ADMIN, status_code=status.HTTP_201_CREATED)
def add_absence(session: SessionDep, engineer_id: IdPath, body: AbsenceCreate) -> AbsenceRead:
    """Record an absence (sick leave, holiday, training) with its reason."""
    absence = masterdata.add_absence(session=session, engineer_id=engineer_id, **body.fields())
    return AbsenceRead.model_validate(absence)


@router.patch("/{engineer_id}/absences/{absence_id}", dependencies=ADMIN)
def update_absence(
    session: SessionDep, engineer_id: IdPath, absence_id: IdPath, body: AbsenceUpdate
) -> AbsenceRead:
    """Change an absence; ending it early (back at work) sets `ends_at`."""
    absence = masterdata.update_absence(
        session=session, engineer_id=engineer_id, absence_id=absence_id, changes=body.fields()
    )
    return AbsenceRead.model_validate(absence)


@router.put("/{engineer_id}/van-stock", dependencies=ADMIN)
def set_van_stock(
    session: SessionDep, user: CurrentUser, now: NowDep, engineer_id: IdPath, body: StockPut
) -> list[StockLevelRead]:
    """Set what the engineer's van carries, in full (parts left out leave the van)."""
    levels = masterdata.set_van_stock(
        session=session, engineer_id=engineer_id, user_id=user.id, now=now, **body.fields()
    )
    return [StockLevelRead.model_validate(level) for level in levels]
