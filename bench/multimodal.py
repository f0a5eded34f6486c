"""Multimodal data (issue 22): scanning a folder of blobs with SHA256 checksums against a plain
``hashlib`` loop over the same files, the throughput of the five hash algorithms against SHA256,
and ``registry.validate_batch`` on local disk and on a local S3 server (moto), in refs/s.

A script, not a test: it prints one table per part and a summary, and optionally writes the
numbers as JSON.

    .venv/bin/python bench/multimodal.py                     # 10,000 files (1 KB-1 MB), ~1.5 GB
    .venv/bin/python bench/multimodal.py --files 200 --buffer-mb 32 --stream-mb 0 --s3-files 100

Data: a fresh temporary folder of ``--files`` files ``blob_00000.jpg``... (the extension names a
content type, so no scan sniffs a file's first bytes; the bytes are random: nothing here decodes
an image), sizes log-uniform between ``--min-kb`` and ``--max-kb`` KB, bytes from
``numpy.random.default_rng(--seed)``. A fresh temporary store (``RAISE_HOME``, ``RAISE_USER``
bench@acme, ``FeatureStore("bench/mm/scan")``: embedded, so the store reads the blobs in this
process). Every file is read once before any timing (the page cache holds them all), so every
figure measures hashing and the code around it, not the disk. MB = 10^6 bytes.

1. **Scan with SHA256**: ``MultimodalSource(name=..., uri_prefix=<folder>,
   compute_checksums=True).scan()`` (the SDK's door: the store's service, references as dicts and
   back) and ``scan(ScanSpec(uri_prefix=<folder>), BlobStore())`` (the scan itself, no store),
   both with the default ``max_concurrency`` (16 threads), against the anchor: a plain sequential
   loop ``hashlib.sha256(open(p, "rb").read()).hexdigest()`` over the folder's sorted listing.
   For context, the same scan with ``max_concurrency=1`` and the same hashlib call on 16 threads.
   ``--rounds`` rounds, interleaved, the order rotating; medians. Every scan's checksums and sizes
   must equal the anchor's. Aim: Raise ÷ anchor throughput ≥ 0.8×.
2. **Hash throughput**: ``hash_bytes(buffer, algorithm)`` of one ``--buffer-mb`` MB in-memory
   buffer for SHA256, SHA512, MD5, BLAKE3 and XXH3 (``raise_.multimodal.hashing``), ``--rounds``
   rounds interleaved, medians; with ``hashlib.sha256(buffer)`` and single-threaded
   ``blake3.blake3(buffer, max_threads=1)`` for context (Raise's BLAKE3 uses every core). Then a
   ``--stream-mb`` MB file streamed through ``hash_stream`` (4 MB chunks), once per algorithm,
   with ``hashlib.file_digest`` as SHA256's anchor.
3. **validate_batch on local disk**: the scan's references registered with
   ``BlobRegistry(name=..., policy=IntegrityPolicy.lazy()).register_many(refs)`` (lazy: nothing
   validated on registering), then ``registry.validate_batch(force=True)`` (every reference, the
   cache bypassed: each blob stat'ed and hashed again, each result recorded in the catalog)
   against a sequential loop of ``os.stat`` (size) + ``hashlib.sha256`` (checksum) compared with
   the reference; ``validate_references(refs, BlobStore())`` (no catalog) for the split; and
   ``registry.find_orphans()`` (existence only) against a loop of ``os.stat``. ``--validate-rounds``
   rounds, interleaved; medians. Every result must be valid, no orphan found.
4. **S3 (moto server on loopback, ``tests/local_s3.py``)**: every k-th file (``--s3-files`` of
   them, the same spread of sizes) uploaded to ``s3://bench/blobs/``; ``MultimodalSource`` scan of
   the prefix against a sequential s3fs loop (listing, then ``cat_file`` + sha256 per object);
   ``validate_batch(force=True)`` against a sequential s3fs loop of ``info`` + ``cat_file`` +
   sha256 per reference (and, for context, that loop on 16 threads); ``find_orphans()`` against a
   sequential ``info`` loop. ``--s3-rounds`` rounds. The checksums must equal the local anchor's.
   moto answers from one Python process, so these figures bound what the local server serves more
   than what Raise does.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import blake3
import moto
import numpy as np
import s3fs
import xxhash
from _machine import machine_info, machine_line
from _timing import table_lines

import raise_
from raise_ import BlobRegistry, FeatureStore, IntegrityPolicy, MultimodalSource
from raise_.engine import Engine
from raise_.multimodal.blobstore import BlobStore
from raise_.multimodal.hashing import HashAlgorithm, hash_bytes, hash_stream
from raise_.multimodal.scanning import ScanSpec, scan
from raise_.multimodal.validation import DEFAULT_CONCURRENCY, BlobStatus, validate_references

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from local_s3 import local_s3

PROJECT = "bench/mm/scan"
AIM_SCAN_RATIO = 0.8  # Raise scan ÷ hashlib loop, throughput
MB = 1_000_000
BUCKET = "bench"
ALGORITHMS = [HashAlgorithm.SHA256, HashAlgorithm.SHA512, HashAlgorithm.MD5, HashAlgorithm.BLAKE3, HashAlgorithm.XXH3]


# -- data -----------------------------------------------------------------------------------------


def make_files(folder: Path, n: int, min_bytes: int, max_bytes: int, seed: int) -> list[Path]:
    """``n`` files of random bytes, sizes log-uniform in [min_bytes, max_bytes]."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    sizes = np.exp(rng.uniform(math.log(min_bytes), math.log(max_bytes), n)).astype(np.int64)
    paths = []
    for i, size in enumerate(sizes):
        path = folder / f"blob_{i:05d}.jpg"
        path.write_bytes(rng.bytes(int(size)))
        paths.append(path)
    return paths


