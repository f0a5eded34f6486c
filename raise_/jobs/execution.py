"""A job run's compute: read the sources, transform, check quality, stage the output (PRD §15).

This is the handler of run kind ``job-compute``: it runs in the run's own process (``raise run
RUN_ID`` under the subprocess launcher) and never opens the offline store, so user code can
crash, exit or run out of memory without touching the store or the server. It gets everything
through the run's spec (the job's definition, the checkpoint, the staging folder and the
feature-group sources the owner of the store staged) and returns what it produced; the owner
then writes the output with the run's marker in one commit (:mod:`raise_.jobs.service`).
"""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from raise_.errors import (
    InferenceFailedError,
    InvalidInferenceError,
    QualityCheckFailedError,
    RaiseError,
    TransformFailedError,
)
from raise_.jobs.definition import JobDefinition, decode_checkpoint, encode_checkpoint
from raise_.jobs.python_code import check_dependencies, load_function, missing_packages, transform_error
from raise_.jobs.quality import CheckResult, CheckSeverity, quote
from raise_.jobs.reading import (
    CheckpointBound,
    FileScan,
    file_relation,
    list_files,
    parquet_relation,
    stage_database,
)
from raise_.jobs.sandbox import bind_template, sandbox_connection
from raise_.jobs.sources import ColumnarSource, DatabaseSource, FeatureGroupSource, FileSystem
from raise_.jobs.transforms import HybridTransform, PythonTransform, SQLTransform, TransformContext
from raise_.runs.context import RunContext
from raise_.runs.memory import peak_rss_bytes
from raise_.runs.records import RunRecord

__all__ = ["FAULT_ENV", "OUTPUT_FILE", "STAGED_KEYS", "fault_point", "run_job_compute"]

OUTPUT_FILE: Final = "output.parquet"
#: Schema metadata of a staged feature-group source: its key columns (entity keys, event time).
STAGED_KEYS: Final = "raise.keys"
#: Tests only: the name of a point (``after_read``, ``after_transform``, ``mid_write``,
#: ``after_write``) at which the process kills itself with SIGKILL, as a crash would.
FAULT_ENV: Final = "RAISE_JOB_FAULT"
_BATCH_ROWS: Final = 131_072
_OUTPUT_TABLE: Final = "_raise_output"


def fault_point(name: str) -> None:
    if os.environ.get(FAULT_ENV, "") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _floor_of(kind: type | None) -> Any:
    """The checkpoint a first run binds: below every value of the column's kind."""
    if kind is datetime:
        return datetime(1, 1, 1, tzinfo=UTC)
    if kind is date:
        return date(1, 1, 1)
    if kind is float:
        return float("-inf")
    if kind is int:
        return -(2**63) + 1
    if kind is str:
        return ""
    return None


def _python_kind_of(typ: Any) -> type | None:
    """The Python kind of a DuckDB column type (of the checkpoint column)."""
    text = str(typ).upper()
    if text.startswith("TIMESTAMP"):
        return datetime
    if text == "DATE":
        return date
    if text in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"):
        return int
    if text in ("FLOAT", "DOUBLE") or text.startswith("DECIMAL"):
        return float
    if text == "VARCHAR":
        return str
    return None


