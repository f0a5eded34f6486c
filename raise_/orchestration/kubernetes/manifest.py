"""A run as a Kubernetes ``batch/v1`` Job, built with the official client's models, and checked
offline against Kubernetes' OpenAPI schemas (PRD §18.14, DESIGN §8).

The pod runs ``raise run RUN_ID``, the entry point every out-of-process launcher runs, so a pod
records its run exactly as a local subprocess does. What the pod needs to reach the store comes
from the environment: ``RAISE_URL`` in plain text, the token (``RAISE_TOKEN``) and the catalog
URL (``RAISE_CATALOG_URL``) by ``secretKeyRef`` only, so no secret is in the manifest.

:func:`validate_manifest` checks a manifest against the strict schemas ``kubernetes-validate``
ships (unknown fields refused), with one validator per schema built once: the package's
``validate()`` reads and compiles the 1.8 MB of definitions on every call (about 17 ms), which
would make 1,000 manifests take 17 s rather than well under one.
"""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from collections.abc import Mapping
from functools import cache
from typing import Any, Final

import yaml
from kubernetes.client import (
    ApiClient,
    V1Capabilities,
    V1Container,
    V1EnvVar,
    V1EnvVarSource,
    V1Job,
    V1JobSpec,
    V1ObjectMeta,
    V1PersistentVolumeClaimVolumeSource,
    V1PodSpec,
    V1PodTemplateSpec,
    V1ResourceRequirements,
    V1SeccompProfile,
    V1SecretKeySelector,
    V1SecurityContext,
    V1Toleration,
    V1Volume,
    V1VolumeMount,
)

from raise_.errors import InvalidArgumentError, OrchestratorUnavailableError
from raise_.orchestration.kubernetes.config import KubernetesConfig
from raise_.orchestration.kubernetes.names import check_labels, is_dns_label, label_value
from raise_.orchestration.kubernetes.resources import GPU_RESOURCE, ResourceRequest

__all__ = [
    "APP_LABEL",
    "CONTAINER_NAME",
    "KIND_LABEL",
    "KUBERNETES_VERSION",
    "RUN_ID_LABEL",
    "job_name",
    "manifest_dict",
    "manifest_yaml",
    "run_job_manifest",
    "validate_manifest",
]

#: The Kubernetes version whose schemas manifests are checked against (the client's own, 37).
KUBERNETES_VERSION: Final = "1.37.0"
APP_LABEL: Final = "app.kubernetes.io/name"
RUN_ID_LABEL: Final = "raise.dev/run-id"
KIND_LABEL: Final = "raise.dev/kind"
CONTAINER_NAME: Final = "raise"
HOME_VOLUME: Final = "raise-home"

_NAME_PREFIX: Final = "raise-run-"
_ID_CHARS: Final = 12  # 48 random bits of a UUID4: names stay unique across many thousand runs
# The variables the pod's connection to the store is made of: set from the config only, so a
# caller's extra environment can never put the token in plain text or point the pod elsewhere.
_RESERVED_ENV: Final = frozenset({"RAISE_URL", "RAISE_TOKEN", "RAISE_CATALOG_URL", "RAISE_HOME", "RAISE_BACKGROUND"})
_ENV_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_GPU_TOLERATION: Final = {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}


def _short_id(run_id: str) -> str:
    try:
        return uuid.UUID(run_id).hex[:_ID_CHARS]
    except ValueError:  # not a run of the runs core (a test, a hand-made manifest): still stable
        return hashlib.sha256(run_id.encode()).hexdigest()[:_ID_CHARS]


def job_name(run_id: str, kind: str) -> str:
    """``raise-run-<kind>-<12 hex of the run id>``, cut so it is a DNS-1123 label (≤ 63)."""
    room = 63 - len(_NAME_PREFIX) - 1 - _ID_CHARS
    slug = re.sub(r"[^a-z0-9]+", "-", kind.lower())[:room].strip("-")
    name = f"{_NAME_PREFIX}{slug}-{_short_id(run_id)}" if slug else f"{_NAME_PREFIX}{_short_id(run_id)}"
    assert is_dns_label(name), name  # by construction; a failure here is a bug in this function
    return name


def _secret_env(name: str, secret: str, key: str) -> V1EnvVar:
    return V1EnvVar(name=name, value_from=V1EnvVarSource(secret_key_ref=V1SecretKeySelector(name=secret, key=key)))


