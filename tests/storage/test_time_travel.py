"""Time travel: ``read(as_of_commit=N)`` replays the store as it was right after commit N, and
``read(as_of=T)`` answers as the reference does.

Every seed's history holds appends, partial upserts (some after the overwrite), duplicate
(key, time) pairs and an overwrite; reads are recorded right after each commit and replayed at
the end, when many later commits have happened.
"""

from __future__ import annotations

import random
from typing import Any

import pandas as pd
import pytest
from reference import ReferenceGroup, assert_frames_equal, normalize_frame
from scenarios import BASE, DAY, Scenario, apply_write, create_groups, describe, make_scenario, read_store

from raise_ import FeatureStore

SEEDS = [21, 22, 23, 24, 25]

Recorded = dict[str, dict[int, tuple[pd.DataFrame, pd.DataFrame]]]  # group -> commit -> (history, latest)


def scenario_for(seed: int) -> Scenario:
    return make_scenario(seed, overwrite=True)


def run(
    fs: FeatureStore, scenario: Scenario, *, check_each: bool = False
) -> tuple[dict[str, Any], dict[str, ReferenceGroup], Recorded]:
    """Apply every write; record the store's ``read(history=True)`` and ``read()`` after each."""
    groups = create_groups(fs, scenario)
    refs = scenario.reference_groups()
    recorded: Recorded = {name: {} for name in groups}
    for i, w in enumerate(scenario.writes):
        spec, group, ref = scenario.specs[w.group], groups[w.group], refs[w.group]
        kinds = spec.kinds()
        try:
            cid = apply_write(group, ref, spec, w)
        except Exception as exc:
            raise AssertionError(f"seed {scenario.seed}, write #{i}: {describe(w)}: {exc!r}") from exc
        hist = read_store(group, spec, history=True)
        latest = read_store(group, spec)
        recorded[w.group][cid] = (hist, latest)
        if check_each:
            where = f"seed {scenario.seed}, after write #{i} (commit {cid}: {describe(w)})"
            assert_frames_equal(hist, normalize_frame(ref.read(history=True), kinds), obj=f"{where} read(history=True)")
            assert_frames_equal(latest, normalize_frame(ref.read(), kinds), obj=f"{where} read()")
    return groups, refs, recorded


@pytest.mark.parametrize("seed", SEEDS)
def test_reads_after_each_write_match_reference(fs: FeatureStore, seed: int) -> None:
    run(fs, scenario_for(seed), check_each=True)


@pytest.mark.parametrize("seed", SEEDS)
def test_as_of_commit_replays_every_commit(fs: FeatureStore, seed: int) -> None:
    scenario = scenario_for(seed)
    groups, refs, recorded = run(fs, scenario)
    for name, group in groups.items():
        spec = scenario.specs[name]
        kinds = spec.kinds()
        assert sorted(recorded[name]) == refs[name].commit_ids()
        for n, (hist, latest) in recorded[name].items():
            where = f"seed {seed} {name} as_of_commit={n}"
            got_hist = read_store(group, spec, as_of_commit=n, history=True)
            got_latest = read_store(group, spec, as_of_commit=n)
            assert_frames_equal(got_hist, hist, obj=f"{where} history=True vs recorded after the commit")
            assert_frames_equal(got_latest, latest, obj=f"{where} vs recorded after the commit")
            # and the recorded state was the right one
            assert_frames_equal(
                got_hist, normalize_frame(refs[name].read(as_of_commit=n, history=True), kinds), obj=f"{where} history"
            )
            assert_frames_equal(got_latest, normalize_frame(refs[name].read(as_of_commit=n), kinds), obj=where)


def as_of_times(scenario: Scenario, ref: ReferenceGroup) -> list[pd.Timestamp]:
    """Before every row, exactly at row times, a second before/after them, between, after all."""
    rng = random.Random(scenario.seed * 101)
    times = sorted({r.event_time for r in ref.visible_rows()} | {v.event_time for v in ref.versions})
    picks = [BASE - pd.Timedelta(days=1), BASE + pd.Timedelta(days=40)]
    for t in rng.sample(times, min(4, len(times))):
        picks += [t, t - pd.Timedelta(seconds=1), t + pd.Timedelta(seconds=1)]
    picks += [BASE + pd.Timedelta(seconds=rng.randint(0, 10 * DAY)) for _ in range(3)]
    return picks


@pytest.mark.parametrize("seed", SEEDS)
def test_as_of_matches_reference(fs: FeatureStore, seed: int) -> None:
    scenario = scenario_for(seed)
    groups, refs, _ = run(fs, scenario)
    for name, group in groups.items():
        spec = scenario.specs[name]
        kinds = spec.kinds()
        for i, t in enumerate(as_of_times(scenario, refs[name])):
            as_of = t.tz_localize(None) if i % 5 == 4 else t  # naive = UTC
            got = read_store(group, spec, as_of=as_of)
            expected = normalize_frame(refs[name].read(as_of=t), kinds)
            assert_frames_equal(got, expected, obj=f"seed {seed} {name} read(as_of={as_of})")


@pytest.mark.parametrize("seed", SEEDS)
def test_as_of_within_an_old_commit(fs: FeatureStore, seed: int) -> None:
    """``as_of`` and ``as_of_commit`` together: the as_of answer of the store as of commit N."""
    scenario = scenario_for(seed)
    groups, refs, _ = run(fs, scenario)
    rng = random.Random(seed)
    for name, group in groups.items():
        spec = scenario.specs[name]
        kinds = spec.kinds()
        ref = refs[name]
        for n in ref.commit_ids():
            for t in rng.sample(as_of_times(scenario, ref), 3):
                got = read_store(group, spec, as_of=t, as_of_commit=n)
                expected = normalize_frame(ref.read(as_of=t, as_of_commit=n), kinds)
                assert_frames_equal(got, expected, obj=f"seed {seed} {name} read(as_of={t}, as_of_commit={n})")


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_commit_log_and_feature_subsets(fs: FeatureStore, seed: int) -> None:
    scenario = scenario_for(seed)
    groups, refs, _ = run(fs, scenario)
    for name, group in groups.items():
        commits = group.commits()
        assert [c.commit_id for c in commits] == refs[name].commit_ids()
        assert [c.kind for c in commits] == [m for _, m in refs[name].commits]
        assert all(isinstance(c.rows, int) for c in commits)

        spec = scenario.specs[name]
        feats = list(spec.features)[::-1][:2]  # a subset, not in schema order
        kinds = spec.kinds()
        got = group.read(feats, history=True).to_pandas()
        assert list(got.columns) == [*spec.keys, spec.event_time, *feats]
        expected = refs[name].read(feats, history=True)
        assert_frames_equal(normalize_frame(got, kinds), normalize_frame(expected, kinds), obj=f"{name} {feats}")
        first = refs[name].commit_ids()[0]
        got = group.read(feats, as_of_commit=first).to_pandas()
        expected = refs[name].read(feats, as_of_commit=first)
        assert_frames_equal(normalize_frame(got, kinds), normalize_frame(expected, kinds), obj=f"{name} @{first}")
