"""Rate-limit settings: the plain ones skip `limits` at start-up, and `limits` agrees."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from limits import parse_many

from api.settings import _PLAIN_LIMITS, Settings


@given(st.from_regex(_PLAIN_LIMITS, fullmatch=True))
def test_every_plain_limit_is_one_limits_parses(text: str) -> None:
    assert parse_many(text)


@pytest.mark.parametrize("text", ["1200/minute", "20/second; 1000/hour", "5 per minute"])
def test_limits_are_accepted(text: str) -> None:
    assert Settings(_env_file=None, rate_limit_per_key=text).rate_limit_per_key == text


@pytest.mark.parametrize("text", ["lots", "0/minute/x", "12/fortnight"])
def test_a_bad_limit_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a rate limit"):
        Settings(_env_file=None, rate_limit_per_key=text)
