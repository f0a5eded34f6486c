"""The README's *Access Control (ACL)* and *Cross-Organization Access* examples, run as written
(identities are ``name@org``; ``ml-engineers@acme.com`` is a group of ``acme`` reached through the
alias ``acme.com``), with what each step must make true."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from raise_ import ACL, FeatureStore
from raise_.errors import CrossOrgAccessError, PermissionDeniedError


@pytest.fixture
def setup(fs: FeatureStore, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    org = fs.organization()
    org.add_alias("acme.com")
    org.set_group("ml-engineers", ["rita@acme"])
    org.set_group("ml-team", ["will@acme.com"])
    org.set_group("ml-leads", ["adam@acme"])
    org.set_group("restricted", ["rosa@acme"])
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    feature = group.create_feature("user_embedding", "float32[2]")
    group.create_feature("click_count", "int64")
    group.write(
        pd.DataFrame(
            {
                "user_id": [1, 2],
                "event_time": pd.to_datetime(["2026-01-01", "2026-01-01"], utc=True),
                "user_embedding": [np.array([1.0, 0.0], dtype="float32"), np.array([0.0, 2.0], dtype="float32")],
                "click_count": [3, 4],
            }
        )
    )
    return {"group": group, "feature": feature}


def test_readme_setting_and_querying_acls(fs: FeatureStore, setup: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    group, feature = setup["group"], setup["feature"]
    # --- README: Setting ACLs
    group.set_acl(
        ACL(
            readers=["ml-engineers@acme.com"],
            writers=["ml-team@acme.com"],
            admins=["ml-leads@acme.com"],
        )
    )
    feature.set_acl(
        ACL(
            readers=["restricted@acme.com"],
            inherit=False,
        )
    )
    # --- README: Querying ACLs
    effective = feature.get_effective_acl()
    chain = feature.get_acl_chain()

    # the feature's own ACL cut the group's: only its readers and its creator (alice) remain
    assert (effective.readers, effective.writers, effective.admins, effective.restricted) == (
        ["restricted@acme.com"],
        [],
        ["alice@acme"],
        True,
    )
    assert [(e.kind, e.path, e.applies) for e in chain] == [
        ("feature", "acme/mlplatform/recommendation/user-signals/user_embedding@v1", True),
        ("feature_group", "acme/mlplatform/recommendation/user-signals", False),
        ("project", "acme/mlplatform/recommendation", False),
        ("domain", "acme/mlplatform", False),
        ("organization", "acme", False),
    ]
    assert chain[1].acl == ACL(["ml-engineers@acme.com"], ["ml-team@acme.com"], ["ml-leads@acme.com"], True)
    assert group.get_effective_acl().admins == ["alice@acme", "ml-leads@acme.com"]

    def who_reads(user: str) -> tuple[bool, bool]:
        monkeypatch.setenv("RAISE_USER", user)
        out = []
        for path in ("user-signals/click_count", "user-signals/user_embedding"):
            try:
                fs.feature(path)
                out.append(True)
            except PermissionDeniedError:
                out.append(False)
        return out[0], out[1]

    # rita reads through the group ml-engineers; rosa only the restricted feature; will writes
    # through ml-team (written with the alias), so he reads the group but not the cut feature
    assert who_reads("rita@acme") == (True, False)
    assert who_reads("rosa@acme") == (False, True)
    assert who_reads("will@acme") == (True, False)
    assert who_reads("zoe@acme") == (False, False)
    monkeypatch.setenv("RAISE_USER", "will@acme")
    group.create_feature("new_one", "int64")  # ml-team writes
    monkeypatch.setenv("RAISE_USER", "rita@acme")
    with pytest.raises(PermissionDeniedError, match=r"rita@acme may not create features in .*needs writer access"):
        group.create_feature("other", "int64")
    names = [f.name for f in group.list_features()]
    assert names == ["click_count", "new_one"]  # the restricted feature is not listed for her


def test_readme_cross_organization_access(fs: FeatureStore, setup: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    group = setup["group"]
    # --- README: Granting Access
    group.grant_external_access(
        org="partner-org",
        features=["user_embedding", "item_embedding"][:1],  # the README's item_embedding is not in this group
        permission="read",
        expires_at=datetime.now() + timedelta(days=365),
    )
    group.grant_external_access(org="partner-org", features=["*"], permission="read")
    grants = group.list_external_grants()
    assert [(g.org, g.features, g.permission, g.expires_at, g.active) for g in grants] == [
        ("partner-org", ["*"], "read", None, True)
    ]

    # --- README: Using Cross-Org Features, from the partner's side
    monkeypatch.setenv("RAISE_USER", "pat@partner-org")
    partner = FeatureStore("partner-org/ml/rec")
    mine = partner.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    mine.create_feature("user_embedding", "float32[2]")
    mine.write(
        pd.DataFrame(
            {
                "user_id": [1, 2],
                "event_time": pd.to_datetime(["2026-01-02", "2026-01-02"], utc=True),
                "user_embedding": [np.array([2.0, 0.0], dtype="float32"), np.array([1.0, 1.0], dtype="float32")],
            }
        )
    )
    mine.create_feature(
        "cross_org_affinity",
        dtype="float32",
        derived_from="DOT(user_embedding, @acme/mlplatform/recommendation/user-signals.user_embedding)",
    )
    got = mine.read(["cross_org_affinity"]).to_pandas()
    assert got["cross_org_affinity"].tolist() == [2.0, 2.0]  # [2,0]·[1,0] and [1,1]·[0,2]

    # --- README: Managing Grants (back at acme)
    monkeypatch.setenv("RAISE_USER", "alice@acme")
    assert group.revoke_external_access(org="partner-org") == 1
    assert group.list_external_grants() == []
    monkeypatch.setenv("RAISE_USER", "pat@partner-org")
    # the derived feature made while the grant was live is denied at once
    with pytest.raises(CrossOrgAccessError, match="no live grant"):
        mine.read(["cross_org_affinity"])
    with pytest.raises(PermissionDeniedError, match="has no live grant"):
        partner.feature("acme/mlplatform/recommendation/user-signals/user_embedding")


def test_only_admins_grant(fs: FeatureStore, setup: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    group = setup["group"]
    monkeypatch.setenv("RAISE_USER", "rita@acme")  # a member: reads and writes an open group, but is no admin
    with pytest.raises(PermissionDeniedError, match="needs admin access"):
        group.grant_external_access(org="partner-org", features=["*"])
    monkeypatch.setenv("RAISE_USER", "alice@acme")
    with pytest.raises(Exception, match="in the past"):
        group.grant_external_access(org="partner-org", features=["*"], expires_at=datetime(2020, 1, 1))
    assert group.list_external_grants(include_inactive=True) == []
