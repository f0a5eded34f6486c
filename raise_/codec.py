"""Values on the wire: JSON for arguments and records, Arrow IPC streams for tables.

Decoding is driven by type hints (the service method's, and each record's fields), so one codec
serves every route: a ``FeatureRecord`` travels as a plain JSON object and comes back as a
``FeatureRecord``, a ``list[AuditAlertRecord]`` as a list of them, a ``datetime`` as ISO text.

Where a hint does not say which type a value has (``Any``, or a union such as
``datetime | str``), the encoder tags the value so it comes back as the same type:
``{"$datetime": "2024-01-01T00:00:00+00:00"}``, ``{"$timedelta": 3600.0}``, ``{"$tuple": [...]}``,
``{"$record": {"type": "raise_.governance.access_service.ACL", "value": {...}}}``. A tag is an
object with exactly one key starting with ``$``; a dict of that shape is itself wrapped
(``{"$dict": {...}}``). Only classes of ``raise_`` that are already imported can be named by
a ``$record`` tag.

Decoding is lenient: a value that does not fit its hint (``limit="x"``) is passed through
unchanged, so the service rejects it with the same error it gives an in-process caller.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import functools
import sys
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final, Union, get_args, get_origin
from uuid import UUID

import pyarrow as pa

__all__ = [
    "ARROW_STREAM",
    "JSON",
    "IpcBody",
    "IpcStreamError",
    "from_wire",
    "ipc_to_table",
    "register_type",
    "table_to_ipc",
    "to_wire",
]

ARROW_STREAM: Final = "application/vnd.apache.arrow.stream"
JSON: Final = "application/json"


@dataclasses.dataclass(frozen=True)
class _Custom:
    cls: type
    tag: str
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]


_CUSTOM: list[_Custom] = []


def register_type(cls: type, tag: str, encode: Callable[[Any], Any], decode: Callable[[Any], Any]) -> None:
    """Teach the codec a class that is not a dataclass (``encode`` gives JSON-able data)."""
    _CUSTOM.append(_Custom(cls, tag, encode, decode))


def _custom_for(cls: type) -> _Custom | None:
    for c in _CUSTOM:
        if issubclass(cls, c.cls):
            return c
    return None


# -- scalars that JSON lacks --------------------------------------------------------------------

_SCALARS: Final[dict[type, tuple[str, Callable[[Any], Any], Callable[[Any], Any]]]] = {
    datetime: ("$datetime", lambda v: v.isoformat(), datetime.fromisoformat),
    date: ("$date", lambda v: v.isoformat(), date.fromisoformat),
    time: ("$time", lambda v: v.isoformat(), time.fromisoformat),
    timedelta: ("$timedelta", lambda v: v.total_seconds(), lambda s: timedelta(seconds=s)),
    bytes: ("$bytes", lambda v: base64.b64encode(v).decode("ascii"), base64.b64decode),
    Decimal: ("$decimal", str, Decimal),
    UUID: ("$uuid", str, UUID),
}


def _scalar_class(value: object) -> type | None:
    for cls in (datetime, date, time, timedelta, bytes, Decimal, UUID):  # datetime before date
        if isinstance(value, cls):
            return cls
    return None


# -- hints ----------------------------------------------------------------------------------------


def _is_union(hint: Any) -> bool:
    return get_origin(hint) in (Union, types.UnionType)


def _members(hint: Any) -> list[Any]:
    """The members of a union without None (or ``[hint]``)."""
    if _is_union(hint):
        return [a for a in get_args(hint) if a is not type(None)]
    return [hint]


def _origin(hint: Any) -> Any:
    return get_origin(hint) or hint


@functools.cache
def _field_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _list_item_hint(cls: type) -> Any:
    """The item type of a ``list[X]`` subclass (``AuditEntries(list[AuditEntry])``)."""
    for base in getattr(cls, "__orig_bases__", ()):
        if get_origin(base) is list:
            return get_args(base)[0]
    return Any


def _is_class(hint: Any) -> bool:
    return isinstance(hint, type) and get_origin(hint) is None


def _only(hint: Any, cls: type) -> bool:
    """Whether ``hint`` (less None) admits only ``cls``, so a plain value decodes back to it."""
    members = _members(hint)
    return len(members) == 1 and _is_class(members[0]) and issubclass(cls, members[0])


def _element_hints(hint: Any, value: Sequence[Any]) -> list[Any]:
    """The hint of each item of a list/tuple ``value`` under ``hint``."""
    for m in _members(hint):
        origin = _origin(m)
        args = get_args(m)
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            return list(args) if len(args) == len(value) else [Any] * len(value)
        if isinstance(origin, type) and issubclass(origin, Iterable) and not issubclass(origin, str | bytes | Mapping):
            item = args[0] if args else (_list_item_hint(origin) if issubclass(origin, list) else Any)
            return [item] * len(value)
    return [Any] * len(value)


def _value_hint(hint: Any) -> Any:
    for m in _members(hint):
        origin = _origin(m)
        if isinstance(origin, type) and issubclass(origin, Mapping):
            args = get_args(m)
            return args[1] if len(args) == 2 else Any
    return Any


def _tagged(tag: str, data: Any) -> dict[str, Any]:
    return {tag: data}


# -- encoding -------------------------------------------------------------------------------------


def to_wire(value: Any, hint: Any = Any) -> Any:
    """JSON-able data for ``value``, whose declared type is ``hint``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, enum.Enum):
        plain = _only(hint, type(value)) or not type(value).__module__.startswith("raise_.")
        return to_wire(value.value) if plain else _record_tag(value, value.value)
    if isinstance(value, bool | int | float):
        return value
    scalar = _scalar_class(value)
    if scalar is not None:
        tag, encode, _ = _SCALARS[scalar]
        return encode(value) if _only(hint, scalar) else _tagged(tag, encode(value))
    custom = _custom_for(type(value))
    if custom is not None:
        data = custom.encode(value)
        return data if _only(hint, custom.cls) else _tagged(custom.tag, data)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        hints = _field_hints(type(value))
        data = {f.name: to_wire(getattr(value, f.name), hints.get(f.name, Any)) for f in dataclasses.fields(value)}
        return data if _only(hint, type(value)) else _record_tag(value, data)
    if isinstance(value, Mapping):
        inner = _value_hint(hint)
        data = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"cannot send a dict with a {type(k).__name__} key ({k!r}) as JSON")
            data[k] = to_wire(v, inner)
        return _tagged("$dict", data) if len(data) == 1 and next(iter(data)).startswith("$") else data
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value)
        plain = isinstance(value, list) or any(_origin(m) is type(value) for m in _members(hint))
        item_hints = _element_hints(hint, items) if plain else [Any] * len(items)
        data_items = [to_wire(v, h) for v, h in zip(items, item_hints, strict=True)]
        if plain:
            return data_items
        return _tagged("$tuple" if isinstance(value, tuple) else "$set", data_items)
    if type(value).__module__ == "numpy" and callable(getattr(value, "tolist", None)):
        return to_wire(value.tolist(), hint)  # numpy scalars and arrays: Python values
    raise TypeError(f"cannot send a {type(value).__name__} to the Raise server")