def _environment(config: KubernetesConfig, extra: Mapping[str, str]) -> list[V1EnvVar]:
    env: list[V1EnvVar] = []
    if config.raise_url:
        env.append(V1EnvVar(name="RAISE_URL", value=config.raise_url))
    if config.token_secret:
        env.append(_secret_env("RAISE_TOKEN", config.token_secret, config.token_secret_key))
    if config.catalog_secret:
        env.append(_secret_env("RAISE_CATALOG_URL", config.catalog_secret, config.catalog_secret_key))
    if config.home_claim:
        env.append(V1EnvVar(name="RAISE_HOME", value=config.home_mount_path))
    # The pod does its run only: the store's change feed and schedules stay with its owner.
    env.append(V1EnvVar(name="RAISE_BACKGROUND", value="0"))
    for name, value in extra.items():
        if name in _RESERVED_ENV or not _ENV_NAME.fullmatch(name) or not isinstance(value, str):
            raise InvalidArgumentError(
                f"env[{name!r}] cannot be set: extra variables are plain strings with names other than "
                f"{', '.join(sorted(_RESERVED_ENV))}, which come from the Kubernetes config (secrets by reference).",
                {"field": "env", "name": name},
            )
        env.append(V1EnvVar(name=name, value=value))
    return env


def _toleration(spec: Mapping[str, Any]) -> V1Toleration:
    return V1Toleration(
        key=spec.get("key"),
        operator=spec.get("operator"),
        value=spec.get("value"),
        effect=spec.get("effect"),
        toleration_seconds=spec.get("tolerationSeconds"),
    )


def _deadline(deadline_seconds: float | None) -> int | None:
    if deadline_seconds is None:
        return None
    if isinstance(deadline_seconds, bool) or not isinstance(deadline_seconds, int | float):
        raise InvalidArgumentError(
            f"deadline_seconds must be a number of seconds, got {deadline_seconds!r}.", {"field": "deadline_seconds"}
        )
    if not math.isfinite(deadline_seconds) or deadline_seconds <= 0:
        raise InvalidArgumentError(
            f"deadline_seconds must be positive, got {deadline_seconds!r}.", {"field": "deadline_seconds"}
        )
    # Kubernetes counts whole seconds; rounding down would end a run before its own timeout.
    return max(1, math.ceil(deadline_seconds))


def run_job_manifest(
    run_id: str,
    kind: str,
    config: KubernetesConfig,
    resources: ResourceRequest | None = None,
    *,
    image: str | None = None,
    deadline_seconds: float | None = None,
    labels: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> V1Job:
    """The Job that runs ``raise run run_id`` in a pod.

    ``image`` overrides the config's (an inference runtime's image); ``deadline_seconds`` (the
    run's timeout) becomes ``activeDeadlineSeconds``; ``labels`` are added to the config's;
    ``env`` adds plain variables (the run's actor, its kinds' import paths)."""
    if not isinstance(run_id, str) or not run_id or label_value(run_id) != run_id:
        raise InvalidArgumentError(
            f"run_id must be a run's id (a UUID), usable as a label value, got {run_id!r}.", {"field": "run_id"}
        )
    if not isinstance(kind, str) or not kind:
        raise InvalidArgumentError(f"kind must name the run's kind, got {kind!r}.", {"field": "kind"})
    resources = resources if resources is not None else ResourceRequest()
    chosen_image = image if image is not None else config.image
    if not isinstance(chosen_image, str) or not chosen_image.strip() or any(c.isspace() for c in chosen_image):
        raise InvalidArgumentError(f"image must name a container image, got {chosen_image!r}.", {"field": "image"})

    # Raise's own labels are set last: a config or caller label cannot hide a Job from Raise.
    all_labels = {
        **config.labels,
        **check_labels(dict(labels or {}), "labels"),
        APP_LABEL: "raise",
        RUN_ID_LABEL: run_id,
        KIND_LABEL: label_value(kind),
    }
    node_selector = dict(config.node_selector)
    tolerations = [_toleration(t) for t in config.tolerations]
    gpu = resources.accelerator
    if gpu is not None:
        node_selector[config.gpu_node_label] = gpu.value  # the run's GPU model wins over a default pool
    if resources.gpu_count:
        # GPU node pools are tainted so that only pods asking for GPUs land there (GKE does it itself).
        tolerations.append(_toleration(_GPU_TOLERATION))

    mounts: list[V1VolumeMount] | None = None
    volumes: list[V1Volume] | None = None
    if config.home_claim:
        mounts = [V1VolumeMount(name=HOME_VOLUME, mount_path=config.home_mount_path)]
        volumes = [
            V1Volume(
                name=HOME_VOLUME,
                persistent_volume_claim=V1PersistentVolumeClaimVolumeSource(claim_name=config.home_claim),
            )
        ]

    container = V1Container(
        name=CONTAINER_NAME,
        image=chosen_image,
        image_pull_policy=config.image_pull_policy,
        command=["raise", "run", run_id],
        env=_environment(config, env or {}),
        resources=V1ResourceRequirements(requests=resources.requests(), limits=resources.limits()),
        volume_mounts=mounts,
        # What the "restricted" Pod Security Standard asks: user code runs in this pod.
        security_context=V1SecurityContext(
            run_as_non_root=True,
            allow_privilege_escalation=False,
            capabilities=V1Capabilities(drop=["ALL"]),
            seccomp_profile=V1SeccompProfile(type="RuntimeDefault"),
        ),
    )
    pod = V1PodSpec(
        containers=[container],
        restart_policy="Never",  # a failed `raise run` is the run's failure; Raise retries runs itself
        service_account_name=config.service_account,
        # The pod talks to Raise, not to the Kubernetes API: no API token unless an account is named.
        automount_service_account_token=None if config.service_account else False,
        node_selector=node_selector or None,
        tolerations=tolerations or None,
        volumes=volumes,
    )
    return V1Job(
        api_version="batch/v1",
        kind="Job",
        metadata=V1ObjectMeta(name=job_name(run_id, kind), namespace=config.namespace, labels=all_labels),
        spec=V1JobSpec(
            template=V1PodTemplateSpec(metadata=V1ObjectMeta(labels=dict(all_labels)), spec=pod),
            backoff_limit=config.backoff_limit,
            active_deadline_seconds=_deadline(deadline_seconds),
            ttl_seconds_after_finished=config.ttl_seconds_after_finished,
        ),
    )


@cache
def _api_client() -> ApiClient:
    return ApiClient()


def manifest_dict(job: V1Job) -> dict[str, Any]:
    """The Job as the JSON the API server receives (camelCase keys, no unset fields)."""
    data = _api_client().sanitize_for_serialization(job)  # type: ignore[no-untyped-call]
    assert isinstance(data, dict)
    return data


def manifest_yaml(job: V1Job) -> str:
    """The Job as ``kubectl apply -f`` takes it."""
    return yaml.safe_dump(manifest_dict(job), sort_keys=False)


# -- offline validation ---------------------------------------------------------------------------


def _version_tuple(version: str) -> tuple[int, int]:
    match = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", version.strip())
    if match is None:
        raise InvalidArgumentError(f"version must be a Kubernetes version like '1.37.0', got {version!r}.", {})
    return int(match.group(1)), int(match.group(2))


@cache
def _validator(version: str, kind: str, api_version: str) -> Any:
    """The strict schema of one kind, compiled once, from the files ``kubernetes_validate.validate``
    reads for the same arguments (the newest schema not newer than ``version``)."""
    try:
        import jsonschema  # type: ignore[import-untyped]
        from kubernetes_validate import utils  # type: ignore[import-untyped]
        from referencing import Registry, Resource
    except ImportError as exc:
        raise OrchestratorUnavailableError(
            f"Validating Kubernetes manifests needs the kubernetes-validate package ({exc.name} is missing): "
            "pip install kubernetes-validate.",
            {"missing": exc.name},
        ) from None
    wanted = _version_tuple(version)
    shipped = [v for v in utils.all_versions() if _version_tuple(v) <= wanted]
    if not shipped or wanted > _version_tuple(utils.latest_version()):
        raise InvalidArgumentError(
            f"kubernetes-validate has no schemas for Kubernetes {version}; it has {utils.all_versions()[0]} "
            f"to {utils.latest_version()}.",
            {"version": version},
        )
    folder = f"kubernetes-json-schema/v{shipped[-1]}-local-strict"
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)  # batch/v1 -> batch-v1, as the package names files
    try:
        schema = utils.schema_contents(f"{folder}/{kind.lower()}-{api}.json", version)
    except FileNotFoundError:
        raise InvalidArgumentError(f"No schema for {api_version} {kind} in Kubernetes {version}.", {}) from None
    definitions = utils.schema_contents(f"{folder}/_definitions.json", version)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def _field_path(error: Any) -> str:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(the manifest)"


