"""Values survive the wire with their types: what the codec encodes (through real JSON text) is
decoded back, by the type hint alone, to an equal value of the same type."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import numpy as np
import pyarrow as pa
import pytest

from raise_.api.codec import from_wire, ipc_to_table, table_to_ipc, to_wire
from raise_.catalog.records import FeatureRecord, ImpactReport, OrganizationRecord
from raise_.expressions.model import FeatureInfo, GroupInfo, Issue, Reference, ValidationResult
from raise_.expressions.syntax import Position
from raise_.governance.access_service import ACL, ACLChainEntry, ExternalGrant
from raise_.lineage.graph import LineageEdge, LineageGraph, LineageNode
from raise_.models.audit import AuditAlertRecord, AuditEntries, AuditEntry, AuditQuery, VerifyReport
from raise_.storage.records import WriteResult
from raise_.types import Embedding, parse_dtype

NOW = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)


def through_json(value: Any, hint: Any = Any) -> Any:
    return from_wire(json.loads(json.dumps(to_wire(value, hint))), hint)


FEATURE = FeatureRecord(
    id="f1", org="acme", domain="ml", project="rec", group="g", name="emb", version="v2", dtype="float32[3]",
    description=None, owner="alice@acme", tags=["a", "b"], nullable=False, has_default=True, default=[0.0, 1.0, 2.5],
    derived_from=None, status="active", deprecation_message=None, physical_table="acme__ml__rec__g",
    physical_column="emb_v2", created_by="alice@acme", created_at=NOW, updated_at=NOW, extra={"k": {"$x": 1}},
)  # fmt: skip

ENTRY = AuditEntry(
    seq=7, id="e", timestamp=NOW, org_id=None, actor="alice@acme", actor_org="acme", action="READ",
    resource_type="feature_group", resource_id=None, resource_path="acme/ml/rec/g", metadata={"rows": 3},
)  # fmt: skip

GRAPH = LineageGraph(
    "b",
    [LineageNode("a", "x", "v1", "acme/ml/rec/g", "int64", None, "active"),
     LineageNode("b", "y", "v1", "acme/ml/rec/g", "float64", "x * 2", "deprecated")],
    [LineageEdge("b", "a", "x * 2")],
)  # fmt: skip

GROUP = GroupInfo("g", "o", "d", "p", "acme", "ml", "rec", "g", ("user_id",), "event_time")
VALIDATION = ValidationResult(
    True,
    Embedding(3),
    [Reference("x", "feature", "group", FeatureInfo("f", GROUP, "x", "v1", parse_dtype("int64"), None, "active"))],
    [],
    [Issue("NONDETERMINISTIC", "NOW() changes", "warning", Position(0, 1, 1))],
)

# (value, the hint it is declared with)
CASES: list[tuple[Any, Any]] = [
    (FEATURE, FeatureRecord),
    ([FEATURE, FEATURE], list[FeatureRecord]),
    (OrganizationRecord("o", "acme", None, None, "alice", [], {"tier": "free"}, NOW, NOW), OrganizationRecord),
    (WriteResult(3, 10, "append", "a/b/c/d"), WriteResult),
    (ACLChainEntry("group", "a/b/c/d", ACL(readers=["*@acme"], inherit=False), "alice", True), list[ACLChainEntry]),
    (ACLChainEntry("org", "a", None, None, False), ACLChainEntry),
    (ExternalGrant("partner", "a/b/c/d", ["*"], "read", "alice", NOW, None, NOW + timedelta(days=1)), ExternalGrant),
    (AuditEntries([ENTRY, ENTRY]), AuditEntries),
    (
        AuditAlertRecord(
            "1", "reads", "acme", AuditQuery(actions=["read"], since=NOW), ["sec"], [], True, None, NOW, 0
        ),
        AuditAlertRecord,
    ),
    (VerifyReport(True, 10, 0, 10, "h"), VerifyReport),
    (ImpactReport("a/b/c/d/x@v1", "delete", ["y"], ["y", "z"]), ImpactReport),
    (VALIDATION, ValidationResult),
    (GRAPH, LineageGraph),
    ((4, 9), tuple[int, int]),
    ({"a": 1, "b": 2}, dict[str, int]),
    (None, FeatureRecord | None),
    # values whose hint does not say their type
    (NOW, datetime | str | None),
    ("2024-05-01", datetime | str | None),
    (timedelta(hours=36), timedelta | str | int),
    ("30d", timedelta | str | int),
    (0, timedelta | str | int),
    (AuditQuery(resource="g/*"), AuditQuery | dict[str, Any] | None),
    ({"resource": "g/*"}, AuditQuery | dict[str, Any] | None),
    (ACL(readers=["bob@acme"]), Any),
    (
        {
            "when": NOW.astimezone(timezone(timedelta(hours=2))),
            "day": date(2024, 1, 2),
            "ids": (1, 2),
            "tags": {"x"},
            "raw": b"\x00\xff",
            "money": Decimal("1.10"),
            "uuid": UUID(int=5),
            "$tricky": 1,
            "nested": {"$datetime": "not a tag"},
            "naive": datetime(2024, 1, 1),
        },
        Any,
    ),
    ([{"user_id": 1, "event_time": NOW, "x": None}], Any),
]


@pytest.mark.parametrize(("value", "hint"), CASES, ids=lambda v: type(v).__name__)
def test_round_trip_keeps_value_and_type(value: Any, hint: Any) -> None:
    back = through_json(value, hint)
    if isinstance(value, LineageGraph):
        assert back.to_dict() == value.to_dict() and back.focus == value.focus
        return
    assert back == value
    assert type(back) is type(value)
    if isinstance(value, dict):
        assert {k: type(v) for k, v in back.items()} == {k: type(v) for k, v in value.items()}


def test_records_travel_as_plain_json_where_the_hint_names_them() -> None:
    data = to_wire(FEATURE, FeatureRecord)
    assert data["created_at"] == "2024-05-01T12:30:15.123456+00:00"
    assert data["extra"] == {"k": {"$dict": {"$x": 1}}}  # a dict shaped like a tag is wrapped
    assert to_wire(NOW, datetime | str) == {"$datetime": "2024-05-01T12:30:15.123456+00:00"}
    assert to_wire(timedelta(minutes=1), timedelta | str | int) == {"$timedelta": 60.0}
    assert to_wire(parse_dtype("int64"), Any) == {"$dtype": "int64"}


def test_numpy_scalars_and_arrays_become_python_values() -> None:
    assert through_json({"n": np.int64(3), "f": np.float32(0.5), "a": np.arange(3)}) == {
        "n": 3,
        "f": 0.5,
        "a": [0, 1, 2],
    }


def test_values_that_do_not_fit_their_hint_pass_through_for_the_service_to_reject() -> None:
    assert from_wire("x", int) == "x"
    assert from_wire("prod", list[str] | None) == "prod"
    assert from_wire("not a date", datetime) == "not a date"
    assert from_wire({"$record": {"type": "os.system", "value": {}}}) == {"$record": {"type": "os.system", "value": {}}}


def test_something_json_cannot_carry_is_refused() -> None:
    with pytest.raises(TypeError, match="cannot send a object"):
        to_wire(object())
    with pytest.raises(TypeError, match="int key"):
        to_wire({1: "a"})


def test_arrow_ipc_round_trip_keeps_schema_and_values() -> None:
    table = pa.table(
        {
            "user_id": pa.array([1, 2], pa.int64()),
            "event_time": pa.array([NOW, NOW], pa.timestamp("us", tz="UTC")),
            "emb": pa.array([[1.0, 2.0], [3.0, 4.0]], pa.list_(pa.float32(), 2)),
            "s": pa.array(["a", None]),
        }
    )
    back = ipc_to_table(table_to_ipc(table))
    assert back.schema == table.schema and back.equals(table)
