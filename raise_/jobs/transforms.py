"""How a job turns its sources into feature values (README *Transforms*, PRD §15.4).

- :class:`SQLTransform`: one ``SELECT`` over the sources (``source`` is the first, each is also
  its own name), run in a DuckDB connection that can reach nothing else
  (:mod:`raise_.jobs.sandbox`); ``{{checkpoint}}``, ``{{execution_date}}``, ``{{run_id}}`` and
  the transform's own ``parameters`` are bound as values, never pasted into the text.
- :func:`python_transform`: a function ``(context, data)`` taking the rows (pandas by default;
  ``input_format="records" | "arrow" | "polars"``) and returning records, pandas, polars or Arrow.
  The function travels as its source code (a notebook's function has no importable module),
  so it must be self-contained: imports inside, no notebook globals.
- :class:`HybridTransform`: the SQL first, then the Python function on its result.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Final

from raise_.errors import InvalidJobError

__all__ = [
    "INPUT_FORMATS",
    "HybridTransform",
    "PythonTransform",
    "SQLTransform",
    "Transform",
    "TransformContext",
    "python_transform",
    "transform_from_dict",
]

INPUT_FORMATS: Final = ("pandas", "records", "arrow", "polars")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$")


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidJobError(
            f"Invalid transform name {name!r}: use letters, digits, '_' and '-', starting with a letter.",
            {"field": "transform.name", "name": repr(name)},
        )
    return name


@dataclass(frozen=True)
class TransformContext:
    """What a Python transform is told about its run (PRD §15.4)."""

    job_id: str
    job_name: str
    run_id: str
    execution_date: datetime
    checkpoint_value: Any
    parameters: dict[str, Any] = field(default_factory=dict)


class Transform:
    transform_type: ClassVar[str] = ""
    name: str

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class SQLTransform(Transform):
    name: str
    sql: str
    parameters: dict[str, Any] = field(default_factory=dict)

    transform_type: ClassVar[str] = "sql"

    def __post_init__(self) -> None:
        _check_name(self.name)
        if not isinstance(self.sql, str) or not self.sql.strip():
            raise InvalidJobError("SQLTransform needs the SELECT to run (sql=...).", {"field": "transform.sql"})
        if not isinstance(self.parameters, dict) or not all(isinstance(k, str) for k in self.parameters):
            raise InvalidJobError("parameters must map names to values.", {"field": "transform.parameters"})

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"transform_type": "sql", "name": self.name, "sql": self.sql}
        if self.parameters:
            out["parameters"] = dict(self.parameters)
        return out


@dataclass(frozen=True)
class PythonTransform(Transform):
    """A Python function as a job runs it: its name, its source code and what it needs."""

    name: str
    function_name: str
    source: str
    dependencies: list[str] = field(default_factory=list)
    input_format: str = "pandas"
    module_path: str | None = None
    function: Callable[..., Any] | None = field(default=None, compare=False, repr=False)

    transform_type: ClassVar[str] = "python"

    def __post_init__(self) -> None:
        _check_name(self.name)
        if not isinstance(self.source, str) or "def " not in self.source:
            raise InvalidJobError("A Python transform needs its function's source.", {"field": "transform.source"})
        if self.input_format not in INPUT_FORMATS:
            raise InvalidJobError(
                f"Unknown input_format {self.input_format!r}; use one of {', '.join(INPUT_FORMATS)}.",
                {"field": "transform.input_format"},
            )
        deps = self.dependencies
        if not isinstance(deps, list | tuple) or not all(isinstance(d, str) and d.strip() for d in deps):
            raise InvalidJobError("dependencies must be a list of package names.", {"field": "transform.dependencies"})

    def __call__(self, context: Any, data: Any) -> Any:
        """Call the function as it is (a decorated function stays callable in the notebook)."""
        if self.function is None:
            raise TypeError(f"transform {self.name!r} was loaded from its definition; a job runs it")
        return self.function(context, data)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "transform_type": "python",
            "name": self.name,
            "function_name": self.function_name,
            "source": self.source,
            "dependencies": list(self.dependencies),
            "input_format": self.input_format,
        }
        if self.module_path:
            out["module_path"] = self.module_path
        return out


def _function_source(fn: Callable[..., Any]) -> str:
    """The function's own ``def`` (decorators dropped), dedented."""
    try:
        text = inspect.getsource(fn)
    except (OSError, TypeError) as exc:
        raise InvalidJobError(
            f"Cannot read the source of {getattr(fn, '__name__', fn)!r} ({exc}); define it in a file or a "
            "notebook cell.",
            {"field": "transform"},
        ) from None
    text = textwrap.dedent(text)
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if re.match(r"(async\s+)?def\s", line)), 0)
    return "\n".join(lines[start:]) + "\n"