def _record_tag(value: object, data: Any) -> dict[str, Any]:
    cls = type(value)
    return {"$record": {"type": f"{cls.__module__}.{cls.__qualname__}", "value": data}}


# -- decoding -------------------------------------------------------------------------------------

_TAGS: Final[dict[str, Callable[[Any], Any]]] = {
    **{tag: decode for tag, _, decode in _SCALARS.values()},
    "$tuple": lambda items: tuple(_decode_any(x) for x in items),
    "$set": lambda items: {_decode_any(x) for x in items},
    "$dict": lambda data: {k: _decode_any(v) for k, v in data.items()},
}


def _named_class(name: object) -> type | None:
    """A class of ``raise_`` named ``module.Qualname``, if its module is imported."""
    if not isinstance(name, str) or not name.startswith("raise_."):
        return None
    module_name, _, qualname = name.rpartition(".")
    module = sys.modules.get(module_name)
    cls = getattr(module, qualname, None) if module is not None else None
    return cls if isinstance(cls, type) else None


def _untag(data: dict[str, Any]) -> tuple[bool, Any]:
    """``(True, value)`` when ``data`` is a tagged value."""
    if len(data) != 1:
        return False, None
    tag, inner = next(iter(data.items()))
    if not tag.startswith("$"):
        return False, None
    if tag in _TAGS:
        try:
            return True, _TAGS[tag](inner)
        except (TypeError, ValueError, AttributeError):
            return False, None
    if tag == "$record" and isinstance(inner, dict):
        cls = _named_class(inner.get("type"))
        if cls is not None and (dataclasses.is_dataclass(cls) or issubclass(cls, enum.Enum)):
            return True, from_wire(inner.get("value"), cls)
        return False, None
    for c in _CUSTOM:
        if c.tag == tag:
            return True, c.decode(inner)
    return False, None


