"""Running an inference transform over a job's rows, in the run's process (DESIGN §8: never in
the server).

The rows stay Arrow: each batch is the input columns taken at the batch's row indices. A pool of
``num_workers`` threads prepares the next ``prefetch_batches`` batches (tokenizing, decoding
images) while the model runs the current one; with ``data_parallel`` over several GPUs, each
device has its copy of the model and its own thread, and batches go to whichever is free. A batch
that raises is retried ``max_retries`` times, then split in halves until the samples that fail
are alone: they are left out of the output and counted, the others written. Outputs are put back
in row order and joined to the rows' keys.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from raise_.errors import InferenceFailedError, InvalidInferenceError, RaiseError
from raise_.inference.accelerators import UsageSampler, plan_devices
from raise_.inference.batching import plan_batches
from raise_.inference.records import LATENCY_BUCKETS, InferenceResult
from raise_.inference.resolve import resolve_model
from raise_.inference.runtimes import choose_runtime
from raise_.inference.runtimes.base import LoadContext, LoadedModel, load_runtime
from raise_.inference.specs import parse_schema_type
from raise_.inference.transform import InferenceTransform

__all__ = ["InferenceOutput", "run_inference"]

_MAX_ERRORS = 20


@dataclass
class InferenceOutput:
    table: pa.Table
    result: InferenceResult


@dataclass
class _BatchOutcome:
    rows: np.ndarray
    outputs: dict[str, Any]
    ok_rows: np.ndarray
    latency: float
    retried: bool = False
    errors: list[tuple[int, str]] = field(default_factory=list)


def _to_arrow(values: Any, rows: int, name: str) -> pa.Array:
    """A model output as Arrow: a 2-D array as a fixed-size list (an embedding), 1-D as is."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        out = values
    else:
        if hasattr(values, "detach"):  # a torch tensor from a custom function
            values = values.detach().cpu().numpy()
        arr = np.asarray(values)
        if arr.dtype.kind in "OUS":
            out = pa.array(arr.astype(str).tolist() if arr.dtype.kind in "US" else arr.tolist())
        elif arr.ndim == 2:
            flat = pa.array(np.ascontiguousarray(arr.astype(np.float32, copy=False)).reshape(-1))
            out = pa.FixedSizeListArray.from_arrays(flat, arr.shape[1])
        elif arr.ndim == 1:
            out = pa.array(arr)
        else:
            raise InvalidInferenceError(
                f"Model output {name!r} has {arr.ndim} dimensions per batch; a feature takes a value or a vector "
                "per row (flatten it in the model or an @inference_transform).",
                {"output": name, "shape": list(arr.shape)},
            )
    if len(out) != rows:
        raise InvalidInferenceError(
            f"Model output {name!r} has {len(out)} values for a batch of {rows} rows.", {"output": name}
        )
    return out