def warm(paths: list[Path]) -> int:
    """Read every file once (the page cache keeps them); their total size."""
    total = 0
    for p in paths:
        with open(p, "rb") as f:
            total += len(f.read())
    return total


# -- part 1: scan ---------------------------------------------------------------------------------


def hashlib_loop(folder: Path) -> dict[str, tuple[str, int]]:
    """The anchor: list the folder, then read and hash each file in turn."""
    out = {}
    for path in sorted(e.path for e in os.scandir(folder) if e.is_file()):
        with open(path, "rb") as f:
            data = f.read()
        out[path] = (hashlib.sha256(data).hexdigest(), len(data))
    return out


def hashlib_threads(folder: Path, workers: int) -> dict[str, tuple[str, int]]:
    def one(path: str) -> tuple[str, int]:
        with open(path, "rb") as f:
            data = f.read()
        return hashlib.sha256(data).hexdigest(), len(data)

    paths = sorted(e.path for e in os.scandir(folder) if e.is_file())
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip(paths, pool.map(one, paths), strict=True))


def local_path(uri: str) -> str:
    return uri[len("file://") :] if uri.startswith("file://") else uri


def as_digests(refs: list[Any]) -> dict[str, tuple[str, int]]:
    return {local_path(r.uri): (r.checksum, r.size_bytes) for r in refs}


def interleaved(fns: dict[str, Callable[[], Any]], rounds: int) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Each function once per round, the order rotating; seconds, and each one's last answer."""
    names = list(fns)
    times: dict[str, list[float]] = {k: [] for k in names}
    answers: dict[str, Any] = {}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            t0 = time.perf_counter()
            answers[name] = fns[name]()
            times[name].append(time.perf_counter() - t0)
    return times, answers


def bench_scan(folder: Path, n: int, total: int, rounds: int) -> tuple[dict[str, Any], list[Any]]:
    store = BlobStore()
    fns: dict[str, Callable[[], Any]] = {
        "anchor": lambda: hashlib_loop(folder),
        "source": lambda: MultimodalSource(name="bench_scan", uri_prefix=str(folder), compute_checksums=True).scan(),
        "scan": lambda: scan(ScanSpec(uri_prefix=str(folder), compute_checksums=True), store),
        "scan1": lambda: scan(ScanSpec(uri_prefix=str(folder), compute_checksums=True, max_concurrency=1), store),
        "threads": lambda: hashlib_threads(folder, DEFAULT_CONCURRENCY),
    }
    times, answers = interleaved(fns, rounds)
    want = answers["anchor"]
    if len(want) != n:
        raise SystemExit(f"the anchor hashed {len(want)} files, not {n}")
    for name in ("source", "scan", "scan1"):
        got = as_digests(answers[name])
        if got != want:
            differ = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
            raise SystemExit(f"{name}: {len(differ)} checksum(s) differ from hashlib's (first: {differ[:3]})")
    if answers["threads"] != want:
        raise SystemExit("hashlib on threads differs from hashlib in a loop")
    out: dict[str, Any] = {"files": n, "bytes": total, "rounds": rounds, "seconds": times}
    for name, series in times.items():
        s = statistics.median(series)
        out[name] = {"median_s": s, "files_per_s": n / s, "mb_per_s": total / MB / s}
    for name in ("source", "scan", "scan1", "threads"):
        out[name]["ratio"] = out[name]["files_per_s"] / out["anchor"]["files_per_s"]
    return out, answers["source"]


