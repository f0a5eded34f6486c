"""User Python that travels as source (transforms, custom checks): loading it and saying where it
failed.

The code is compiled under a file name of its own (``<transform segment_users>``), so an error
names the transform and the line in the user's function, not a line of Raise.
"""

from __future__ import annotations

import importlib.util
import re
import traceback
from collections.abc import Callable
from typing import Any

from raise_.errors import InvalidJobError, TransformFailedError

__all__ = ["check_dependencies", "load_function", "missing_packages", "transform_error"]


def _filename(label: str) -> str:
    return f"<{label}>"


def load_function(source: str, function_name: str, label: str) -> Callable[..., Any]:
    namespace: dict[str, Any] = {"__name__": f"raise_user_{function_name}"}
    try:
        code = compile(source, _filename(label), "exec")
        exec(code, namespace)  # the job's own code, in the run's process (DESIGN §8)
    except SyntaxError as exc:
        raise TransformFailedError(
            f"{label} does not compile: {exc.msg} (line {exc.lineno}).", {"line": exc.lineno, "transform": label}
        ) from None
    except Exception as exc:
        raise transform_error(exc, label) from None
    fn = namespace.get(function_name)
    if not callable(fn):
        raise InvalidJobError(f"{label}: its source defines no function {function_name!r}.", {"transform": label})
    return fn  # type: ignore[no-any-return]


def transform_error(exc: BaseException, label: str) -> TransformFailedError:
    """The run's coded error for an exception raised by user code: its own message and the line
    of the user's source it came from (the innermost frame in that source)."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == _filename(label):
            line = frame.lineno
    where = f" (line {line})" if line is not None else ""
    message = f"{label} failed{where}: {type(exc).__name__}: {exc}"
    return TransformFailedError(message, {"transform": label, "line": line, "exception": type(exc).__name__})


def missing_packages(requirements: list[str]) -> list[str]:
    """The requirements (``"transformers>=4.35"``, ``"pkg[extra]"``) whose module this process
    cannot import (a distribution's name with ``-`` read as its module's ``_``)."""
    missing = []
    for requirement in requirements:
        module = re.split(r"[\[<>=!~; ]", requirement.strip(), maxsplit=1)[0].replace("-", "_")
        if module and importlib.util.find_spec(module) is None:
            missing.append(requirement)
    return missing


def check_dependencies(dependencies: list[str], label: str) -> None:
    """Every package a transform says it needs must be importable in the run's process."""
    missing = missing_packages(dependencies)
    if missing:
        raise TransformFailedError(
            f"{label} needs {', '.join(missing)}, not installed where jobs run; install it on the server.",
            {"transform": label, "missing": missing},
        )
