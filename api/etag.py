"""Entity tags on the ticket's version: `ETag` on reads and writes, `If-Match` on writes.

A client that read version 7 sends `If-Match: "7"` with its change; when someone changed
the ticket meanwhile the change is refused with 412 problem+json naming the version the
ticket has now (`current_version`), instead of overwriting what the client never saw. The
check runs in the service on the locked row (`dispatch.tickets.check_version`); here the
header is parsed and the tag is written.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Header, Response
from fastapi.exceptions import RequestValidationError

IF_MATCH_HEADER = "If-Match"
ETAG_HEADER = "ETag"
# One entity tag: optionally weak (W/), then a quoted token. Ours are strong: "<version>".
_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*')

ETAG_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            ETAG_HEADER: {
                "description": 'the ticket\'s version as a strong entity tag ("7"); send it '
                f"back in {IF_MATCH_HEADER} to change only what you read",
                "schema": {"type": "string"},
            }
        }
    }
}


def etag(version: int) -> str:
    """The strong entity tag of a version."""
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    """Tag the response with the ticket's version."""
    response.headers[ETAG_HEADER] = etag(version)


def parse_if_match(value: str | None) -> frozenset[int] | None:
    """The versions an `If-Match` value names; None for none or `*` (any version).

    Strong comparison (RFC 9110): a weak tag, or one that is not a version of ours, matches
    no version, so the write is refused with 412. A value that is no list of entity tags
    is a 422 naming the header.
    """
    if value is None or value.strip() == "*":
        return None
    versions: set[int] = set()
    for part in value.split(","):
        found = _TAG.fullmatch(part)
        if found is None:
            raise RequestValidationError(
                [
                    {
                        "type": "value_error",
                        "loc": ("header", IF_MATCH_HEADER),
                        "msg": 'expected entity tags such as "7" (from ETag), or *',
                        "input": value,
                    }
                ]
            )
        weak, tag = found.groups()
        if not weak and tag.isdigit() and len(tag) <= 18:
            versions.add(int(tag))
    return frozenset(versions)


async def if_match(
    value: Annotated[
        str | None,
        Header(
            alias=IF_MATCH_HEADER,
            max_length=1024,
            description='change only this version of the ticket: its ETag, e.g. "7" '
            "(412 when it changed meanwhile)",
        ),
    ] = None,
) -> frozenset[int] | None:
    """The `If-Match` header's versions (None: change whatever version the ticket has)."""
    return parse_if_match(value)


IfMatchDep = Annotated[frozenset[int] | None, Depends(if_match)]