def print_scan(r: dict[str, Any]) -> list[str]:
    def row(label: str, key: str, aim: bool) -> list[str]:
        e = r[key]
        ratio = e.get("ratio")
        verdict = "" if not aim else " (met)" if ratio >= AIM_SCAN_RATIO else " (**not met**)"
        return [
            label,
            f"{e['median_s']:.2f}",
            f"{e['files_per_s']:,.0f}",
            f"{e['mb_per_s']:,.0f}",
            "1.00×" if ratio is None else f"{ratio:.2f}×{verdict}",
        ]

    rows = [
        row("MultimodalSource(...).scan()", "source", True),
        row("scan(ScanSpec(...), BlobStore())", "scan", True),
        row("scan(ScanSpec(..., max_concurrency=1), ...) (context)", "scan1", False),
        row("anchor: hashlib loop (sequential)", "anchor", False),
        row(f"hashlib on {DEFAULT_CONCURRENCY} threads (context)", "threads", False),
    ]
    header = [f"scan, SHA256, {r['files']:,} files, {r['bytes'] / MB:,.0f} MB", "s", "files/s", "MB/s", "÷ anchor"]
    return [*table_lines(header, rows), "", f"median of {r['rounds']} rounds; every checksum equals hashlib's"]


# -- part 2: hash throughput ----------------------------------------------------------------------