class _Runner:
    """Runs batches on one loaded model: retries, then halves a failing batch down to its samples."""

    def __init__(self, model: LoadedModel, inputs: Mapping[str, pa.Array], transform: InferenceTransform) -> None:
        self.model = model
        self.inputs = inputs
        self.attempts = 1 + (transform.batch_config.max_retries if transform.batch_config.retry_failed else 0)
        self.wanted = transform.model_outputs()
        self.extra = [c for c in transform.output_columns() if c not in self.wanted.values()]
        self.custom = transform.inference_task == "custom"

    def take(self, rows: np.ndarray) -> dict[str, pa.Array]:
        index = pa.array(rows)
        return {name: column.take(index) for name, column in self.inputs.items()}

    def outputs_of(self, raw: Mapping[str, Any], n: int) -> dict[str, pa.Array]:
        if self.custom and not self.wanted:
            names = {k: k for k in raw}
        else:
            missing = [k for k in self.wanted if k not in raw]
            if missing:
                raise InvalidInferenceError(
                    f"The model gave outputs {', '.join(raw) or 'none'}, not {', '.join(missing)}: map the outputs "
                    "it gives with output_mapping.",
                    {"outputs": list(raw), "missing": missing},
                )
            names = dict(self.wanted)
            for column in self.extra:
                if column in raw:
                    names[column] = column
        return {column: _to_arrow(raw[key], n, key) for key, column in names.items()}

    def run(self, rows: np.ndarray, prepared: Any) -> _BatchOutcome:
        started = time.perf_counter()
        last: BaseException | None = None
        for attempt in range(self.attempts):
            try:
                if prepared is None or attempt:
                    prepared = self.model.prepare(self.take(rows))
                out = self.outputs_of(self.model.run(prepared), len(rows))
                return _BatchOutcome(rows, out, np.arange(len(rows)), time.perf_counter() - started, attempt > 0)
            except InvalidInferenceError:
                raise  # a mismatch between model and transform: no retry helps
            except Exception as exc:  # the model's failure on this data
                last = exc
                prepared = None
        assert last is not None
        if len(rows) == 1:
            return _BatchOutcome(
                rows,
                {},
                np.arange(0),
                time.perf_counter() - started,
                self.attempts > 1,
                [(int(rows[0]), f"{type(last).__name__}: {last}")],
            )
        half = len(rows) // 2
        parts = [self.run(rows[:half], None), self.run(rows[half:], None)]
        return self.merge(rows, parts, time.perf_counter() - started)

    @staticmethod
    def merge(rows: np.ndarray, parts: list[_BatchOutcome], latency: float) -> _BatchOutcome:
        outputs: dict[str, Any] = {}
        ok = []
        offset = 0
        for part in parts:
            ok.append(part.ok_rows + offset)
            offset += len(part.rows)
        good = [p for p in parts if len(p.ok_rows)]
        if good:
            for name in good[0].outputs:
                outputs[name] = pa.concat_arrays([p.outputs[name] for p in good])
        errors = [e for p in parts for e in p.errors]
        return _BatchOutcome(rows, outputs, np.concatenate(ok), latency, True, errors)


def _check_inputs(transform: InferenceTransform, table: pa.Table) -> dict[str, str]:
    mapping = transform.model_inputs()
    if transform.inference_task == "custom" and not mapping:
        mapping = {c: c for c in table.column_names}
    missing = {k: v for k, v in mapping.items() if v not in table.column_names}
    if missing:
        name, column = next(iter(missing.items()))
        raise InvalidInferenceError(
            f"The model's input {name!r} reads column {column!r}, which the source does not have (its columns: "
            f"{', '.join(table.column_names)}); set input_mapping={{{name!r}: '<column>'}}.",
            {"input": name, "column": column, "columns": table.column_names},
        )
    return mapping


def _check_output_schema(transform: InferenceTransform, table: pa.Table) -> None:
    """What the model gave against what its spec declared (``float32[384]`` is 384 floats)."""
    for name, declared in transform.model.output_schema.items():
        column = transform.model_outputs().get(name, name)
        if column not in table.column_names:
            continue
        base, shape = parse_schema_type(declared, f"model.output_schema[{name!r}]")
        typ = table.schema.field(column).type
        if shape is not None and len(shape) == 1:
            if not pa.types.is_fixed_size_list(typ) or typ.list_size != shape[0]:
                got = f"vectors of {typ.list_size}" if pa.types.is_fixed_size_list(typ) else str(typ)
                raise InvalidInferenceError(
                    f"Model output {name!r} is declared {declared} and the model gave {got}.",
                    {"output": name, "declared": declared, "got": str(typ)},
                )
        elif base == "string" and not (pa.types.is_string(typ) or pa.types.is_large_string(typ)):
            raise InvalidInferenceError(
                f"Model output {name!r} is declared string and the model gave {typ}.", {"output": name}
            )


def _histogram(latencies: list[float]) -> dict[str, int]:
    values = np.asarray(latencies)
    out = {str(b): int((values <= b).sum()) for b in LATENCY_BUCKETS}
    out["+Inf"] = len(latencies)
    return out


