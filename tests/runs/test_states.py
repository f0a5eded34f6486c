"""The run state machine: exactly these transitions are legal."""

from __future__ import annotations

import pytest

from raise_.runs import RUN_STATUSES, RunStateError
from raise_.runs.states import can_move, check_move, sources_of

LEGAL = {
    ("pending", "running"),
    ("pending", "cancelled"),
    ("pending", "failed"),
    ("running", "completed"),
    ("running", "failed"),
    ("running", "cancelled"),
    ("running", "timed_out"),
}


@pytest.mark.parametrize("source", RUN_STATUSES)
@pytest.mark.parametrize("target", RUN_STATUSES)
def test_transition_table(source: str, target: str) -> None:
    legal = (source, target) in LEGAL
    assert can_move(source, target) is legal
    if legal:
        check_move(source, target)
    else:
        with pytest.raises(RunStateError, match=f"A {source} run cannot become {target}"):
            check_move(source, target)


def test_sources_of_each_status() -> None:
    assert sources_of("running") == ("pending",)
    assert sources_of("failed") == ("pending", "running")
    assert sources_of("timed_out") == ("running",)
    assert sources_of("pending") == ()