def validate_manifest(data: dict[str, Any], version: str = KUBERNETES_VERSION) -> None:
    """Check a manifest (the dict of :func:`manifest_dict`) against Kubernetes ``version``'s strict
    OpenAPI schema: a wrong type, a missing required field or an unknown field (a typo) is an
    ``INVALID_ARGUMENT`` error naming the field's path, e.g. ``spec.backoffLimit``."""
    # A dict, as JSON Schema's "object" is: another mapping would be refused as "not of type object".
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str) or not data.get("apiVersion"):
        raise InvalidArgumentError("A manifest is a dict with apiVersion and kind.", {})
    validator = _validator(version, str(data["kind"]), str(data["apiVersion"]))
    from jsonschema.exceptions import best_match  # type: ignore[import-untyped]  # loaded by _validator

    # The error validate() itself would raise (jsonschema's best match), without raising to find it.
    error = best_match(validator.iter_errors(data))
    if error is None:
        return
    field_path = _field_path(error)
    unexpected: list[str] = []
    named: list[str] = []  # name the typo or the missing field itself, not the object holding it
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        known = error.schema.get("properties", {})
        unexpected = named = sorted(str(k) for k in error.instance if k not in known)
    elif error.validator == "required" and isinstance(error.instance, Mapping):
        named = [str(k) for k in error.validator_value if k not in error.instance]
    if named:
        field_path = f"{field_path}.{named[0]}" if field_path != "(the manifest)" else named[0]
    raise InvalidArgumentError(
        f"The {data['kind']} manifest does not fit Kubernetes {version}'s schema at {field_path}: {error.message}",
        {"field": field_path, "reason": error.message, "kubernetes_version": version, "unexpected": unexpected},
    )
