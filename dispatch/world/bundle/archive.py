"""A bundle as one zip file, for upload and download; unpacking is bounded and zip-slip safe.

The API hands over untrusted bytes, so every limit lives here: the upload size, the
number of members, their unpacked size (counted while reading, not trusted from the
headers), and the paths (no absolute paths, no `..`, no links, no nested folders).
"""

from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dispatch.world.bundle.errors import BundleInvalid, BundleTooLarge, Problem
from dispatch.world.bundle.manifest import MANIFEST_FILE

MiB = 2**20
_CHUNK = MiB
# Written by some zip tools beside the files; never part of a bundle.
_IGNORED = ("__MACOSX/", ".DS_Store")
# A fixed member date: the same bundle always zips to the same bytes.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """How much an uploaded bundle may hold; the API takes max_upload_bytes from settings."""

    max_upload_bytes: int = 64 * MiB
    max_unpacked_bytes: int = 1024 * MiB
    max_members: int = 100

    def __post_init__(self) -> None:
        for name in ("max_upload_bytes", "max_unpacked_bytes", "max_members"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")


class UploadBuffer:
    """Collects an upload chunk by chunk and refuses it once it passes the limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._buffer = io.BytesIO()

    def expect(self, declared_length: str | None) -> None:
        """Refuse early when the declared length (Content-Length) is already too large."""
        if declared_length and declared_length.isdigit() and int(declared_length) > self.limit:
            raise BundleTooLarge("the upload", self.limit)

    def add(self, chunk: bytes) -> None:
        if self._buffer.tell() + len(chunk) > self.limit:
            raise BundleTooLarge("the upload", self.limit)
        self._buffer.write(chunk)

    def getvalue(self) -> bytes:
        return self._buffer.getvalue()


def pack_bundle(directory: Path | str) -> bytes:
    """Zip a bundle folder: flat, manifest first, files by name, fixed dates."""
    directory = Path(directory)
    names = sorted(p.name for p in directory.iterdir() if p.is_file() and p.name != MANIFEST_FILE)
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in (MANIFEST_FILE, *names):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, (directory / name).read_bytes())
    return output.getvalue()


def unpack_bundle(data: bytes, directory: Path | str, limits: ArchiveLimits) -> None:
    """Unpack an uploaded zip into the empty `directory`, within `limits`.

    Files may sit at the top of the zip or inside one folder (as zipping a bundle
    folder makes them). Raises BundleTooLarge or BundleInvalid; nothing is written
    outside `directory`.
    """
    if len(data) > limits.max_upload_bytes:
        raise BundleTooLarge("the upload", limits.max_upload_bytes)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise BundleInvalid([Problem("(upload)", None, None, f"not a zip file: {exc}")]) from exc
    with archive:
        members = _members(archive, limits)
        directory = Path(directory)
        budget = limits.max_unpacked_bytes
        try:
            for name, info in members.items():
                budget -= _extract(archive, info, directory / name, budget, limits)
        except (zipfile.BadZipFile, EOFError) as exc:  # e.g. a CRC mismatch while inflating
            raise BundleInvalid([Problem("(upload)", None, None, f"broken zip: {exc}")]) from exc


def _members(archive: zipfile.ZipFile, limits: ArchiveLimits) -> dict[str, zipfile.ZipInfo]:
    """Safe flat names -> members; every unsafe or unexpected member is a problem."""
    infos = [
        i
        for i in archive.infolist()
        if not i.is_dir() and not any(x in i.filename for x in _IGNORED)
    ]
    if len(infos) > limits.max_members:
        raise BundleTooLarge(f"the zip's {len(infos)} members", limits.max_members)
    if sum(i.file_size for i in infos) > limits.max_unpacked_bytes:
        raise BundleTooLarge("the unpacked bundle", limits.max_unpacked_bytes)
    paths = [PurePosixPath(i.filename) for i in infos]
    folders = {p.parts[0] for p in paths if len(p.parts) == 2}
    # One common folder around every file is stripped; anything deeper is refused.
    strip = len(folders) == 1 and all(len(p.parts) == 2 for p in paths)
    problems, members = [], {}
    for info, path in zip(infos, paths, strict=True):
        reason = _unsafe(info, path, strip)
        name = path.name
        if reason is None and name in members:
            reason = "appears twice"
        if reason is not None:
            problems.append(Problem(info.filename, None, None, f"refused zip member: {reason}"))
        else:
            members[name] = info
    if problems:
        raise BundleInvalid(problems)
    return members


def _unsafe(info: zipfile.ZipInfo, path: PurePosixPath, strip: bool) -> str | None:
    name = info.filename
    if name.startswith(("/", "\\")) or "\\" in name or (len(name) > 1 and name[1] == ":"):
        return "an absolute or Windows path"
    if ".." in path.parts:
        return "a path that leaves the bundle (..)"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "a symbolic link"
    if info.flag_bits & 0x1:
        return "encrypted"
    if len(path.parts) != (2 if strip else 1):
        return "a nested path: a bundle is flat (files at the top, or in one folder)"
    return None


def _extract(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    target: Path,
    budget: int,
    limits: ArchiveLimits,
) -> int:
    """Copy one member, counting the bytes actually inflated (headers can lie)."""
    written = 0
    with archive.open(info) as source, target.open("xb") as sink:
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > budget:
                raise BundleTooLarge("the unpacked bundle", limits.max_unpacked_bytes)
            sink.write(chunk)
    return written
