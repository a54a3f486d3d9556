"""The whole world as a bundle (docs/world-format.md): download it, or load one (admin only).

Limits, zip handling and validation live in `dispatch.world.bundle`; the upload is
streamed into its size-limited buffer, so an oversized body is refused early.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from api.area import regions_changed
from api.deps import NowDep, SessionDep, SettingsDep, requires
from db import Role
from dispatch.world import bundle

router = APIRouter(prefix="/world", tags=["world"])
ADMIN = requires(Role.ADMIN)
ZIP = "application/zip"


class WorldImportRead(BaseModel):
    """What an import loaded: rows per table of the bundle."""

    rows: dict[str, int]
    total_rows: int


async def _zip_upload(request: Request, settings: SettingsDep) -> bytes:
    """The raw request body, refused as soon as it passes the configured limit."""
    buffer = bundle.UploadBuffer(settings.world_import_max_bytes)
    buffer.expect(request.headers.get("content-length"))
    async for chunk in request.stream():
        buffer.add(chunk)
    return buffer.getvalue()


ZipUpload = Annotated[bytes, Depends(_zip_upload)]


@router.get(
    "/export",
    dependencies=[ADMIN],
    response_class=Response,
    responses={200: {"content": {ZIP: {}}, "description": "the world bundle as a zip"}},
)
def export_world(session: SessionDep, now: NowDep) -> Response:
    """Download every table as a world bundle (users with key hashes, never keys)."""
    data = bundle.export_world_zip(session, created_at=now)
    name = f"spares-world-{now:%Y%m%dT%H%M%SZ}.zip"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(data, media_type=ZIP, headers=headers)


@router.post(
    "/import",
    dependencies=[ADMIN],
    openapi_extra={"requestBody": {"required": True, "content": {ZIP: {}}}},
)
def import_world(session: SessionDep, settings: SettingsDep, upload: ZipUpload) -> WorldImportRead:
    """Load a zipped bundle into an empty database: all of it, or nothing (422, 409, 413)."""
    limits = bundle.ArchiveLimits(max_upload_bytes=settings.world_import_max_bytes)
    world = bundle.import_world_zip(session, upload, limits=limits)
    regions_changed(session)  # its rows bypass the ORM: the service area must be read anew
    return WorldImportRead(rows=world.counts, total_rows=sum(world.counts.values()))
