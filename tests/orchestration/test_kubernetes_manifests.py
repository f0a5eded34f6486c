"""A run's Kubernetes Job (issue 21, item 4): every manifest Raise generates passes Kubernetes
1.37's strict OpenAPI schema (kubernetes-validate, offline), and carries what the run needs: the
``raise run`` command, the token by Secret reference only, resources, GPUs, scheduling, deadline.

No cluster is involved here; tests/orchestration/test_kubernetes_cluster.py talks to one when
``RAISE_TEST_KUBECONFIG`` names it."""

from __future__ import annotations

import copy
import json
import math
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from raise_.errors import InvalidArgumentError, OrchestratorUnavailableError
from raise_.orchestration.kubernetes import (
    DEFAULT_IMAGE,
    GPUType,
    KubernetesConfig,
    ResourceRequest,
    job_name,
    manifest_dict,
    manifest_yaml,
    run_job_manifest,
    validate_manifest,
)
from raise_.orchestration.kubernetes.resources import parse_quantity
from raise_.runs.launchers import make_launcher

RUN_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
VERSION = "1.37.0"
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# Values that must never reach a manifest: the pod reads them from Secrets at start.
TOKEN_VALUE = "rt_live_9f8e7d6c5b4a39281706"
CATALOG_URL = "postgresql://raise:hunter2-catalog-pw@db.internal:5432/raise"