def python_transform(
    name: str | None = None, dependencies: list[str] | None = None, *, input_format: str = "pandas"
) -> Callable[[Callable[..., Any]], PythonTransform]:
    """Make a function ``(context, data) -> rows`` a job's transform::

    @python_transform(name="segment_users", dependencies=["pandas"])
    def segment_users(context, data): ...
    """

    def wrap(fn: Callable[..., Any]) -> PythonTransform:
        if not callable(fn):
            raise InvalidJobError("@python_transform decorates a function.", {"field": "transform"})
        params = list(inspect.signature(fn).parameters)
        if len(params) != 2:
            raise InvalidJobError(
                f"A Python transform takes (context, data); {fn.__name__} takes ({', '.join(params)}).",
                {"field": "transform"},
            )
        module = getattr(fn, "__module__", None)
        return PythonTransform(
            name=name or fn.__name__,
            function_name=fn.__name__,
            source=_function_source(fn),
            dependencies=list(dependencies or []),
            input_format=input_format,
            module_path=module if module and module != "__main__" else None,
            function=fn,
        )

    return wrap


@dataclass(frozen=True)
class HybridTransform(Transform):
    """SQL first, then a Python function over its result (PRD §15.4)."""

    sql_transform: SQLTransform
    python_transform: PythonTransform
    name: str = ""

    transform_type: ClassVar[str] = "hybrid"

    def __post_init__(self) -> None:
        if not isinstance(self.sql_transform, SQLTransform) or not isinstance(self.python_transform, PythonTransform):
            raise InvalidJobError(
                "HybridTransform takes sql_transform=SQLTransform(...) and python_transform=<a @python_transform>.",
                {"field": "transform"},
            )
        if not self.name:
            object.__setattr__(self, "name", f"{self.sql_transform.name}-{self.python_transform.name}")
        _check_name(self.name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "transform_type": "hybrid",
            "name": self.name,
            "sql_transform": self.sql_transform.to_dict(),
            "python_transform": self.python_transform.to_dict(),
        }


def transform_from_dict(value: Transform | dict[str, Any] | Callable[..., Any]) -> Transform:
    if isinstance(value, Transform):
        return value
    if callable(value):
        raise InvalidJobError(
            f"{getattr(value, '__name__', value)!r} is a plain function: decorate it with @python_transform(name=...).",
            {"field": "transform"},
        )
    if not isinstance(value, dict):
        raise InvalidJobError(f"A transform is a Transform or a mapping, got {value!r}.", {"field": "transform"})
    data = dict(value)
    kind = data.pop("transform_type", None)
    try:
        if kind == "sql":
            return SQLTransform(**data)
        if kind == "python":
            return PythonTransform(**data)
        if kind == "inference":
            # Imported here: inference builds on jobs, never the reverse at module level.
            from raise_.inference.transform import InferenceTransform

            return InferenceTransform.from_dict(data)
        if kind == "hybrid":
            sql = transform_from_dict({"transform_type": "sql", **dict(data.pop("sql_transform", {}) or {})})
            py = transform_from_dict({"transform_type": "python", **dict(data.pop("python_transform", {}) or {})})
            assert isinstance(sql, SQLTransform) and isinstance(py, PythonTransform)
            return HybridTransform(sql_transform=sql, python_transform=py, **data)
    except TypeError as exc:
        raise InvalidJobError(f"Bad {kind} transform: {exc}.", {"field": "transform"}) from None
    raise InvalidJobError(
        f"Unknown transform type {kind!r}; use 'sql', 'python', 'hybrid' or 'inference'.",
        {"field": "transform.transform_type"},
    )
