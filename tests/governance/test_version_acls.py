"""A feature's ACL is per version, and a new version starts with the ACL of the one before it:
restricting a feature must not end with its next version."""

from __future__ import annotations

import pytest

from raise_ import ACL, FeatureStore
from raise_.errors import PermissionDeniedError


@pytest.fixture
def restricted(fs: FeatureStore) -> FeatureStore:
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))  # acme opens itself to its members
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"])
    group.create_feature("income", "float64")
    group.feature("income").set_acl(ACL(readers=["carol@acme"], inherit=False))
    return fs


def test_a_new_version_keeps_the_restriction(restricted: FeatureStore, monkeypatch: pytest.MonkeyPatch) -> None:
    group = restricted.feature_group("user-signals")
    group.create_feature("income", "float64", version="v2", description="net, not gross")
    v1 = group.feature("income@v1").get_acl()
    v2 = group.feature("income@v2").get_acl()
    assert v1 is not None and v2 is not None
    assert (v2.readers, v2.writers, v2.admins, v2.inherit) == (["carol@acme"], [], [], False)
    monkeypatch.setenv("RAISE_USER", "bob@acme")
    with pytest.raises(PermissionDeniedError):
        restricted.feature_group("user-signals").feature("income@v2")
    monkeypatch.setenv("RAISE_USER", "carol@acme")
    assert restricted.feature_group("user-signals").feature("income@v2").version == "v2"


def test_versions_made_in_one_batch_each_copy_the_one_before(restricted: FeatureStore) -> None:
    group = restricted.feature_group("user-signals")
    group.create_features(
        [
            {"name": "income", "dtype": "float64", "version": "v2"},
            {"name": "income", "dtype": "float64", "version": "v3"},
        ]
    )
    for version in ("v2", "v3"):
        acl = group.feature(f"income@{version}").get_acl()
        assert acl is not None and acl.readers == ["carol@acme"], version


def test_changing_the_new_versions_acl_leaves_the_old_one(restricted: FeatureStore) -> None:
    group = restricted.feature_group("user-signals")
    group.create_feature("income", "float64", version="v2")
    group.feature("income@v2").set_acl(ACL(readers=["carol@acme", "dan@acme"], inherit=False))
    v1 = group.feature("income@v1").get_acl()
    assert v1 is not None and v1.readers == ["carol@acme"]


def test_a_version_after_one_without_acl_has_none(fs: FeatureStore) -> None:
    group = fs.create_feature_group("user-signals", entity_keys=["user_id"])
    group.create_feature("clicks", "int64")
    group.create_feature("clicks", "int64", version="v2")
    assert group.feature("clicks@v2").get_acl() is None
