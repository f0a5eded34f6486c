"""Kubernetes Job manifests (issue 21, item 4): generating and validating the manifests of 1,000
runs, against the same 1,000 manifests written as plain dict literals and validated the same way.

A script, not a test: it prints a table and optionally writes the numbers as JSON.

    .venv/bin/python bench/k8s_manifests.py                 # 1,000 runs, 7 rounds
    .venv/bin/python bench/k8s_manifests.py --runs 200 --rounds 3 --json out.json

The runs (``random.Random(seed)``): 60% CPU only (1, 2, 4 or 8 cores or ``"500m"``, 2–64 GiB,
half with 20 GiB of scratch disk), 40% with 1, 2, 4 or 8 GPUs of a type drawn from the seven
:class:`GPUType` members; kinds ``job-compute`` and ``inference``; two thirds with a timeout (60 s
to 4 h, fractional). One :class:`KubernetesConfig` for all, with every part a manifest can have:
server URL, token and catalog Secrets, a home claim, a service account, a node selector, two
tolerations, labels.

- **Raise**: per run, ``ResourceRequest(...)`` → ``run_job_manifest(...)`` (the official client's
  models) → ``manifest_dict`` (``ApiClient.sanitize_for_serialization``) → ``validate_manifest``
  (Kubernetes 1.37's strict schema). Also timed apart: the generation alone.
- **Anchor**: per run, the same manifest as one nested dict literal (quantities already as text),
  then the same ``validate_manifest``. Also timed apart: the literals alone.
- Context, not in the aim: ``kubernetes_validate.validate(data, "1.37.0", strict=True)`` called
  directly, which reads and compiles the schema on every call, on ``--direct`` manifests,
  extrapolated to the run count; and the one-time costs of importing the client and compiling
  the schema.

Both sides must produce equal dicts for every run (checked before timing). Rounds interleave
Raise and the anchor (``time_calls``) after one warm-up round; medians. Aim: Raise's
generation + validation of 1,000 manifests < 2 s.
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from _machine import machine_info, machine_line
from _timing import table_lines, time_calls

import raise_

AIM_SECONDS = 2.0


def make_runs(count: int, seed: int, gpu_types: list[Any]) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    runs = []
    for _ in range(count):
        gpu = rng.random() < 0.4
        runs.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "kind": rng.choice(["job-compute", "inference"]),
                "cpu": rng.choice([1, 2, 4, 8, "500m"]),
                "memory": f"{rng.choice([2, 4, 8, 16, 32, 64])}Gi",
                "ephemeral_storage": "20Gi" if rng.random() < 0.5 else None,
                "gpu_count": rng.choice([1, 2, 4, 8]) if gpu else 0,
                "gpu_type": rng.choice(gpu_types) if gpu else None,
                "timeout": round(rng.uniform(60, 4 * 3600), 1) if rng.random() < 2 / 3 else None,
            }
        )
    return runs


def by_hand(run: dict[str, Any], config: Any) -> dict[str, Any]:
    """The manifest of ``run`` as a plain literal: what a hand-written template would produce."""
    labels = {
        **config.labels,
        "app.kubernetes.io/name": "raise",
        "raise.dev/run-id": run["id"],
        "raise.dev/kind": run["kind"],
    }
    cpu = run["cpu"] if isinstance(run["cpu"], str) else str(run["cpu"])
    requests = {"cpu": cpu, "memory": run["memory"]}
    limits = {"memory": run["memory"]}
    if run["ephemeral_storage"]:
        requests["ephemeral-storage"] = limits["ephemeral-storage"] = run["ephemeral_storage"]
    node_selector = dict(config.node_selector)
    tolerations = [dict(t) for t in config.tolerations]
    if run["gpu_count"]:
        limits["nvidia.com/gpu"] = str(run["gpu_count"])
        node_selector[config.gpu_node_label] = run["gpu_type"].value
        tolerations.append({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"})
    spec: dict[str, Any] = {
        "backoffLimit": config.backoff_limit,
        "template": {
            "metadata": {"labels": dict(labels)},
            "spec": {
                "containers": [
                    {
                        "name": "raise",
                        "image": config.image,
                        "imagePullPolicy": config.image_pull_policy,
                        "command": ["raise", "run", run["id"]],
                        "env": [
                            {"name": "RAISE_URL", "value": config.raise_url},
                            {
                                "name": "RAISE_TOKEN",
                                "valueFrom": {
                                    "secretKeyRef": {"name": config.token_secret, "key": config.token_secret_key}
                                },
                            },
                            {
                                "name": "RAISE_CATALOG_URL",
                                "valueFrom": {
                                    "secretKeyRef": {"name": config.catalog_secret, "key": config.catalog_secret_key}
                                },
                            },
                            {"name": "RAISE_HOME", "value": config.home_mount_path},
                            {"name": "RAISE_BACKGROUND", "value": "0"},
                        ],
                        "resources": {"requests": requests, "limits": limits},
                        "volumeMounts": [{"name": "raise-home", "mountPath": config.home_mount_path}],
                        "securityContext": {
                            "runAsNonRoot": True,
                            "allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]},
                            "seccompProfile": {"type": "RuntimeDefault"},
                        },
                    }
                ],
                "restartPolicy": "Never",
                "serviceAccountName": config.service_account,
                "nodeSelector": node_selector,
                "tolerations": tolerations,
                "volumes": [{"name": "raise-home", "persistentVolumeClaim": {"claimName": config.home_claim}}],
            },
        },
        "ttlSecondsAfterFinished": config.ttl_seconds_after_finished,
    }
    if run["timeout"] is not None:
        spec["activeDeadlineSeconds"] = max(1, -int(-run["timeout"] // 1))
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": f"raise-run-{run['kind']}-{uuid.UUID(run['id']).hex[:12]}",
            "namespace": config.namespace,
            "labels": labels,
        },
        "spec": spec,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--direct", type=int, default=50, help="manifests validated by kubernetes_validate.validate")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    start = time.perf_counter()
    k8s = importlib.import_module("raise_.orchestration.kubernetes")  # imports the kubernetes client
    import_s = time.perf_counter() - start
    import kubernetes
    import kubernetes_validate

    machine = machine_info(raise_=raise_.__version__, kubernetes=kubernetes.__version__)
    machine["kubernetes_validate"] = importlib.metadata.version("kubernetes-validate")
    print(machine_line(machine))
    print(f"kubernetes client {kubernetes.__version__}, kubernetes-validate {machine['kubernetes_validate']}")
    print(f"command: python bench/k8s_manifests.py {' '.join(sys.argv[1:])}".rstrip(), flush=True)

    config = k8s.KubernetesConfig(
        raise_url="https://raise.example.com",
        catalog_secret="raise-catalog",
        home_claim="raise-home",
        service_account="raise-runner",
        node_selector={"cloud.google.com/gke-nodepool": "batch"},
        tolerations=[
            {"key": "dedicated", "operator": "Equal", "value": "raise", "effect": "NoSchedule"},
            {"key": "spot", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        ],
        labels={"team": "features"},
    )
    runs = make_runs(args.runs, args.seed, list(k8s.GPUType))

    def generate(run: dict[str, Any]) -> dict[str, Any]:
        resources = k8s.ResourceRequest(
            cpu=run["cpu"],
            memory=run["memory"],
            gpu_count=run["gpu_count"],
            gpu_type=run["gpu_type"],
            ephemeral_storage=run["ephemeral_storage"],
        )
        job = k8s.run_job_manifest(run["id"], run["kind"], config, resources, deadline_seconds=run["timeout"])
        data: dict[str, Any] = k8s.manifest_dict(job)
        return data

    start = time.perf_counter()
    k8s.validate_manifest(generate(runs[0]))
    first_s = time.perf_counter() - start  # the schema read and compiled once

    mismatched = [r["id"] for r in runs if generate(r) != by_hand(r, config)]
    if mismatched:
        raise SystemExit(f"{len(mismatched)} hand-written manifests differ from Raise's, e.g. run {mismatched[0]}")
    print(f"{args.runs:,} runs: {sum(1 for r in runs if r['gpu_count'])} with GPUs; both sides build equal dicts")

    def raise_total() -> None:
        for run in runs:
            k8s.validate_manifest(generate(run))

    def raise_generate() -> None:
        for run in runs:
            generate(run)

    def anchor_total() -> None:
        for run in runs:
            k8s.validate_manifest(by_hand(run, config))

    def anchor_literals() -> None:
        for run in runs:
            by_hand(run, config)

    series = time_calls([raise_total, anchor_total, raise_generate, anchor_literals], n=args.rounds, warmup=1)
    medians = [statistics.median(s) / 1e9 for s in series]
    raise_s, anchor_s, generate_s, literal_s = medians

    sample = [by_hand(r, config) for r in runs[: args.direct]]
    start = time.perf_counter()
    for data in sample:
        kubernetes_validate.validate(data, "1.37.0", strict=True)
    direct_s = (time.perf_counter() - start) / len(sample) * args.runs

    rows = [
        ["generation + validation", f"{raise_s:.3f}", f"{anchor_s:.3f}", f"{raise_s / anchor_s:.2f}×"],
        ["generation only", f"{generate_s:.3f}", f"{literal_s:.3f}", f"{generate_s / literal_s:.1f}×"],
        ["validation (by difference)", f"{raise_s - generate_s:.3f}", f"{anchor_s - literal_s:.3f}", ""],
    ]
    lines = [
        f"\n{args.runs:,} manifests, median of {args.rounds} rounds (s)",
        *table_lines(["", "Raise", "anchor (dict literals)", "Raise ÷ anchor"], rows),
        "",
        f"aim: generation + validation of {args.runs:,} < {AIM_SECONDS:.0f} s: "
        + ("met" if raise_s < AIM_SECONDS else "missed")
        + f" ({raise_s:.3f} s, {raise_s / args.runs * 1e3:.2f} ms per run)",
        f"context: kubernetes_validate.validate(strict=True) called directly (schema read each call), "
        f"extrapolated from {len(sample)}: {direct_s:.1f} s for {args.runs:,}",
        f"context: one-time import of the kubernetes client {import_s:.2f} s; first validation "
        f"(schema read and compiled) {first_s:.3f} s",
    ]
    print("\n".join(lines), flush=True)
    if args.json:
        report = {
            "machine": machine,
            "args": {k: str(v) for k, v in vars(args).items()},
            "seconds": {
                "raise_total": series[0],
                "anchor_total": series[1],
                "raise_generate": series[2],
                "anchor_literals": series[3],
            },
            "medians_s": dict(zip(["raise", "anchor", "raise_generate", "anchor_literals"], medians, strict=True)),
            "direct_validate_extrapolated_s": direct_s,
            "import_s": import_s,
            "first_validation_s": first_s,
        }
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