def bench_hashes(folder: Path, buffer_mb: int, stream_mb: int, rounds: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed + 1)
    buffer = rng.bytes(buffer_mb * MB)
    fns: dict[str, Callable[[], Any]] = {a.name: (lambda a=a: hash_bytes(buffer, a)) for a in ALGORITHMS}
    fns["hashlib.sha256"] = lambda: hashlib.sha256(buffer).hexdigest()
    fns["blake3, 1 thread"] = lambda: blake3.blake3(buffer, max_threads=1).hexdigest()
    times, answers = interleaved(fns, rounds)
    checks = {
        "SHA256": hashlib.sha256(buffer).hexdigest(),
        "SHA512": hashlib.sha512(buffer).hexdigest(),
        "MD5": hashlib.md5(buffer, usedforsecurity=False).hexdigest(),
        "BLAKE3": blake3.blake3(buffer).hexdigest(),
        "XXH3": xxhash.xxh3_128_hexdigest(buffer),
    }
    for name, want in checks.items():
        if answers[name] != want:
            raise SystemExit(f"hash_bytes {name} differs from the library's own digest")
    out: dict[str, Any] = {"buffer_mb": buffer_mb, "rounds": rounds, "buffer": {}, "stream_mb": stream_mb, "stream": {}}
    for name, series in times.items():
        s = statistics.median(series)
        out["buffer"][name] = {"median_s": s, "mb_per_s": buffer_mb / s}
    base = out["buffer"]["SHA256"]["mb_per_s"]
    for e in out["buffer"].values():
        e["ratio"] = e["mb_per_s"] / base
    if stream_mb:
        path = folder / "stream.bin"
        with open(path, "wb") as f:
            for _ in range(stream_mb // 64):
                f.write(rng.bytes(64 * MB))
            f.write(rng.bytes(stream_mb % 64 * MB))
        warm([path])

        def streamed(a: HashAlgorithm) -> str:
            with open(path, "rb") as f:
                return hash_stream(f, a)[0]

        def file_digest() -> str:
            with open(path, "rb") as f:
                return hashlib.file_digest(f, "sha256").hexdigest()

        sfns: dict[str, Callable[[], Any]] = {a.name: (lambda a=a: streamed(a)) for a in ALGORITHMS}
        sfns["hashlib.file_digest sha256"] = file_digest
        stimes, sanswers = interleaved(sfns, 1)
        if sanswers["SHA256"] != sanswers["hashlib.file_digest sha256"]:
            raise SystemExit("hash_stream SHA256 differs from hashlib.file_digest")
        path.unlink()
        for name, series in stimes.items():
            out["stream"][name] = {"seconds": series[0], "mb_per_s": stream_mb / series[0]}
        sbase = out["stream"]["SHA256"]["mb_per_s"]
        for e in out["stream"].values():
            e["ratio"] = e["mb_per_s"] / sbase
    return out


def print_hashes(r: dict[str, Any]) -> list[str]:
    names = [a.name for a in ALGORITHMS]
    rows = []
    for name in [*names, "hashlib.sha256", "blake3, 1 thread", "hashlib.file_digest sha256"]:
        b = r["buffer"].get(name)
        s = r["stream"].get(name)
        if b is None and s is None:
            continue
        label = f"hash_bytes / hash_stream {name}" if name in names else f"{name} (context)"
        rows.append(
            [
                label,
                f"{b['mb_per_s']:,.0f}" if b else "—",
                f"{b['ratio']:.2f}×" if b else "—",
                f"{s['mb_per_s']:,.0f}" if s else "—",
                f"{s['ratio']:.2f}×" if s else "—",
            ]
        )
    header = [
        "hash throughput",
        f"{r['buffer_mb']} MB buffer (MB/s)",
        "÷ SHA256",
        f"{r['stream_mb']} MB file streamed (MB/s)" if r["stream"] else "file streamed",
        "÷ SHA256",
    ]
    note = f"buffer: median of {r['rounds']} rounds" + ("; file: one pass each, page cache warm" if r["stream"] else "")
    return [*table_lines(header, rows), "", note]


# -- part 3: validate_batch on local disk ---------------------------------------------------------


def stat_hash_loop(refs: list[Any]) -> int:
    """The anchor: per reference, ``os.stat`` for the size, then read + sha256; the valid count."""
    valid = 0
    for ref in refs:
        path = local_path(ref.uri)
        if os.stat(path).st_size != ref.size_bytes:
            continue
        with open(path, "rb") as f:
            valid += hashlib.sha256(f.read()).hexdigest() == ref.checksum
    return valid


def stat_loop(refs: list[Any]) -> int:
    found = 0
    for ref in refs:
        with contextlib.suppress(FileNotFoundError):
            os.stat(local_path(ref.uri))
            found += 1
    return found


def all_valid(label: str, results: list[Any], n: int) -> None:
    bad = [r for r in results if r.status is not BlobStatus.VALID]
    if len(results) != n or bad:
        first = bad[0] if bad else None
        raise SystemExit(f"{label}: {len(results)} results for {n} references, {len(bad)} not valid (first: {first})")


def refs_entry(times: list[float], n: int) -> dict[str, Any]:
    s = statistics.median(times)
    return {"median_s": s, "refs_per_s": n / s, "seconds": times}


def bench_validate_local(refs: list[Any], rounds: int) -> dict[str, Any]:
    n = len(refs)
    registry = BlobRegistry(name="local_blobs", policy=IntegrityPolicy.lazy())
    t0 = time.perf_counter()
    held = registry.register_many(refs)
    register_s = time.perf_counter() - t0
    if len(held) != n or len(registry) != n:
        raise SystemExit(f"registered {len(held)} of {n} references")
    store = BlobStore()
    fns: dict[str, Callable[[], Any]] = {
        "validate_batch": lambda: registry.validate_batch(force=True),
        "validate_references": lambda: validate_references(held, store),
        "anchor": lambda: stat_hash_loop(held),
    }
    times, answers = interleaved(fns, rounds)
    all_valid("validate_batch", answers["validate_batch"], n)
    all_valid("validate_references", answers["validate_references"], n)
    if answers["anchor"] != n:
        raise SystemExit(f"the anchor found {answers['anchor']} of {n} blobs valid")
    otimes, oanswers = interleaved({"find_orphans": registry.find_orphans, "anchor": lambda: stat_loop(held)}, rounds)
    if oanswers["find_orphans"] or oanswers["anchor"] != n:
        raise SystemExit(f"find_orphans found {len(oanswers['find_orphans'])} orphan(s) of files that exist")
    out: dict[str, Any] = {
        "refs": n,
        "rounds": rounds,
        "register_many": {"seconds": register_s, "refs_per_s": n / register_s},
        **{k: refs_entry(v, n) for k, v in times.items()},
        "find_orphans": refs_entry(otimes["find_orphans"], n),
        "orphans_anchor": refs_entry(otimes["anchor"], n),
    }
    for key in ("validate_batch", "validate_references"):
        out[key]["ratio"] = out[key]["refs_per_s"] / out["anchor"]["refs_per_s"]
    out["find_orphans"]["ratio"] = out["find_orphans"]["refs_per_s"] / out["orphans_anchor"]["refs_per_s"]
    return out


# -- part 4: S3 -----------------------------------------------------------------------------------


def s3_scan_loop(fs: Any, prefix: str) -> dict[str, tuple[str, int]]:
    """The S3 scan anchor: one listing, then read + sha256 of each object in turn."""
    out = {}
    for key in sorted(fs.find(prefix)):
        data = fs.cat_file(key)
        out[f"s3://{key}"] = (hashlib.sha256(data).hexdigest(), len(data))
    return out


def s3_validate_loop(fs: Any, refs: list[Any]) -> int:
    """The S3 validation anchor: per reference, ``info`` (HEAD: size), then read + sha256."""
    valid = 0
    for ref in refs:
        if fs.info(ref.uri)["size"] != ref.size_bytes:
            continue
        valid += hashlib.sha256(fs.cat_file(ref.uri)).hexdigest() == ref.checksum
    return valid


def s3_validate_threads(fs: Any, refs: list[Any], workers: int) -> int:
    """The same on ``workers`` threads: how far the server itself lets concurrency go."""

    def one(ref: Any) -> bool:
        if fs.info(ref.uri)["size"] != ref.size_bytes:
            return False
        return hashlib.sha256(fs.cat_file(ref.uri)).hexdigest() == ref.checksum

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(one, refs))