def run_inference(
    transform: InferenceTransform,
    table: pa.Table,
    passthrough: list[str],
    *,
    log: Callable[[str], None] = print,
    cancelled: Callable[[], None] = lambda: None,
    progress: bool = True,
) -> InferenceOutput:
    """The model's outputs for ``table``'s rows, with ``passthrough`` columns (the keys)."""
    started_at = datetime.now(UTC)
    t_start = time.perf_counter()
    # Nothing a run loads may reach a model hub: the files are resolved here, offline.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    mapping = _check_inputs(transform, table)
    keep = [c for c in passthrough if c in table.column_names]
    absent = [c for c in passthrough if c not in table.column_names]
    if absent:
        raise InvalidInferenceError(
            f"Key column(s) {', '.join(absent)} are not in the source (its columns: {', '.join(table.column_names)}).",
            {"columns": absent},
        )
    inputs = {name: table.column(column).combine_chunks() for name, column in mapping.items()}
    plan = plan_devices(transform.accelerator)
    if plan.note:
        log(plan.note)
    resolved = resolve_model(transform.model)
    runtime = choose_runtime(transform, resolved)
    log(f"model {transform.model.uri} from {resolved.origin} ({runtime}) on {', '.join(plan.devices)}")
    t_load = time.perf_counter()
    shared: dict[str, Any] = {}
    shard = list(plan.devices) if plan.sharded and runtime == "transformers" else []
    if plan.sharded and not shard:
        log(f"only transformers models are split over GPUs; this {runtime} model runs on {plan.devices[0]}")
    models = [load_runtime(runtime, LoadContext(transform, resolved, d, log, shared, shard)) for d in plan.replicas]
    load_seconds = time.perf_counter() - t_load
    log(f"loaded in {load_seconds:.2f} s at {models[0].precision}")
    config = transform.batch_config
    rows = table.num_rows
    lengths = models[0].text_lengths(inputs) if config.dynamic_batching and rows else None
    batches = plan_batches(rows, config, lengths)
    runners = [_Runner(m, inputs, transform) for m in models]
    warmups = transform.runtime.warmup_batches if transform.runtime else (1 if plan.on_gpu else 0)
    t_warm = time.perf_counter()
    for runner in runners:
        for _ in range(min(warmups, len(batches))):
            runner.model.run(runner.model.prepare(runner.take(batches[0])))
    warmup_seconds = time.perf_counter() - t_warm

    outcomes: list[_BatchOutcome] = []
    max_queue = 0
    timed_out = 0
    prep_pool = ThreadPoolExecutor(max_workers=config.num_workers, thread_name_prefix="raise-prepare")
    devices = [ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"raise-model-{i}") for i in range(len(runners))]
    bar = _progress(rows, transform.name, progress)
    t_loop = time.perf_counter()
    with UsageSampler(plan) as usage:
        try:
            ahead = config.prefetch_batches + len(runners)
            prepared: deque[tuple[np.ndarray, Future[Any]]] = deque()
            next_batch = 0

            def fill() -> None:
                nonlocal next_batch
                while next_batch < len(batches) and len(prepared) < max(1, ahead):
                    batch = batches[next_batch]
                    prepared.append((batch, prep_pool.submit(_prepare_safely, runners[0], batch)))
                    next_batch += 1

            running: dict[int, tuple[Future[_BatchOutcome], float, np.ndarray]] = {}

            def collect(slot: int) -> None:
                nonlocal timed_out
                future, began, batch = running.pop(slot)
                remaining = config.timeout_seconds - (time.perf_counter() - began)
                try:
                    outcome = future.result(timeout=max(0.0, remaining))
                except FutureTimeout:
                    timed_out += 1
                    log(f"a batch of {len(batch)} ran past {config.timeout_seconds:g} s: its samples failed")
                    # The hung call keeps its thread; the device gets a fresh one for what follows.
                    devices[slot] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"raise-model-{slot}")
                    message = f"timed out after {config.timeout_seconds:g} s"
                    errors = [(int(r), message) for r in batch]
                    outcome = _BatchOutcome(batch, {}, np.arange(0), config.timeout_seconds, False, errors)
                outcomes.append(outcome)
                bar.update(len(outcome.rows))

            fill()
            while prepared or running:
                cancelled()
                free = [i for i in range(len(runners)) if i not in running]
                if prepared and free:
                    batch, ready = prepared.popleft()
                    max_queue = max(max_queue, sum(1 for _, f in prepared if f.done()) + 1)
                    slot = free[0]
                    running[slot] = (
                        devices[slot].submit(runners[slot].run, batch, ready.result()),
                        time.perf_counter(),
                        batch,
                    )
                    fill()
                    continue
                # Every device is busy (or nothing is left to start): wait for the oldest.
                collect(min(running, key=lambda i: running[i][1]))
        finally:
            bar.close()
            prep_pool.shutdown(wait=False, cancel_futures=True)
            for executor in devices:
                executor.shutdown(wait=False, cancel_futures=True)
            for model in models:
                model.close()
    loop_seconds = time.perf_counter() - t_loop
    result_table, processed, errors = _assemble(outcomes, table, keep, rows)
    _check_output_schema(transform, result_table)
    failed = rows - processed
    latencies = [o.latency for o in outcomes] or [0.0]
    sizes = [len(o.rows) for o in outcomes]
    result = InferenceResult(
        status="succeeded",
        total_samples=rows,
        processed_samples=processed,
        failed_samples=failed,
        throughput_samples_per_sec=processed / loop_seconds if loop_seconds > 0 else 0.0,
        duration_seconds=time.perf_counter() - t_start,
        avg_latency_ms=float(np.mean(latencies)) * 1000,
        p99_latency_ms=float(np.percentile(latencies, 99)) * 1000,
        gpu_utilization_pct=usage.utilization_pct,
        peak_memory_gb=usage.peak_memory_gb(),
        device=plan.devices[0],
        devices=list(plan.devices),
        fell_back_to_cpu=plan.fell_back,
        precision=models[0].precision,
        runtime=models[0].runtime,
        model_uri=transform.model.uri,
        model_version=transform.model.version,
        model_origin=resolved.origin,
        model_revision=resolved.revision,
        model_load_seconds=load_seconds,
        warmup_seconds=warmup_seconds,
        batches=len(outcomes),
        retried_batches=sum(1 for o in outcomes if o.retried),
        failed_batches=sum(1 for o in outcomes if len(o.ok_rows) < len(o.rows)),
        mean_batch_size=float(np.mean(sizes)) if sizes else 0.0,
        max_queue_depth=max_queue,
        batch_latency_histogram=_histogram([o.latency for o in outcomes]),
        batch_latency_sum_seconds=float(sum(o.latency for o in outcomes)),
        sample_errors=[{"row": r, "error": e[:500]} for r, e in errors[:_MAX_ERRORS]],
        transform=transform.name,
        started_at=started_at,
        completed_at=datetime.now(UTC),
    )
    if failed:
        log(f"{failed} of {rows} samples failed; first: row {errors[0][0]}: {errors[0][1][:300]}")
    limit = transform.batch_config.max_failure_rate
    if rows and (processed == 0 or failed / rows > limit):
        why = "every sample failed" if processed == 0 else f"{failed / rows:.1%} failed (more than {limit:.1%})"
        raise InferenceFailedError(
            f"Inference {transform.name} failed: {why}; first error (row {errors[0][0]}): {errors[0][1][:500]}. "
            "Nothing was written.",
            {"inference": result.to_dict()},
        )
    return InferenceOutput(result_table, result)


