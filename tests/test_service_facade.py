"""The façade is assembled from the subsystems' services by composition (issue 17, DESIGN §8):
every route has an owning service, every public method of a service is on the façade with its
signature and policy, no service inherits another, and none reaches into another's privates."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from raise_ import FeatureStore
from raise_.alerts.service import AlertService
from raise_.analytics.service import AnalyticsService
from raise_.api.routes import ROUTES
from raise_.catalog.feature_service import FeatureService
from raise_.catalog.lineage_service import LineageService
from raise_.catalog.namespace_service import NamespaceService
from raise_.dashboards.service import DashboardService
from raise_.governance.access_service import AccessService
from raise_.governance.audit_service import AuditService
from raise_.governance.context import Service
from raise_.governance.guard import POLICY_ATTRIBUTE
from raise_.inference.service import InferenceService
from raise_.jobs.service import JobService
from raise_.live.service import LiveTableService
from raise_.multimodal.service import MultimodalService
from raise_.orchestration.service import OrchestrationService
from raise_.query.service import QueryService
from raise_.service import OWNERS, DataService
from raise_.serving.service import OnlineService
from raise_.storage.service import StorageService

SERVICES = {
    "access": AccessService,
    "audit": AuditService,
    "namespaces": NamespaceService,
    "features": FeatureService,
    "lineage": LineageService,
    "storage": StorageService,
    "analytics": AnalyticsService,
    "query": QueryService,
    "live": LiveTableService,
    "dashboards": DashboardService,
    "alerts": AlertService,
    "jobs": JobService,
    "orchestration": OrchestrationService,
    "multimodal": MultimodalService,
    "inference": InferenceService,
    "online": OnlineService,
}
# The storage read path analytics builds on: public to other services, no door of the façade.
SERVICE_TO_SERVICE = {"plan", "select_features", "authorize_features", "audit_data"}
ROOT = Path(__file__).resolve().parents[1]


def public(cls: type) -> set[str]:
    return {
        name
        for name, fn in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_") and fn.__qualname__.startswith(f"{cls.__name__}.")
    }


def test_every_route_has_an_owning_service() -> None:
    assert sorted({r.method for r in ROUTES} - set(OWNERS)) == []
    for method, owner in OWNERS.items():
        assert method in public(SERVICES[owner]), f"{method} is not a method of {owner}"


@pytest.mark.parametrize("owner", sorted(SERVICES))
def test_every_public_method_of_a_service_is_on_the_facade(owner: str) -> None:
    cls = SERVICES[owner]
    for name in public(cls) - SERVICE_TO_SERVICE:
        policy = getattr(getattr(cls, name), POLICY_ATTRIBUTE, None)
        if policy is not None and policy.kind == "internal":
            continue  # a service-to-service method (a live table's refresh, the analysis it runs): no door
        assert OWNERS.get(name) == owner, f"{cls.__name__}.{name} is not on the façade"
        facade, own = getattr(DataService, name), getattr(cls, name)
        assert inspect.signature(facade) == inspect.signature(own)
        assert getattr(facade, POLICY_ATTRIBUTE, None) == getattr(own, POLICY_ATTRIBUTE, None)


def test_services_are_composed_not_inherited() -> None:
    for cls in SERVICES.values():
        others = [base for base in cls.__mro__[1:] if base not in (Service, object)]
        assert others == [], f"{cls.__name__} inherits {others}"
    assert DataService.__mro__ == (DataService, object)


def test_no_service_reaches_into_another() -> None:
    """No ``type: ignore`` for a cross-class call, and no call of another object's private method."""
    for path in [*ROOT.glob("raise_/*/*service.py"), ROOT / "raise_" / "service.py"]:
        text = path.read_text(encoding="utf-8")
        assert "ignore[attr-defined]" not in text, path
        foreign = re.findall(r"self\.(?:access|storage|feature_service|namespace_service)\._\w+\(", text)
        assert foreign == [], f"{path.name}: {foreign}"


def test_a_call_of_the_facade_is_the_owners_bound_method(fs: FeatureStore) -> None:
    svc = fs._backend
    assert isinstance(svc, DataService)
    assert svc.get_feature.__self__ is svc.features  # type: ignore[attr-defined]
    assert svc.write.__self__ is svc.storage  # type: ignore[attr-defined]
    group = fs.create_feature_group("g", entity_keys=["user_id"])
    group.create_feature("x", "int64")
    assert svc.get_feature(group.path, "x").name == svc.features.get_feature(group.path, "x").name == "x"