def s3_info_loop(fs: Any, refs: list[Any]) -> int:
    found = 0
    for ref in refs:
        with contextlib.suppress(FileNotFoundError):
            fs.invalidate_cache(ref.uri)
            fs.info(ref.uri)
            found += 1
    return found


def bench_s3(paths: list[Path], want: dict[str, tuple[str, int]], count: int, rounds: int) -> dict[str, Any]:
    step = max(1, len(paths) // max(count, 1))
    subset = paths[::step][:count]
    n = len(subset)
    nbytes = sum(want[str(p)][1] for p in subset)
    prefix = f"{BUCKET}/blobs"
    with local_s3():
        # The anchors' own s3fs client (as the store's BlobStore makes it: no listings cache).
        fs = s3fs.S3FileSystem(skip_instance_cache=True, use_listings_cache=False)
        fs.mkdir(BUCKET)
        t0 = time.perf_counter()
        fs.put([str(p) for p in subset], [f"{prefix}/{p.name}" for p in subset])
        upload_s = time.perf_counter() - t0
        print(f"  uploaded {n:,} objects ({nbytes / MB:,.0f} MB) to moto in {upload_s:.1f} s", flush=True)
        expected = {f"s3://{prefix}/{p.name}": want[str(p)] for p in subset}
        source = MultimodalSource(name="bench_s3", uri_prefix=f"s3://{prefix}/", compute_checksums=True)
        stimes, sanswers = interleaved({"scan": source.scan, "anchor": lambda: s3_scan_loop(fs, prefix)}, rounds)
        for name in ("scan", "anchor"):
            got = as_digests(sanswers[name]) if name == "scan" else sanswers[name]
            if got != expected:
                raise SystemExit(f"S3 {name}: checksums differ from the local files' (or objects are missing)")
        refs = sanswers["scan"]
        registry = BlobRegistry(name="s3_blobs", policy=IntegrityPolicy.lazy())
        t0 = time.perf_counter()
        held = registry.register_many(refs)
        register_s = time.perf_counter() - t0
        vtimes, vanswers = interleaved(
            {
                "validate_batch": lambda: registry.validate_batch(force=True),
                "anchor": lambda: s3_validate_loop(fs, held),
                "threads": lambda: s3_validate_threads(fs, held, DEFAULT_CONCURRENCY),
            },
            rounds,
        )
        all_valid("S3 validate_batch", vanswers["validate_batch"], n)
        if vanswers["anchor"] != n or vanswers["threads"] != n:
            raise SystemExit(f"the S3 anchor found {vanswers['anchor']} of {n} objects valid")
        otimes, oanswers = interleaved(
            {"find_orphans": registry.find_orphans, "anchor": lambda: s3_info_loop(fs, held)}, rounds
        )
        if oanswers["find_orphans"] or oanswers["anchor"] != n:
            raise SystemExit(f"S3 find_orphans found {len(oanswers['find_orphans'])} orphan(s) of existing objects")
    out: dict[str, Any] = {
        "objects": n,
        "bytes": nbytes,
        "rounds": rounds,
        "upload_s": upload_s,
        "register_many": {"seconds": register_s, "refs_per_s": n / register_s},
        "scan": refs_entry(stimes["scan"], n),
        "scan_anchor": refs_entry(stimes["anchor"], n),
        "validate_batch": refs_entry(vtimes["validate_batch"], n),
        "anchor": refs_entry(vtimes["anchor"], n),
        "threads": refs_entry(vtimes["threads"], n),
        "find_orphans": refs_entry(otimes["find_orphans"], n),
        "orphans_anchor": refs_entry(otimes["anchor"], n),
    }
    out["scan"]["ratio"] = out["scan"]["refs_per_s"] / out["scan_anchor"]["refs_per_s"]
    for key in ("validate_batch", "threads"):
        out[key]["ratio"] = out[key]["refs_per_s"] / out["anchor"]["refs_per_s"]
    out["find_orphans"]["ratio"] = out["find_orphans"]["refs_per_s"] / out["orphans_anchor"]["refs_per_s"]
    for key in ("scan", "scan_anchor", "validate_batch", "anchor"):
        out[key]["mb_per_s"] = nbytes / MB / out[key]["median_s"]
    return out


def print_validation(local: dict[str, Any], s3: dict[str, Any] | None) -> list[str]:
    def row(label: str, e: dict[str, Any]) -> list[str]:
        ratio = e.get("ratio")
        return [label, f"{e['median_s']:.2f}", f"{e['refs_per_s']:,.0f}", "1.00×" if ratio is None else f"{ratio:.2f}×"]

    n = local["refs"]
    rows = [
        row(f"local, {n:,} refs: registry.validate_batch(force=True)", local["validate_batch"]),
        row("local: validate_references(refs, BlobStore()) (no catalog)", local["validate_references"]),
        row("local anchor: os.stat + hashlib.sha256 loop", local["anchor"]),
        row("local: registry.find_orphans() (existence only)", local["find_orphans"]),
        row("local anchor: os.stat loop", local["orphans_anchor"]),
    ]
    if s3 is not None:
        m = s3["objects"]
        rows += [
            row(f"S3, {m:,} objects: MultimodalSource(s3://...).scan()", s3["scan"]),
            row("S3 anchor: listing + s3fs cat_file + sha256 loop", s3["scan_anchor"]),
            row("S3: registry.validate_batch(force=True)", s3["validate_batch"]),
            row("S3 anchor: s3fs info + cat_file + sha256 loop", s3["anchor"]),
            row(f"S3 anchor on {DEFAULT_CONCURRENCY} threads (context)", s3["threads"]),
            row("S3: registry.find_orphans() (existence only)", s3["find_orphans"]),
            row("S3 anchor: s3fs info loop", s3["orphans_anchor"]),
        ]
    lines = table_lines(["validation", "s", "refs/s", "÷ anchor"], rows)
    lines += [
        "",
        f"register_many (lazy policy, nothing read): local {n:,} refs in {local['register_many']['seconds']:.2f} s "
        f"({local['register_many']['refs_per_s']:,.0f} refs/s)"
        + (
            f"; S3 {s3['objects']:,} in {s3['register_many']['seconds']:.2f} s "
            f"({s3['register_many']['refs_per_s']:,.0f} refs/s)"
            if s3
            else ""
        ),
        f"local: median of {local['rounds']} rounds"
        + (f"; S3: median of {s3['rounds']} round(s)" if s3 else "")
        + "; every result valid, no orphans",
    ]
    return lines


def summary(report: dict[str, Any]) -> list[str]:
    s, h, v, s3 = report["scan"], report["hashes"], report["validate_local"], report.get("s3")
    rows = [
        [
            f"scan SHA256, {s['files']:,} local files (files/s)",
            f"{s['source']['files_per_s']:,.0f}",
            f"{s['anchor']['files_per_s']:,.0f}",
            f"{s['source']['ratio']:.2f}×",
            f"≥ {AIM_SCAN_RATIO}× {'met' if s['source']['ratio'] >= AIM_SCAN_RATIO else 'NOT met'}",
        ],
        [
            "scan SHA256, same (MB/s)",
            f"{s['source']['mb_per_s']:,.0f}",
            f"{s['anchor']['mb_per_s']:,.0f}",
            f"{s['source']['ratio']:.2f}×",
            "",
        ],
    ]
    for a in ALGORITHMS[1:]:
        rows.append(
            [
                f"{a.name} vs SHA256, {h['buffer_mb']} MB buffer (MB/s)",
                f"{h['buffer'][a.name]['mb_per_s']:,.0f}",
                f"{h['buffer']['SHA256']['mb_per_s']:,.0f}",
                f"{h['buffer'][a.name]['ratio']:.2f}×",
                "",
            ]
        )
    rows.append(
        [
            f"validate_batch, {v['refs']:,} local refs (refs/s)",
            f"{v['validate_batch']['refs_per_s']:,.0f}",
            f"{v['anchor']['refs_per_s']:,.0f}",
            f"{v['validate_batch']['ratio']:.2f}×",
            "report",
        ]
    )
    if s3:
        rows.append(
            [
                f"validate_batch, {s3['objects']:,} S3 refs (refs/s)",
                f"{s3['validate_batch']['refs_per_s']:,.0f}",
                f"{s3['anchor']['refs_per_s']:,.0f}",
                f"{s3['validate_batch']['ratio']:.2f}×",
                "report",
            ]
        )
    return table_lines(["summary", "Raise", "anchor", "Raise ÷ anchor", "aim"], rows)


# -- main -----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--min-kb", type=float, default=1.0)
    parser.add_argument("--max-kb", type=float, default=1024.0)
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the scans and the buffer hashes")
    parser.add_argument("--validate-rounds", type=int, default=2, help="rounds of the validations (local and S3)")
    parser.add_argument("--buffer-mb", type=int, default=256)
    parser.add_argument("--stream-mb", type=int, default=1024, help="0: skip the streamed file")
    parser.add_argument("--s3-files", type=int, default=1_000, help="0: skip S3")
    parser.add_argument("--s3-rounds", type=int, default=1, help="rounds of the S3 scans and validations")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    machine = machine_info(
        raise_=raise_.__version__,
        blake3=blake3.__version__,
        xxhash=xxhash.VERSION,
        s3fs=s3fs.__version__,
        moto=moto.__version__,
        openssl=__import__("ssl").OPENSSL_VERSION,
    )
    print(machine_line(machine))
    print(
        f"python {machine['python']}, raise {raise_.__version__}, {machine['openssl']}, blake3 {blake3.__version__}, "
        f"xxhash {xxhash.VERSION}, s3fs {s3fs.__version__}, moto {moto.__version__}",
        flush=True,
    )
    report: dict[str, Any] = {"machine": machine, "args": {k: str(v) for k, v in vars(args).items()}}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="raise-bench-mm-") as tmp:
        root = Path(tmp)
        os.environ["RAISE_HOME"] = str(root / "home")
        os.environ["RAISE_USER"] = "bench@acme"
        folder = root / "blobs"
        t0 = time.perf_counter()
        paths = make_files(folder, args.files, int(args.min_kb * 1024), int(args.max_kb * 1024), args.seed)
        total = warm(paths)
        print(
            f"\nwrote {args.files:,} files, {total / MB:,.1f} MB ({args.min_kb:g} KB-{args.max_kb:g} KB, log-uniform) "
            f"in {time.perf_counter() - t0:.1f} s; every file read once (page cache warm)",
            flush=True,
        )
        FeatureStore(PROJECT)

        print("\n1. scan with SHA256", flush=True)
        report["scan"], refs = bench_scan(folder, args.files, total, args.rounds)
        print("\n".join(print_scan(report["scan"])), flush=True)

        print("\n2. hash throughput", flush=True)
        report["hashes"] = bench_hashes(root, args.buffer_mb, args.stream_mb, args.rounds, args.seed)
        print("\n".join(print_hashes(report["hashes"])), flush=True)

        print("\n3. validate_batch, local disk", flush=True)
        report["validate_local"] = bench_validate_local(refs, args.validate_rounds)
        if args.s3_files:
            print("\n4. S3 (moto on loopback)", flush=True)
            want = hashlib_loop(folder)
            report["s3"] = bench_s3(paths, want, args.s3_files, args.s3_rounds)
        print("\n".join(["", *print_validation(report["validate_local"], report.get("s3"))]), flush=True)
        Engine.close_all()
    report["wall_s"] = time.perf_counter() - started
    print("\n" + "\n".join(summary(report)))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nwall time {report['wall_s']:.0f} s; load average at the end {load}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