def _decode_any(data: Any) -> Any:
    if isinstance(data, list):
        return [_decode_any(x) for x in data]
    if isinstance(data, dict):
        found, value = _untag(data)
        if found:
            return value
        return {k: _decode_any(v) for k, v in data.items()}
    return data


def _native(hint: Any, data: Any) -> bool:
    """Whether JSON ``data`` is already of ``hint``'s kind, with no conversion."""
    if hint is Any or hint is object:
        return True
    origin = _origin(hint)
    if not isinstance(origin, type):
        return False
    if origin is bool:
        return isinstance(data, bool)
    if origin is int:
        return isinstance(data, int) and not isinstance(data, bool)
    if origin is float:
        return isinstance(data, int | float) and not isinstance(data, bool)
    if origin is str:
        return isinstance(data, str)
    if issubclass(origin, Mapping):
        return isinstance(data, dict)
    if issubclass(origin, Iterable) and not issubclass(origin, str | bytes) and not dataclasses.is_dataclass(origin):
        return isinstance(data, list)
    return False


def _convertible(hint: Any, data: Any) -> bool:
    origin = _origin(hint)
    if not isinstance(origin, type):
        return False
    if origin in _SCALARS:
        return isinstance(data, int | float) if origin is timedelta else isinstance(data, str)
    return issubclass(origin, enum.Enum) or _custom_for(origin) is not None or dataclasses.is_dataclass(origin)


def from_wire(data: Any, hint: Any = Any) -> Any:
    """The value of type ``hint`` that ``to_wire`` encoded as ``data``."""
    if isinstance(data, dict):
        found, value = _untag(data)
        if found:
            return value
    if hint is Any or hint is object:
        return _decode_any(data)
    if data is None:
        return None
    if _is_union(hint):
        members = _members(hint)
        chosen = next((m for m in members if _native(m, data)), None)
        if chosen is None:
            chosen = next((m for m in members if _convertible(m, data)), None)
        return _decode_any(data) if chosen is None else from_wire(data, chosen)
    origin = _origin(hint)
    args = get_args(hint)
    if not isinstance(origin, type):  # Literal[...], TypeVars: nothing to convert
        return _decode_any(data)
    if origin in (bool, int, float, str):
        return _decode_any(data)
    if origin in _SCALARS:
        try:
            return _SCALARS[origin][2](data)
        except (TypeError, ValueError):
            return data  # the service says what is wrong with it
    if issubclass(origin, enum.Enum):
        try:
            return origin(data)
        except ValueError:
            return data
    custom = _custom_for(origin)
    if custom is not None:
        return custom.decode(data)
    if dataclasses.is_dataclass(origin):
        return _decode_record(origin, data)
    if issubclass(origin, Mapping) and isinstance(data, dict):
        inner = args[1] if len(args) == 2 else Any
        return {k: from_wire(v, inner) for k, v in data.items()}
    if isinstance(data, list) and issubclass(origin, Iterable) and not issubclass(origin, str | bytes):
        if origin is tuple:
            if args and not (len(args) == 2 and args[1] is Ellipsis):
                if len(args) == len(data):
                    return tuple(from_wire(v, h) for v, h in zip(data, args, strict=True))
                return tuple(_decode_any(v) for v in data)
            return tuple(from_wire(v, args[0] if args else Any) for v in data)
        if issubclass(origin, list) and origin is not list:  # AuditEntries and the like
            return origin(from_wire(v, _list_item_hint(origin)) for v in data)
        items = [from_wire(v, args[0] if args else Any) for v in data]
        return set(items) if origin in (set, frozenset) else items
    return _decode_any(data)


def _decode_record(cls: type, data: Any) -> Any:
    if not isinstance(data, dict):
        return _decode_any(data)
    hints = _field_hints(cls)
    init: dict[str, Any] = {}
    later: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        value = from_wire(data[f.name], hints.get(f.name, Any))
        (init if f.init else later)[f.name] = value
    record = cls(**init)
    for name, value in later.items():
        object.__setattr__(record, name, value)
    return record


# -- Arrow ----------------------------------------------------------------------------------------


def table_to_ipc(table: pa.Table) -> bytes:
    return IpcBody.of(table).tobytes()