GPU_CONFIG = {"tolerations": [{"key": "team", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}]}
FULL_CONFIG = {
    "raise_url": "https://raise.example.com/jupyter",
    "catalog_secret": "raise-catalog",
    "home_claim": "raise-home",
    "service_account": "raise-runner",
    "node_selector": {"cloud.google.com/gke-nodepool": "batch"},
    "tolerations": [
        {"key": "dedicated", "operator": "Equal", "value": "raise", "effect": "NoSchedule"},
        {"key": "spot", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
    ],
    "labels": {"team": "features", "cost-center": "ml-42"},
    "backoff_limit": 2,
    "ttl_seconds_after_finished": 600,
}

# (case id, KubernetesConfig kwargs, ResourceRequest kwargs or None, deadline seconds)
CASES: list[tuple[str, dict[str, Any], dict[str, Any] | None, float | None]] = [
    ("defaults", {}, None, None),
    ("cpu-only", {"raise_url": "http://raise:8888"}, {"cpu": 0.5, "memory": "512Mi"}, 3600),
    ("cpu-quantity-and-disk", {}, {"cpu": "250m", "memory": "1G", "ephemeral_storage": "20Gi"}, 59.5),
    ("any-gpu", {}, {"gpu_count": 1}, None),
    ("claim-and-catalog", FULL_CONFIG, {"cpu": 4, "memory": "16Gi"}, 7200),
    ("no-token-secret", {"token_secret": None, "home_claim": "raise-home"}, None, 1),
    ("gpu-with-everything", FULL_CONFIG, {"cpu": 8, "memory": "64Gi", "gpu_count": 8, "gpu_type": "H100"}, 0.2),
    *[
        (f"gpu-{gpu.name}", GPU_CONFIG, {"cpu": 2, "memory": "8Gi", "gpu_count": 2, "gpu_type": gpu}, 900)
        for gpu in GPUType
    ],
]


def build(
    config: dict[str, Any], resources: dict[str, Any] | None, deadline: float | None, kind: str = "job-compute"
) -> dict[str, Any]:
    job = run_job_manifest(
        RUN_ID,
        kind,
        KubernetesConfig(**config),
        ResourceRequest(**resources) if resources is not None else None,
        deadline_seconds=deadline,
    )
    return manifest_dict(job)


def container(data: dict[str, Any]) -> dict[str, Any]:
    containers = data["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]  # type: ignore[no-any-return]


def env_of(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container(data)["env"]}


# -- every manifest is one Kubernetes accepts ----------------------------------------------------


@pytest.mark.parametrize(("case", "config", "resources", "deadline"), CASES, ids=[c[0] for c in CASES])
def test_every_generated_manifest_passes_the_strict_schema(
    case: str, config: dict[str, Any], resources: dict[str, Any] | None, deadline: float | None
) -> None:
    data = build(config, resources, deadline)
    assert kubernetes_validate.validate(data, VERSION, strict=True) == "1.37"
    validate_manifest(data)  # Raise's own path: the same schema files, compiled once
    again = yaml.safe_load(manifest_yaml(run_job_manifest(RUN_ID, "job-compute", KubernetesConfig(**config))))
    kubernetes_validate.validate(again, VERSION, strict=True)  # what `kubectl apply -f` would get


def test_the_pod_runs_raise_run_for_the_run() -> None:
    data = build({}, None, None)
    assert (data["apiVersion"], data["kind"]) == ("batch/v1", "Job")
    pod = data["spec"]["template"]["spec"]
    assert container(data)["command"] == ["raise", "run", RUN_ID]
    assert container(data)["name"] == "raise"
    assert container(data)["image"] == DEFAULT_IMAGE == "ghcr.io/raise-featurestore/raise:latest"
    assert container(data)["imagePullPolicy"] == "IfNotPresent"
    assert pod["restartPolicy"] == "Never"
    assert data["metadata"]["namespace"] == "raise"
    assert pod["automountServiceAccountToken"] is False  # the pod talks to Raise, not to the API
    other = run_job_manifest(RUN_ID, "inference", KubernetesConfig(), image="registry.acme/models/bert:2.1")
    assert container(manifest_dict(other))["image"] == "registry.acme/models/bert:2.1"


def test_the_token_and_the_catalog_url_come_from_secrets_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # What the launching process holds must not leak into what it submits.
    monkeypatch.setenv("RAISE_TOKEN", TOKEN_VALUE)
    monkeypatch.setenv("RAISE_CATALOG_URL", CATALOG_URL)
    monkeypatch.setenv("RAISE_K8S_CATALOG_SECRET", "raise-catalog")
    monkeypatch.setenv("RAISE_K8S_RAISE_URL", "https://raise.example.com")
    config = KubernetesConfig.from_env()
    job = run_job_manifest(RUN_ID, "job-compute", config, env={"RAISE_USER": "alice@acme"})
    env = env_of(manifest_dict(job))
    assert env["RAISE_TOKEN"] == {
        "name": "RAISE_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": "raise-run-token", "key": "token"}},
    }
    assert env["RAISE_CATALOG_URL"] == {
        "name": "RAISE_CATALOG_URL",
        "valueFrom": {"secretKeyRef": {"name": "raise-catalog", "key": "url"}},
    }
    assert env["RAISE_URL"] == {"name": "RAISE_URL", "value": "https://raise.example.com"}
    text = manifest_yaml(job) + json.dumps(config.to_dict())
    for secret in (TOKEN_VALUE, CATALOG_URL, "hunter2-catalog-pw"):
        assert secret not in text
    with pytest.raises(InvalidArgumentError, match="RAISE_TOKEN") as caught:
        run_job_manifest(RUN_ID, "job-compute", config, env={"RAISE_TOKEN": TOKEN_VALUE})
    assert TOKEN_VALUE not in str(caught.value)


def test_the_environment_follows_the_config() -> None:
    plain = env_of(build({}, None, None))
    assert set(plain) == {"RAISE_TOKEN", "RAISE_BACKGROUND"}  # no URL, no catalog, no home configured
    assert plain["RAISE_BACKGROUND"]["value"] == "0"
    full = build(FULL_CONFIG, None, None)
    env = env_of(full)
    assert list(env) == ["RAISE_URL", "RAISE_TOKEN", "RAISE_CATALOG_URL", "RAISE_HOME", "RAISE_BACKGROUND"]
    assert env["RAISE_HOME"]["value"] == "/var/lib/raise"
    assert container(full)["volumeMounts"] == [{"name": "raise-home", "mountPath": "/var/lib/raise"}]
    pod = full["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "raise-home", "persistentVolumeClaim": {"claimName": "raise-home"}}]
    assert pod["serviceAccountName"] == "raise-runner" and "automountServiceAccountToken" not in pod
    assert "RAISE_TOKEN" not in env_of(build({"token_secret": None}, None, None))


def test_requests_and_limits() -> None:
    cpu_only = container(build({}, {"cpu": 0.5, "memory": "3Gi", "ephemeral_storage": "10Gi"}, None))["resources"]
    assert cpu_only == {
        "requests": {"cpu": "500m", "memory": "3Gi", "ephemeral-storage": "10Gi"},
        # memory is limited at the request (an over-eager run is killed, not its neighbours); CPU is not
        "limits": {"memory": "3Gi", "ephemeral-storage": "10Gi"},
    }
    defaults = container(build({}, None, None))["resources"]
    assert defaults == {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "2Gi"}}