def _to_table(data: Any, label: str) -> pa.Table:
    """What a Python transform returned, as Arrow: records, a dict of columns, pandas, polars or Arrow."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    module = type(data).__module__
    try:
        if module.startswith("pandas"):
            return pa.Table.from_pandas(data, preserve_index=False)
        if module.startswith("polars"):
            return data.to_arrow()
        if isinstance(data, list) and all(isinstance(r, dict) for r in data):
            return pa.Table.from_pylist(data)
        if isinstance(data, dict):
            return pa.table(data)
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise TransformFailedError(f"{label} returned rows Arrow cannot read: {exc}", {"transform": label}) from None
    raise TransformFailedError(
        f"{label} returned {type(data).__name__}; return records (a list of dicts), a pandas or polars DataFrame "
        "or an Arrow table.",
        {"transform": label},
    )


def _as_input(table: pa.Table, fmt: str) -> Any:
    if fmt == "arrow":
        return table
    if fmt == "records":
        return table.to_pylist()
    if fmt == "polars":
        import polars as pl

        return pl.from_arrow(table)
    return table.to_pandas()


class _Compute:
    def __init__(self, run: RunRecord, ctx: RunContext) -> None:
        self.run = run
        self.ctx = ctx
        spec = run.spec
        self.job_id = str(spec["job_id"])
        self.job_name = str(spec["job_name"])
        self.job_run_id = str(spec["job_run_id"])
        self.definition = JobDefinition.from_dict(dict(spec["definition"]))
        self.checkpoint = decode_checkpoint(spec.get("checkpoint"))
        self.execution_date = datetime.fromisoformat(str(spec["execution_date"]))
        self.staging = Path(str(spec["staging"]))
        self.staged: Mapping[str, str] = dict(spec.get("staged") or {})
        self.home = Path(str(spec.get("home") or self.staging))
        self.output = self.staging / OUTPUT_FILE
        self.con: duckdb.DuckDBPyConnection | None = None
        self.relations: dict[str, Any] = {}

    # -- read ---------------------------------------------------------------------------------

    def bound(self) -> CheckpointBound | None:
        inc = self.definition.incremental
        if not inc.uses_checkpoint or inc.checkpoint_column is None:
            return None
        return CheckpointBound(inc.checkpoint_column, self.checkpoint, inc.lookback_seconds)

    def open_sources(self) -> None:
        """List the files, stage the database tables, then open the locked connection allowed to
        read exactly those files, with a view per source."""
        bound = self.bound()
        plans: list[tuple[str, Any]] = []
        allowed: list[str] = [str(self.output)]
        filesystems: list[Any] = []
        for source in self.definition.sources:
            name = source.source_name
            if isinstance(source, FileSystem):
                scan = list_files(source)
                allowed.extend(scan.files)
                if scan.filesystem is not None and all(fs is not scan.filesystem for fs in filesystems):
                    filesystems.append(scan.filesystem)
                plans.append((name, scan))
            elif isinstance(source, DatabaseSource | ColumnarSource):
                path, _ = stage_database(source, self.home, self.staging / "inputs" / f"{name}.parquet", bound)
                allowed.append(str(path))
                plans.append((name, (path, None)))  # the database applied the checkpoint already
            elif isinstance(source, FeatureGroupSource):
                path = Path(self.staged[name])
                allowed.append(str(path))
                plans.append((name, (path, bound)))
        self.con = sandbox_connection(
            self.staging / "spill", os.environ.get("RAISE_JOB_MEMORY_LIMIT") or None, allowed, filesystems
        )
        for name, plan in plans:
            if isinstance(plan, FileScan):
                rel = file_relation(self.con, plan, bound)
            else:
                rel = parquet_relation(self.con, plan[0], plan[1])
            rel.create_view(name)
            self.relations[name] = rel
        if "source" not in self.relations and plans:
            self.relations[plans[0][0]].create_view("source")

    def register(self) -> tuple[int, Any, type | None]:
        """Rows read, the largest checkpoint value read and the kind of the checkpoint column."""
        assert self.con is not None
        column = self.definition.incremental.checkpoint_column
        rows, newest, kind = 0, None, None
        for rel in self.relations.values():
            has = column is not None and column in rel.columns
            if has:
                found = rel.aggregate(f"count(*), max({quote(str(column))})").fetchall()[0]
                kind = kind or _python_kind_of(rel.types[rel.columns.index(column)])
                n, top = found
                if top is not None and (newest is None or top > newest):
                    newest = top
            else:
                n = rel.aggregate("count(*)").fetchall()[0][0]
            rows += int(n)
        return rows, newest, kind

    # -- transform ----------------------------------------------------------------------------

    def context(self) -> TransformContext:
        params = dict(getattr(self.definition.transform, "parameters", {}) or {})
        return TransformContext(
            job_id=self.job_id,
            job_name=self.job_name,
            run_id=self.job_run_id,
            execution_date=self.execution_date,
            checkpoint_value=self.checkpoint,
            parameters=params,
        )

    def sql_relation(self, transform: SQLTransform, kind: type | None) -> duckdb.DuckDBPyRelation:
        label = f"transform {transform.name}"
        checkpoint = self.checkpoint
        if checkpoint is None and self.definition.incremental.uses_checkpoint:
            checkpoint = _floor_of(kind)
        values = {
            **transform.parameters,
            "checkpoint": checkpoint,
            "execution_date": self.execution_date,
            "run_id": self.job_run_id,
        }
        sql, params = bind_template(transform.sql, label, values)
        assert self.con is not None
        try:
            # A relation streams (a DB-API result would copy every row first) and DuckDB writes
            # it to Parquet itself, on all cores.
            return self.con.sql(sql, params=params)
        except duckdb.Error as exc:
            detail: Exception = exc
            try:  # the relation API drops the line of a parse or bind error: prepare it again for that
                self.con.execute(sql, params)
            except duckdb.Error as again:
                detail = again
            raise _sql_error(detail, label) from None

    def python(self, transform: PythonTransform, data: Any) -> pa.Table:
        label = f"transform {transform.name}"
        check_dependencies(list(transform.dependencies), label)
        fn = load_function(transform.source, transform.function_name, label)
        try:
            result = fn(self.context(), data)
        except RaiseError:
            raise
        except Exception as exc:
            raise transform_error(exc, label) from None
        if result is None:
            raise TransformFailedError(f"{label} returned nothing: return the rows to write.", {"transform": label})
        return _to_table(result, label)

    def transform(self, kind: type | None) -> Path:
        out = self.output
        t = self.definition.transform
        if isinstance(t, SQLTransform):
            _write_relation(self.sql_relation(t, kind), out, f"transform {t.name}")
        elif isinstance(t, HybridTransform):
            table = _read_all(self.sql_relation(t.sql_transform, kind), f"transform {t.sql_transform.name}")
            pq.write_table(self.python(t.python_transform, _as_input(table, t.python_transform.input_format)), out)
        elif t.transform_type == "inference":
            self.inference(t, out)
        else:
            assert isinstance(t, PythonTransform)
            inputs = {name: _as_input(rel.to_arrow_table(), t.input_format) for name, rel in self.relations.items()}
            data = next(iter(inputs.values())) if len(inputs) == 1 else inputs
            pq.write_table(self.python(t, data), out)
        return out

    def passthrough(self, transform: Any, table: pa.Table) -> list[str]:
        """The columns an inference run keeps beside its outputs: the transform's own list, else
        the target's key columns (and event time), else the source group's keys."""
        if transform.passthrough_columns is not None:
            return list(transform.passthrough_columns)
        target = self.definition.target
        keys = list(self.definition.key_columns() or [])
        if target.event_time:
            keys.append(target.event_time)
        if keys:
            return list(dict.fromkeys(keys))
        name = next(iter(self.relations))
        staged = self.staged.get(name)
        if staged:
            metadata = pq.read_schema(staged).metadata or {}
            found = metadata.get(STAGED_KEYS.encode())
            if found:
                return [c for c in json.loads(found) if c in table.column_names]
        raise InvalidInferenceError(
            "An inference job writes its outputs beside the rows' keys: name them with "
            "Target(key_columns=[...]) or InferenceTransform(passthrough_columns=[...]) (a feature-group "
            "source gives its entity keys and event time by itself).",
            {"field": "target.key_columns"},
        )

    def inference(self, transform: Any, out: Path) -> None:
        """Run the model over the source (the first, or the one named ``source``)."""
        from raise_.inference.execution import run_inference

        runtime = transform.runtime
        if runtime is not None:
            # The run's process is the transform's own: its environment is the runtime's.
            os.environ.update(runtime.env_vars)
            missing = missing_packages(runtime.packages)
            if missing:
                self.ctx.log(
                    f"runtime packages not installed here (the image {runtime.image} brings them on Kubernetes): "
                    + ", ".join(missing)
                )
        name = "source" if "source" in self.relations else next(iter(self.relations))
        table = self.relations[name].to_arrow_table()
        try:
            done = run_inference(
                transform,
                table,
                self.passthrough(transform, table),
                log=self.ctx.log,
                cancelled=self.ctx.raise_if_cancelled,
            )
        except InferenceFailedError as exc:
            self.ctx.metric("inference", exc.details.get("inference"))
            raise
        self.ctx.metric("inference", done.result.to_dict())
        self.ctx.log(
            f"inference: {done.result.processed_samples} of {done.result.total_samples} samples, "
            f"{done.result.throughput_samples_per_sec:.1f}/s on {done.result.device}"
        )
        pq.write_table(done.table, out)

    # -- quality ------------------------------------------------------------------------------

    def quality(self, output: Path) -> tuple[list[CheckResult], bool]:
        assert self.con is not None
        self.con.read_parquet([str(output)]).create_view(_OUTPUT_TABLE)
        results = []
        for check in self.definition.quality_checks:
            try:
                results.append(check.evaluate(self.con, _OUTPUT_TABLE))
            except RaiseError:
                raise
            except Exception as exc:
                results.append(
                    CheckResult(
                        check.name, check.check_type, str(check.severity), False, f"{type(exc).__name__}: {exc}"
                    )
                )
        failed = [r for r in results if not r.passed and r.severity == CheckSeverity.ERROR.value]
        return results, not failed


def _sql_error(exc: Exception, label: str) -> TransformFailedError:
    text = str(exc)
    found = re.search(r"LINE (\d+):", text)
    line = int(found.group(1)) if found else None
    first = text.splitlines()[0] if text else type(exc).__name__
    where = f" (line {line})" if line else ""
    return TransformFailedError(
        f"{label} failed{where}: {first}", {"transform": label, "line": line, "error": text[:2000]}
    )


def _read_all(rel: duckdb.DuckDBPyRelation, label: str) -> pa.Table:
    try:
        return rel.to_arrow_table(_BATCH_ROWS)
    except (duckdb.Error, pa.ArrowException) as exc:
        raise _sql_error(exc, label) from None


_WIDE_INTEGERS: Final = frozenset({"HUGEINT", "UHUGEINT"})


def _write_relation(rel: duckdb.DuckDBPyRelation, out: Path, label: str) -> None:
    try:
        if any(str(t) in _WIDE_INTEGERS for t in rel.types):
            # Parquet has no 128-bit integer (DuckDB would write a double): keep the exact value
            # as the decimal that Arrow gives it (sum() of an integer column is one).
            wide = duckdb.sqltype("DECIMAL(38,0)")
            rel = rel.select(
                *(
                    duckdb.ColumnExpression(c).cast(wide).alias(c)
                    if str(t) in _WIDE_INTEGERS
                    else duckdb.ColumnExpression(c)
                    for c, t in zip(rel.columns, rel.types, strict=True)
                )
            )
        rel.write_parquet(str(out))
    except duckdb.Error as exc:
        raise _sql_error(exc, label) from None


def run_job_compute(run: RunRecord, ctx: RunContext) -> Mapping[str, Any]:
    at_start = peak_rss_bytes()  # the interpreter and its imports, before any source is opened
    ctx.metric("start_rss_bytes", at_start)
    ctx.log(f"peak memory at start: {at_start // 2**20} MiB")
    job = _Compute(run, ctx)
    try:
        with ctx.stage("read"):
            job.open_sources()
            rows_read, newest, kind = job.register()
        ctx.metric("rows_read", rows_read)
        ctx.log(f"peak memory after reading: {peak_rss_bytes() // 2**20} MiB")
        ctx.log(f"read {rows_read} rows from {', '.join(job.relations)}")
        fault_point("after_read")
        ctx.raise_if_cancelled()
        with ctx.stage("transform"):
            output = job.transform(kind)
        ctx.log(f"peak memory after the transform: {peak_rss_bytes() // 2**20} MiB")
        fault_point("after_transform")
        ctx.raise_if_cancelled()
        output_rows = pq.ParquetFile(str(output)).metadata.num_rows
        ctx.metric("output_rows", output_rows)
        with ctx.stage("quality"):
            results, passed = job.quality(output)
        report = [r.to_dict() for r in results]
        checkpoint_after = newest if newest is not None else job.checkpoint
        outcome = {
            "output": str(output),
            "output_rows": output_rows,
            "rows_read": rows_read,
            "checkpoint_after": encode_checkpoint(checkpoint_after)
            if job.definition.incremental.uses_checkpoint
            else None,
            "quality": {"passed": passed, "checks": report},
        }
        # What the run's process held at most: a source larger than this was streamed, not loaded.
        ctx.metric("peak_rss_bytes", peak_rss_bytes())
        (job.staging / "outcome.json").write_text(json.dumps(outcome, default=str))
        if not passed:
            failed = [r.name for r in results if not r.passed and r.severity == CheckSeverity.ERROR.value]
            raise QualityCheckFailedError(
                f"Quality check {failed[0]!r} failed"
                + (f" (and {len(failed) - 1} more)" if len(failed) > 1 else "")
                + f": {next(r.message for r in results if r.name == failed[0])}. Nothing was written.",
                {"quality": outcome["quality"], "rows_read": rows_read, "output_rows": output_rows},
            )
        return outcome
    finally:
        if job.con is not None:
            job.con.close()