@dataclasses.dataclass(frozen=True)
class IpcBody:
    """The Arrow IPC stream of a table as the pieces Arrow writes it in: small message headers
    and the table's own column buffers, shared, not copied.

    A socket sends the pieces one after the other, so a table of 100 MB goes out with no copy in
    this process (serialising it into one ``bytes`` costs two copies, about 80 ms, measured). The
    pieces keep the table's memory alive until they are dropped.
    """

    parts: tuple[memoryview, ...]
    nbytes: int

    @classmethod
    def of(cls, table: pa.Table) -> IpcBody:
        sink = _PieceSink()
        with pa.ipc.new_stream(pa.PythonFile(sink, mode="w"), table.schema) as writer:
            writer.write_table(table)
        parts = sink.pieces()
        return cls(parts, sum(p.nbytes for p in parts))

    def tobytes(self) -> bytes:
        return b"".join(self.parts)


class _PieceSink:
    """A write-only file for Arrow's IPC writer that keeps what it is given; runs of small pieces
    (headers, padding) are joined so a socket is not fed a few bytes at a time."""

    _SMALL: Final = 64 * 1024

    def __init__(self) -> None:
        self._parts: list[memoryview] = []
        self._small: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        if view.nbytes < self._SMALL:
            self._small.append(view.tobytes())
        else:
            self._flush_small()
            self._parts.append(view)
        return view.nbytes

    def _flush_small(self) -> None:
        if self._small:
            self._parts.append(memoryview(b"".join(self._small)))
            self._small = []

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def pieces(self) -> tuple[memoryview, ...]:
        self._flush_small()
        return tuple(self._parts)


_END_OF_STREAM: Final = b"\xff\xff\xff\xff\x00\x00\x00\x00"  # Arrow's EOS marker (the format since 0.15)


class IpcStreamError(ValueError):
    """Bytes that are not exactly one whole Arrow IPC stream."""


def ipc_to_table(data: bytes | memoryview, *, check: bool = False) -> pa.Table:
    """The table of one Arrow IPC stream that fills ``data`` exactly, end-of-stream marker included.

    Refused with :class:`IpcStreamError`: bytes that are no stream, a stream cut short (even at a
    batch boundary, which Arrow's own reader takes for the end and so would lose the rest), and
    bytes after the marker. ``check`` also validates every buffer (offsets within their data, valid
    UTF-8): Arrow's reader takes them as they come, and data from a client must not point outside
    its own buffers (about 0.1 s for 200 MB).
    """
    buffer = pa.py_buffer(data)
    source = pa.BufferReader(buffer)
    try:
        reader = pa.ipc.open_stream(source)
        batches = []
        end = source.tell()
        while True:
            try:
                batches.append(reader.read_next_batch())
            except StopIteration:
                break
            end = source.tell()
        table = pa.Table.from_batches(batches, schema=reader.schema)
        if check:
            table.validate(full=True)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise IpcStreamError(f"it is not a valid Arrow IPC stream ({exc})") from exc
    tail = buffer[end:].to_pybytes() if buffer.size - end <= len(_END_OF_STREAM) else b""
    if tail == _END_OF_STREAM:
        return table
    if buffer[end : end + len(_END_OF_STREAM)].to_pybytes() == _END_OF_STREAM:
        extra = buffer.size - end - len(_END_OF_STREAM)
        raise IpcStreamError(f"{extra} bytes follow the end of its Arrow IPC stream")
    raise IpcStreamError(
        f"its Arrow IPC stream stops after {len(batches)} record batch(es) without the end-of-stream marker: "
        "it was cut short"
    )


# -- types that are not dataclasses ---------------------------------------------------------------


def _register_raise_types() -> None:
    from raise_.lineage.graph import LineageEdge, LineageGraph, LineageJob, LineageNode
    from raise_.types import FeatureType, parse_dtype

    register_type(FeatureType, "$dtype", str, parse_dtype)

    def graph_to_wire(graph: LineageGraph) -> dict[str, Any]:
        return {
            "focus_id": graph.focus.id,
            "nodes": [to_wire(n, LineageNode) for n in graph.nodes.values()],
            "edges": [to_wire(e, LineageEdge) for e in graph.edges],
            "jobs": [to_wire(j, LineageJob) for j in graph.jobs],
        }

    def graph_from_wire(data: dict[str, Any]) -> LineageGraph:
        nodes = [from_wire(n, LineageNode) for n in data["nodes"]]
        edges = [from_wire(e, LineageEdge) for e in data["edges"]]
        jobs = [from_wire(j, LineageJob) for j in data.get("jobs", [])]
        return LineageGraph(data["focus_id"], nodes, edges, jobs)

    register_type(LineageGraph, "$lineage_graph", graph_to_wire, graph_from_wire)


_register_raise_types()