def _prepare_safely(runner: _Runner, batch: np.ndarray) -> Any:
    """A batch prepared ahead; a failure here is retried with the model run (None)."""
    try:
        return runner.model.prepare(runner.take(batch))
    except RaiseError:
        raise
    except Exception:
        return None


def _assemble(
    outcomes: list[_BatchOutcome], table: pa.Table, keep: list[str], rows: int
) -> tuple[pa.Table, int, list[tuple[int, str]]]:
    """The outputs in row order, joined to the kept columns; failed rows left out."""
    errors = sorted(e for o in outcomes for e in o.errors)
    good = [o for o in outcomes if len(o.ok_rows)]
    if not good:
        empty = table.select(keep).slice(0, 0)
        return empty, 0, errors
    row_ids = np.concatenate([o.rows[o.ok_rows] for o in good])
    order = pa.array(np.argsort(row_ids, kind="stable"))
    columns: dict[str, pa.Array] = {}
    for name in good[0].outputs:
        columns[name] = pa.concat_arrays([o.outputs[name] for o in good]).take(order)
    if not keep:  # nothing to keep beside the outputs (a model's validation)
        return pa.table(columns), len(row_ids), errors
    out = table.select(keep).take(pa.array(np.sort(row_ids)))
    for name, values in columns.items():
        if name in out.column_names:
            out = out.drop_columns([name])
        out = out.append_column(name, values)
    return out, len(row_ids), errors


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, name: str, enabled: bool) -> Any:
    if not enabled or total == 0:
        return _NoBar()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _NoBar()
    return tqdm(total=total, desc=f"inference {name}", unit="sample", mininterval=1.0)
