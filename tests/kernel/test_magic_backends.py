"""The magics against either backend, and across organizations through a grant.

Every test of ``tests/kernel`` runs embedded and through a Jupyter server (``conftest.py``); these
check that the ``remote`` runs really go through the server, and the one case where naming a group by
its full path used to differ from the SDK: a group another organization shares through a grant.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError

from raise_ import FeatureStore
from raise_.client.remote import RemoteBackend
from raise_jupyter.kernel.results import QueryResult
from raise_jupyter.widgets import CatalogBrowser, FeatureForm

SHARED = "acme/mlplatform/recommendation/user-signals"


def test_the_magics_store_talks_to_the_server_when_raise_url_is_set(ip: Any, fs: FeatureStore) -> None:
    remote = bool(os.environ.get("RAISE_URL"))
    assert isinstance(fs._backend, RemoteBackend) is remote
    fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")

    form = ip.run_line_magic("raise", "form user-signals")
    browser = ip.run_line_magic("raise", "catalog")

    assert isinstance(form, FeatureForm) and isinstance(browser, CatalogBrowser)
    assert isinstance(form.group._backend, RemoteBackend) is remote
    assert isinstance(browser._store._backend, RemoteBackend) is remote


@pytest.fixture
def shared(fs: FeatureStore) -> pd.DataFrame:
    """acme's group with a shared feature (``taste``) and one that is not (``revenue``)."""
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    group.create_feature("taste", "float64")
    group.create_feature("revenue", "float64")
    rows = pd.DataFrame(
        {
            "user_id": np.arange(5, dtype="int64"),
            "event_time": pd.Timestamp("2024-10-01", tz="UTC"),
            "taste": [0.5, 0.25, 1.0, 0.0, 0.75],
            "revenue": [10.0, 20.0, 30.0, 40.0, 50.0],
        }
    )
    group.write(rows)
    group.grant_external_access(org="partner-org", features=["taste"], permission="read")
    return rows


def _as_partner(ip: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAISE_USER", "pat@partner-org")
    ip.run_line_magic("raise", "use partner-org/shared/embeddings")


def test_sql_reads_another_organizations_group_through_a_grant(
    ip: Any, shared: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_partner(ip, monkeypatch)

    result: QueryResult = ip.run_cell_magic("raise", "sql", f'SELECT * FROM "{SHARED}" ORDER BY user_id')

    # what the grant covers, and nothing else: the keys, the event time and the shared feature
    assert list(result.columns) == ["user_id", "event_time", "taste"]
    assert result["taste"].tolist() == shared["taste"].tolist()


def test_sql_refuses_what_the_grant_does_not_cover_and_everything_once_revoked(
    ip: Any, fs: FeatureStore, shared: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_partner(ip, monkeypatch)
    # Named, a feature outside the grant is refused as group.read(["revenue"]) refuses it (fs.sql
    # checks each feature a query uses; before it, the kernel's own engine failed on a missing column).
    with pytest.raises(UsageError, match=r"^\[PERMISSION_DENIED\] pat@partner-org may not read .*revenue@v1"):
        ip.run_cell_magic("raise", "sql", f'SELECT revenue FROM "{SHARED}"')

    monkeypatch.setenv("RAISE_USER", "alice@acme")
    fs.feature_group("user-signals").revoke_external_access(org="partner-org")
    monkeypatch.setenv("RAISE_USER", "pat@partner-org")

    with pytest.raises(UsageError, match=r"^\[PERMISSION_DENIED\] pat@partner-org may not read .*no live grant"):
        ip.run_cell_magic("raise", "sql", f'SELECT taste FROM "{SHARED}"')


def test_the_other_levels_of_another_organization_stay_closed(
    ip: Any, shared: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_partner(ip, monkeypatch)
    with pytest.raises(UsageError, match=r"^\[PERMISSION_DENIED\] pat@partner-org may not read acme/mlplatform"):
        ip.run_cell_magic("raise", "sql", 'SELECT * FROM "acme/mlplatform/recommendation/other-group"')
