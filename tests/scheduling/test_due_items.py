"""Due items run once at their time, their next time is stored, a restart neither loses nor
repeats work, an expired lease frees an item whose holder died, and two schedulers racing on one
catalog run each due item exactly once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from schedule_helpers import T0, Calls

from raise_.catalog.database import CatalogDatabase
from raise_.errors import InvalidArgumentError
from raise_.runs import RunKinds, RunService, ThreadLauncher
from raise_.scheduling import ManualClock, Schedule, Scheduler
from raise_.scheduling.leases import claim_due

MINUTE = timedelta(minutes=1)


def test_a_due_item_runs_once_and_its_next_time_is_stored(make_scheduler, clock: ManualClock, calls: Calls) -> None:  # type: ignore[no-untyped-def]
    s = make_scheduler()
    s.ensure("ping", "count", every=60, first_due=T0)
    outcomes = s.tick()
    assert [(o.name, o.status, o.next_due_at) for o in outcomes] == [("ping", "completed", T0 + MINUTE)]
    assert outcomes[0].result == {"ran": "ping"}
    item = s.get("ping")
    assert (item.next_due_at, item.last_run_at, item.last_status, item.lease_owner) == (
        T0 + MINUTE,
        T0,
        "completed",
        None,
    )
    assert s.tick() == [] and calls.names == ["ping"]  # not due again until its time
    clock.advance(59)
    assert s.tick() == []
    clock.advance(1)
    assert [o.name for o in s.tick()] == ["ping"] and calls.names == ["ping", "ping"]


def test_a_new_item_is_first_due_one_interval_from_now(make_scheduler, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    s = make_scheduler()
    assert s.ensure("later", "count", every=300).next_due_at == T0 + timedelta(seconds=300)
    assert s.tick() == []


def test_missed_slots_run_once_and_keep_the_phase(make_scheduler, clock: ManualClock, calls: Calls) -> None:  # type: ignore[no-untyped-def]
    s = make_scheduler()
    s.ensure("ping", "count", every=60, first_due=T0)
    clock.advance(60 * 10 + 15)  # ten slots missed while nothing ran
    assert [o.next_due_at for o in s.tick()] == [T0 + 11 * MINUTE]
    assert calls.names == ["ping"]


def test_a_cron_item_is_due_at_its_next_cron_time(make_scheduler, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    s = make_scheduler()
    item = s.ensure("hourly", "count", cron="0 * * * *")
    assert item.next_due_at == T0 + timedelta(hours=1)
    clock.advance(3600)
    assert [o.next_due_at for o in s.tick()] == [T0 + timedelta(hours=2)]


def test_a_restarted_scheduler_neither_loses_nor_repeats_work(make_scheduler, clock: ManualClock, calls: Calls) -> None:  # type: ignore[no-untyped-def]
    first = make_scheduler()
    first.ensure("a", "count", every=60, first_due=T0)
    first.ensure("b", "count", every=60, first_due=T0 + 2 * MINUTE)
    assert [o.name for o in first.tick()] == ["a"]
    first.stop()
    second = make_scheduler()  # the same catalog, a new process's scheduler
    assert second.tick() == []  # a's slot ran: not again
    clock.advance(120)  # both due now, and nobody ran them meanwhile
    assert sorted(o.name for o in second.tick()) == ["a", "b"]
    assert Counter(calls.names) == {"a": 2, "b": 1}


def test_an_item_held_by_a_scheduler_that_died_runs_once_its_lease_expires(
    make_scheduler,  # type: ignore[no-untyped-def]
    db: CatalogDatabase,
    clock: ManualClock,
    calls: Calls,
) -> None:
    s = make_scheduler(lease_seconds=300)
    s.ensure("a", "count", every=3600, first_due=T0)
    assert [i.name for i in claim_due(db, "dead-host:1:x", T0, 300, 10)] == ["a"]  # claimed, then it died
    assert s.tick() == []
    clock.advance(299)
    assert s.tick() == []
    clock.advance(1)
    assert [o.name for o in s.tick()] == ["a"] and calls.names == ["a"]


def test_a_failing_item_is_recorded_and_the_others_run(make_scheduler, clock: ManualClock, calls: Calls) -> None:  # type: ignore[no-untyped-def]
    s = make_scheduler()

    def broken(_item: object) -> None:
        raise RuntimeError("disk full")

    s.register("broken", broken)
    s.ensure("bad", "broken", every=60, first_due=T0)
    s.ensure("good", "count", every=60, first_due=T0)
    s.ensure("unknown", "no-such-kind", every=60, first_due=T0)
    outcomes = {o.name: o for o in s.tick()}
    assert (outcomes["bad"].status, outcomes["bad"].error) == ("failed", "RuntimeError: disk full")
    assert outcomes["good"].status == "completed"
    assert outcomes["unknown"].status == "failed" and "no-such-kind" in (outcomes["unknown"].error or "")
    assert s.get("bad").next_due_at == T0 + MINUTE  # retried at its next slot, not in a loop
    assert calls.names == ["good"]


def test_an_item_of_a_run_kind_runs_through_the_runs_core(
    make_scheduler,  # type: ignore[no-untyped-def]
    db: CatalogDatabase,
    tmp_path: Path,
) -> None:
    def summed(run, ctx):  # type: ignore[no-untyped-def]
        ctx.metric("n", len(run.spec["numbers"]))
        return {"total": sum(run.spec["numbers"])}

    kinds = RunKinds({})
    kinds.register("sum", summed)
    runs = RunService(db, lambda: "scheduler@acme", kinds=kinds, launchers={"thread": ThreadLauncher()})
    s = make_scheduler(runs=runs)
    s.ensure("nightly-sum", "sum", every=86400, first_due=T0, payload={"numbers": [40, 2], "timeout": 30})
    [outcome] = s.tick()
    assert outcome.status == "completed" and outcome.result == {"total": 42}
    run = runs.get(outcome.run_id or "")
    assert (run.kind, run.trigger, run.spec, run.metrics, run.timeout_seconds) == (
        "sum",
        "schedule:nightly-sum",
        {"numbers": [40, 2]},
        {"n": 2},
        30.0,
    )
    assert s.get("nightly-sum").last_run_id == run.id
    runs.shutdown()


def test_ensure_keeps_the_due_time_unless_the_schedule_changes(make_scheduler, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    s = make_scheduler()
    s.ensure("a", "count", every=60, first_due=T0 + 5 * MINUTE)
    assert s.ensure("a", "count", every=60, payload={"x": 1}).next_due_at == T0 + 5 * MINUTE
    assert s.ensure("a", "count", every=120).next_due_at == T0 + 2 * MINUTE
    assert s.ensure("a", "count", every=999, create_only=True).every == 120
    assert [i.name for i in s.items()] == ["a"] and s.remove("a") and s.items() == []


@pytest.mark.parametrize(
    ("every", "cron", "message"),
    [(None, None, "either every"), (60, "* * * * *", "either every"), (0, None, "positive"), (None, "nope", "cron")],
)
def test_bad_schedules_are_refused(every: float | None, cron: str | None, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        Schedule(every=every, cron=cron)


def test_two_schedulers_racing_run_each_due_item_exactly_once(make_scheduler, calls: Calls) -> None:  # type: ignore[no-untyped-def]
    a, b = make_scheduler(workers=4), make_scheduler(workers=4)
    for i in range(50):
        a.ensure(f"item-{i:02d}", "count", every=3600, first_due=T0)
    start = threading.Barrier(2)
    ran: dict[str, list[str]] = {}

    def race(s: Scheduler) -> None:
        start.wait()
        names = []
        for _ in range(20):  # small batches, many rounds: the two interleave
            names += [o.name for o in s.tick(limit=3)]
        ran[s.owner] = names

    threads = [threading.Thread(target=race, args=(s,)) for s in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert Counter(calls.names) == {f"item-{i:02d}": 1 for i in range(50)}
    assert sorted(ran[a.owner] + ran[b.owner]) == sorted(calls.names)
    assert ran[a.owner] and ran[b.owner]  # both took part


def test_the_background_loop_runs_due_items_and_stops(db: CatalogDatabase, calls: Calls) -> None:
    clock = ManualClock(datetime.now(UTC))
    s = Scheduler(db, clock=clock, poll_seconds=0.05)
    s.register("count", calls)
    s.ensure("now", "count", every=3600, first_due=clock.now())
    s.start()
    try:
        deadline = time.monotonic() + 10
        while not calls.names and time.monotonic() < deadline:
            time.sleep(0.02)
        assert s.running and calls.names == ["now"]
    finally:
        s.stop()
    assert not s.running