@pytest.mark.parametrize("gpu", list(GPUType), ids=[g.name for g in GPUType])
@pytest.mark.parametrize("count", [1, 4])
def test_gpus_set_the_limit_the_node_selector_and_the_toleration(gpu: GPUType, count: int) -> None:
    data = build(GPU_CONFIG, {"gpu_count": count, "gpu_type": gpu.name.lower()}, None)
    assert container(data)["resources"]["limits"]["nvidia.com/gpu"] == str(count)
    pod = data["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"cloud.google.com/gke-accelerator": gpu.value}
    assert pod["tolerations"] == [
        {"key": "team", "operator": "Equal", "value": "ml", "effect": "NoSchedule"},
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
    ]


def test_gpu_types_are_gke_accelerator_labels() -> None:
    assert {g.name: g.value for g in GPUType} == {
        "NVIDIA_T4": "nvidia-tesla-t4",
        "NVIDIA_L4": "nvidia-l4",
        "NVIDIA_A10G": "nvidia-a10g",
        "NVIDIA_A100": "nvidia-tesla-a100",
        "NVIDIA_A100_80GB": "nvidia-a100-80gb",
        "NVIDIA_H100": "nvidia-h100-80gb",
        "NVIDIA_H200": "nvidia-h200-141gb",
    }
    assert GPUType.parse("nvidia-l4") is GPUType.L4 is GPUType.parse("L4") is GPUType.parse(" l4 ")
    assert GPUType.L4 is GPUType.NVIDIA_L4 is GPUType.parse("NVIDIA_L4")
    assert GPUType.A100_40GB is GPUType.NVIDIA_A100 and GPUType.NVIDIA_A100.memory_gb == 40


def test_no_gpu_no_gpu_toleration_and_an_untyped_gpu_no_selector() -> None:
    cpu = build(FULL_CONFIG, {"cpu": 2}, None)
    pod = cpu["spec"]["template"]["spec"]
    assert "nvidia.com/gpu" not in container(cpu)["resources"]["limits"]
    assert all(t["key"] != "nvidia.com/gpu" for t in pod["tolerations"])
    assert pod["nodeSelector"] == {"cloud.google.com/gke-nodepool": "batch"}
    assert "tolerations" not in build({}, None, None)["spec"]["template"]["spec"]
    any_gpu = build({}, {"gpu_count": 1}, None)["spec"]["template"]["spec"]
    assert any_gpu["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert "nodeSelector" not in any_gpu


def test_the_config_node_selector_and_a_custom_gpu_label_combine() -> None:
    config = {"gpu_node_label": "acme.io/accelerator", "node_selector": {"pool": "gpu", "acme.io/accelerator": "any"}}
    pod = build(config, {"gpu_count": 1, "gpu_type": GPUType.A10G}, None)["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"pool": "gpu", "acme.io/accelerator": "nvidia-a10g"}  # the run's GPU wins


@pytest.mark.parametrize(
    ("timeout", "deadline"), [(None, None), (0.2, 1), (1, 1), (59.5, 60), (90.2, 91), (3600, 3600)]
)
def test_active_deadline_is_the_run_timeout_rounded_up(timeout: float | None, deadline: int | None) -> None:
    spec = build({}, None, timeout)["spec"]
    assert spec.get("activeDeadlineSeconds") == deadline
    if timeout is not None:
        assert spec["activeDeadlineSeconds"] == max(1, math.ceil(timeout))


def test_backoff_and_ttl_come_from_the_config() -> None:
    assert build({}, None, None)["spec"]["backoffLimit"] == 0  # Raise retries runs itself
    assert build({}, None, None)["spec"]["ttlSecondsAfterFinished"] == 3600
    spec = build(FULL_CONFIG, None, None)["spec"]
    assert (spec["backoffLimit"], spec["ttlSecondsAfterFinished"]) == (2, 600)
    assert "ttlSecondsAfterFinished" not in build({"ttl_seconds_after_finished": None}, None, None)["spec"]


def test_the_container_runs_unprivileged() -> None:
    assert container(build({}, None, None))["securityContext"] == {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


@pytest.mark.parametrize(
    "kind",
    ["job-compute", "x", "A" * 64, "Bulk Inference / ÜBER_model.v2", "---", "inference-" + "long" * 20],
)
def test_the_name_is_a_dns_label_for_any_kind(kind: str) -> None:
    data = build({}, None, None, kind=kind)
    name = data["metadata"]["name"]
    assert DNS_LABEL.fullmatch(name) and len(name) <= 63, name
    assert name.startswith("raise-run-") and name.endswith("-0f8fad5bd9cb")
    assert name == job_name(RUN_ID, kind)  # stable: the same run always has the same Job
    labels = data["metadata"]["labels"]
    assert labels["raise.dev/run-id"] == RUN_ID and labels["app.kubernetes.io/name"] == "raise"
    assert re.fullmatch(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?", labels["raise.dev/kind"])
    assert data["spec"]["template"]["metadata"]["labels"] == labels  # `kubectl get pods -l ...` finds the pod
    kubernetes_validate.validate(data, VERSION, strict=True)


def test_short_kinds_keep_their_name_and_other_runs_get_other_jobs() -> None:
    assert job_name(RUN_ID, "job-compute") == "raise-run-job-compute-0f8fad5bd9cb"
    assert job_name("7c9e6679-7425-40de-944b-e07fc1f90ae7", "job-compute") != job_name(RUN_ID, "job-compute")


def test_raise_labels_cannot_be_overridden() -> None:
    config = {"labels": {"app.kubernetes.io/name": "other", "raise.dev/run-id": "x", "team": "a"}}
    labels = build(config, None, None)["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "raise" and labels["raise.dev/run-id"] == RUN_ID
    assert labels["team"] == "a"


# -- strict validation refuses what Kubernetes would refuse --------------------------------------


def broken(path: list[str | int], key: str, value: Any) -> dict[str, Any]:
    data = build(FULL_CONFIG, {"gpu_count": 1, "gpu_type": "T4"}, 60)
    node: Any = data
    for part in path:
        node = node[part]
    node[key] = value
    return data


CONTAINER: list[str | int] = ["spec", "template", "spec", "containers", 0]
# (case id, path to the object changed, key, value, the field path the error must name)
BROKEN: list[tuple[str, list[str | int], str, Any, str]] = [
    ("typo-in-container", CONTAINER, "imagePullPolicyy", "Always", "spec.template.spec.containers[0].imagePullPolicyy"),
    ("typo-in-job-spec", ["spec"], "backofLimit", 3, "spec.backofLimit"),
    (
        "typo-in-secret-ref",
        [*CONTAINER, "env", 1, "valueFrom", "secretKeyRef"],
        "nam",
        "x",
        "spec.template.spec.containers[0].env[1].valueFrom.secretKeyRef.nam",
    ),
    ("backoff-as-text", ["spec"], "backoffLimit", "three", "spec.backoffLimit"),
    ("deadline-as-float-text", ["spec"], "activeDeadlineSeconds", "1h", "spec.activeDeadlineSeconds"),
    ("command-not-a-list", CONTAINER, "command", "raise run x", "spec.template.spec.containers[0].command"),
    (
        "toleration-seconds-text",
        ["spec", "template", "spec", "tolerations", 0],
        "tolerationSeconds",
        "5m",
        "spec.template.spec.tolerations[0].tolerationSeconds",
    ),
]


@pytest.mark.parametrize(("case", "path", "key", "value", "field"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_manifest_is_refused_with_the_field_named(
    case: str, path: list[str | int], key: str, value: Any, field: str
) -> None:
    data = broken(path, key, value)
    with pytest.raises(InvalidArgumentError) as caught:
        validate_manifest(data)
    assert caught.value.code == "INVALID_ARGUMENT"
    assert caught.value.details["field"] == field, caught.value.details
    assert field in caught.value.message and "1.37.0" in caught.value.message
    # The package's own entry point refuses it at the same place.
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(data, VERSION, strict=True)


def test_only_strict_validation_catches_a_typo() -> None:
    data = broken(CONTAINER, "imagePullPolicyy", "Always")
    kubernetes_validate.validate(data, VERSION, strict=False)  # the lax schema lets the typo through
    with pytest.raises(InvalidArgumentError, match="imagePullPolicyy"):
        validate_manifest(data)


def test_a_missing_required_field_is_named() -> None:
    data = build({}, None, None)
    del container(data)["name"]
    with pytest.raises(InvalidArgumentError) as caught:
        validate_manifest(data)
    assert caught.value.details["field"] == "spec.template.spec.containers[0].name"


def test_raise_refuses_what_the_schema_cannot_see() -> None:
    # The OpenAPI schema has no minimum for backoffLimit and no pattern for quantities or names:
    # a negative backoff passes it, so Raise's config refuses it before any manifest exists.
    data = build({}, None, None)
    data["spec"]["backoffLimit"] = -1
    kubernetes_validate.validate(data, VERSION, strict=True)
    with pytest.raises(InvalidArgumentError, match="backoff_limit"):
        KubernetesConfig(backoff_limit=-1)
    data["metadata"]["name"] = "Not_A_DNS_Name"
    kubernetes_validate.validate(data, VERSION, strict=True)
    with pytest.raises(InvalidArgumentError, match="DNS-1123"):
        KubernetesConfig(namespace="Raise_Prod")


def test_unsupported_versions_and_kinds_are_refused() -> None:
    data = build({}, None, None)
    with pytest.raises(InvalidArgumentError, match=r"no schemas for Kubernetes 9\.0"):
        validate_manifest(data, "9.0.0")
    with pytest.raises(InvalidArgumentError, match="No schema for batch/v1 Jb"):
        validate_manifest({**data, "kind": "Jb"})
    validate_manifest(data, "1.33")  # an older cluster's schema, as the package picks it


# -- resource requests -----------------------------------------------------------------------------

BAD_RESOURCES = [
    ({"memory": "2GB"}, "memory", "'2G' (decimal) or '2Gi' (binary)"),
    ({"memory": "512MB"}, "memory", "'512M' (decimal) or '512Mi' (binary)"),
    ({"memory": "lots"}, "memory", "binary Ki, Mi, Gi, Ti, Pi, Ei"),
    ({"memory": "-1Gi"}, "memory", "is not a Kubernetes quantity"),
    ({"memory": "0"}, "memory", "more than zero"),
    ({"memory": 2048}, "memory", "quantity string"),
    ({"cpu": "two"}, "cpu", "m for thousandths"),
    ({"cpu": 0}, "cpu", "more than zero"),
    ({"cpu": -0.5}, "cpu", "more than zero"),
    ({"cpu": True}, "cpu", "number of cores"),
    ({"cpu": "0.0001"}, "cpu", "at least 1m"),
    ({"ephemeral_storage": "10 GiB"}, "ephemeral_storage", "not a Kubernetes quantity"),
    ({"gpu_count": -1}, "gpu_count", "whole number ≥ 0"),
    ({"gpu_count": 1.5}, "gpu_count", "whole number ≥ 0"),
    ({"gpu_count": True}, "gpu_count", "whole number ≥ 0"),
    ({"gpu_type": "T4"}, "gpu_type", "gpu_count 0"),
    (
        {"gpu_count": 1, "gpu_type": "V100"},
        "gpu_type",
        "use one of NVIDIA_T4, NVIDIA_A10G, NVIDIA_A100, NVIDIA_A100_80GB, NVIDIA_H100, NVIDIA_L4, NVIDIA_H200",
    ),
]


@pytest.mark.parametrize(("kwargs", "field", "says"), BAD_RESOURCES, ids=[str(b[0]) for b in BAD_RESOURCES])
def test_bad_resource_requests_give_a_coded_error(kwargs: dict[str, Any], field: str, says: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        ResourceRequest(**kwargs)
    assert caught.value.code == "INVALID_ARGUMENT"
    assert caught.value.details["field"] == field
    assert says in caught.value.message, caught.value.message


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("2Gi", Decimal(2 * 1024**3)),
        ("1.5G", Decimal("1.5e9")),
        ("500m", Decimal("0.5")),
        ("128974848", Decimal(128974848)),
        ("129e6", Decimal("129e6")),
        ("1E3", Decimal(1000)),
        ("123Mi", Decimal(123 * 1024**2)),
        (".5", Decimal("0.5")),
        ("1k", Decimal(1000)),
        ("1Ki", Decimal(1024)),
        ("1E", Decimal(10) ** 18),
    ],
)
def test_quantities_mean_what_kubernetes_says(text: str, amount: Decimal) -> None:
    assert parse_quantity(text, "memory") == amount


@pytest.mark.parametrize(
    ("cpu", "quantity"), [(1, "1"), (0.5, "500m"), (2.0, "2"), (1.2345, "1235m"), ("250m", "250m")]
)
def test_cpu_cores_become_quantities(cpu: float | str, quantity: str) -> None:
    assert ResourceRequest(cpu=cpu).cpu == quantity


def test_a_run_spec_gives_the_resources() -> None:
    spec = {"cpu": 2, "memory": "8Gi", "gpu_count": 1, "gpu_type": "nvidia-l4"}
    request = ResourceRequest.from_spec(spec)
    assert request == ResourceRequest(cpu="2", memory="8Gi", gpu_count=1, gpu_type=GPUType.L4)
    assert request.to_dict() == {**spec, "cpu": "2", "gpu_type": "NVIDIA_L4", "ephemeral_storage": None}
    with pytest.raises(InvalidArgumentError, match="Unknown resource field"):
        ResourceRequest.from_spec({"gpus": 2})


# -- the config --------------------------------------------------------------------------------------


def test_the_config_reads_raise_k8s_variables() -> None:
    env = {
        "RAISE_K8S_NAMESPACE": "ml-runs",
        "RAISE_K8S_IMAGE": "registry.acme/raise:1.4",
        "RAISE_K8S_RAISE_URL": "https://raise.acme",
        "RAISE_K8S_TOKEN_SECRET": "runner-token",
        "RAISE_K8S_TOKEN_SECRET_KEY": "value",
        "RAISE_K8S_CATALOG_SECRET": "catalog",
        "RAISE_K8S_CATALOG_SECRET_KEY": "dsn",
        "RAISE_K8S_HOME_CLAIM": "raise-home",
        "RAISE_K8S_HOME_MOUNT_PATH": "/data/raise",
        "RAISE_K8S_SERVICE_ACCOUNT": "raise",
        "RAISE_K8S_BACKOFF_LIMIT": "1",
        "RAISE_K8S_TTL_SECONDS_AFTER_FINISHED": "",
        "RAISE_K8S_GPU_NODE_LABEL": "acme.io/gpu",
        "RAISE_K8S_NODE_SELECTOR": '{"pool": "batch"}',
        "RAISE_K8S_TOLERATIONS": '[{"key": "spot", "operator": "Exists"}]',
        "RAISE_K8S_IMAGE_PULL_POLICY": "Always",
        "RAISE_K8S_LABELS": '{"team": "ml"}',
        "RAISE_K8S_KUBECONFIG": "/etc/raise/kubeconfig",
        "RAISE_K8S_CONTEXT": "prod",
        "KUBECONFIG": "/ignored/when/raise/has/its/own",
    }
    config = KubernetesConfig.from_env(env)
    assert config.to_dict() == {
        "namespace": "ml-runs",
        "image": "registry.acme/raise:1.4",
        "raise_url": "https://raise.acme",
        "token_secret": "runner-token",
        "token_secret_key": "value",
        "catalog_secret": "catalog",
        "catalog_secret_key": "dsn",
        "home_claim": "raise-home",
        "home_mount_path": "/data/raise",
        "service_account": "raise",
        "backoff_limit": 1,
        "ttl_seconds_after_finished": None,
        "gpu_node_label": "acme.io/gpu",
        "node_selector": {"pool": "batch"},
        "tolerations": [{"key": "spot", "operator": "Exists"}],
        "image_pull_policy": "Always",
        "labels": {"team": "ml"},
        "kubeconfig": "/etc/raise/kubeconfig",
        "context": "prod",
    }
    # Every field has its variable, so the docs' table and from_env cannot drift apart.
    assert {f"RAISE_K8S_{name.upper()}" for name in config.to_dict()} == {k for k in env if k.startswith("RAISE_K8S_")}
    assert KubernetesConfig.from_env({"KUBECONFIG": "/home/me/.kube/config"}).kubeconfig == "/home/me/.kube/config"
    assert KubernetesConfig.from_env({"RAISE_K8S_TOKEN_SECRET": ""}).token_secret is None
    assert KubernetesConfig.from_env({}) == KubernetesConfig()


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"RAISE_K8S_TOLERATIONS": "[{key: spot}]"}, "RAISE_K8S_TOLERATIONS is not valid JSON"),
        ({"RAISE_K8S_BACKOFF_LIMIT": "-1"}, "whole number"),
        ({"RAISE_K8S_IMAGE_PULL_POLICY": "Sometimes"}, "Always, IfNotPresent, Never"),
        ({"RAISE_K8S_NAMESPACE": ""}, "DNS-1123"),
        ({"RAISE_K8S_RAISE_URL": "raise.acme:8888"}, "http(s) URL"),
        ({"RAISE_K8S_TOLERATIONS": '[{"key": "a", "operator": "In"}]'}, "Exists or Equal"),
        ({"RAISE_K8S_TOLERATIONS": '[{"key": "a", "operator": "Exists", "value": "b"}]'}, "takes no value"),
        ({"RAISE_K8S_TOLERATIONS": '[{"key": "a", "effect": "NoRun"}]'}, "NoSchedule, PreferNoSchedule, NoExecute"),
        ({"RAISE_K8S_TOLERATIONS": '[{"key": "a", "tolerations": 5}]'}, "unknown field(s) tolerations"),
        ({"RAISE_K8S_NODE_SELECTOR": '{"pool": "batch jobs"}'}, "not a Kubernetes label value"),
        ({"RAISE_K8S_LABELS": '{"-bad": "x"}'}, "not a Kubernetes label key"),
        ({"RAISE_K8S_TOKEN_SECRET": "Raise_Token"}, "DNS-1123 subdomain"),
        ({"RAISE_K8S_HOME_MOUNT_PATH": "raise"}, "absolute path"),
    ],
)
def test_bad_configuration_gives_a_coded_error(env: dict[str, str], says: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        KubernetesConfig.from_env(env)
    assert says in caught.value.message, caught.value.message


# -- the launcher needs a cluster ---------------------------------------------------------------------


def test_the_launcher_without_a_kubeconfig_says_how_to_configure_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("RAISE_K8S_KUBECONFIG", raising=False)
    with pytest.raises(OrchestratorUnavailableError) as caught:
        make_launcher("kubernetes", config=KubernetesConfig())
    assert caught.value.code == "ORCHESTRATOR_UNAVAILABLE"
    assert "No kubeconfig is configured" in caught.value.message
    assert "RAISE_K8S_KUBECONFIG" in caught.value.message and "KubernetesConfig(kubeconfig=" in caught.value.message
    with pytest.raises(OrchestratorUnavailableError, match="No kubeconfig"):
        make_launcher("kubernetes")  # from the (empty) environment


def test_the_launcher_with_a_missing_or_broken_kubeconfig_says_so(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(OrchestratorUnavailableError, match="does not exist: set RAISE_K8S_KUBECONFIG"):
        make_launcher("kubernetes", config=KubernetesConfig(kubeconfig=str(missing)))
    broken_file = tmp_path / "kubeconfig"
    broken_file.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\n")
    with pytest.raises(OrchestratorUnavailableError, match="could not be loaded"):
        make_launcher("kubernetes", config=KubernetesConfig(kubeconfig=str(broken_file)))


def test_importing_raise_does_not_import_kubernetes() -> None:
    code = (
        "import sys, raise_, raise_.runs.service, raise_.runs.launchers; "
        "print(sorted(m for m in sys.modules if m == 'kubernetes' or m.startswith(('kubernetes.', 'kubernetes_'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_validated_manifest_is_left_as_it_was() -> None:
    data = build(FULL_CONFIG, {"gpu_count": 2, "gpu_type": "A100_80GB"}, 30)
    before = copy.deepcopy(data)
    validate_manifest(data)
    assert data == before
