from __future__ import annotations

from datetime import timedelta

import pytest

from raise_.durations import format_duration, parse_duration
from raise_.errors import InvalidArgumentError


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("30d", 2_592_000), ("1h30m", 5400), ("90s", 90), ("2w", 1_209_600), (timedelta(hours=2), 7200), (60, 60)],
)
def test_parse_duration(value: object, seconds: int) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["", "30x", "d30", "-5s", 0, -1, 1.5, None, True, timedelta(0)])
def test_bad_durations(value: object) -> None:
    with pytest.raises(InvalidArgumentError):
        parse_duration(value, "ttl")


def test_format_duration() -> None:
    assert [format_duration(s) for s in (2_592_000, 5400, 59)] == ["30d", "1h30m", "59s"]
