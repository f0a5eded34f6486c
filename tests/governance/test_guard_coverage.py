"""Nothing bypasses the permission check: every public method of the service is declared guarded
(the check runs before it), filtered (it limits what it returns itself) or internal (no door)."""

from __future__ import annotations

import inspect

from raise_.governance.guard import POLICY_ATTRIBUTE
from raise_.service import DataService

# Open to every caller: each returns only what the caller may read, or checks every resource it is asked for.
KNOWN_FILTERED = {"list_organizations", "ensure_project", "search_features", "get_training_data"}


def public_methods() -> dict[str, object]:
    return {
        name: fn
        for name, fn in inspect.getmembers(DataService, inspect.isfunction)
        if not name.startswith("_")
        and name
        not in {"authorize", "can", "readable_children", "readable_features", "readable_feature_ids", "features_denied"}
    }


def test_every_public_method_declares_its_policy() -> None:
    missing = sorted(name for name, fn in public_methods().items() if not hasattr(fn, POLICY_ATTRIBUTE))
    assert missing == [], f"service methods without a permission policy: {missing}"


def test_the_policies_are_what_the_issue_asks() -> None:
    policies = {name: getattr(fn, POLICY_ATTRIBUTE) for name, fn in public_methods().items()}
    levels = {name: p.level for name, p in policies.items() if p.kind == "guarded"}
    assert {n for n, p in policies.items() if p.kind == "filtered"} >= KNOWN_FILTERED
    assert levels["delete_feature"] == "admin" and levels["set_acl"] == "admin"
    assert levels["grant_external_access"] == levels["revoke_external_access"] == "admin"
    assert levels["write"] == levels["create_features"] == levels["update_feature"] == "write"
    assert levels["read"] == levels["get_feature"] == levels["get_lineage"] == "read"
    assert {n for n, p in policies.items() if p.kind == "internal"} >= {"close_store", "all_features"}
