"""``KubernetesConfig``: where and how a run becomes a Kubernetes Job (PRD §18.14).

It holds no secret, only the *names* of the Secrets the pod reads them from: the token the pod
presents to the store's server (``RAISE_TOKEN``) and, for a pod that opens the catalog itself,
the catalog URL (``RAISE_CATALOG_URL``, which holds the database password). The manifest refers
to them with ``secretKeyRef``, so no token is ever written into a manifest, a log or an audit entry.

Every field can come from the environment of the process that owns the store
(:meth:`KubernetesConfig.from_env`): ``RAISE_K8S_`` + the field's name in capitals.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Final

from raise_.errors import InvalidArgumentError
from raise_.orchestration.kubernetes.names import check_dns_label, check_dns_subdomain, check_labels

__all__ = ["DEFAULT_IMAGE", "ENV_PREFIX", "KubernetesConfig"]

DEFAULT_IMAGE: Final = "ghcr.io/raise-featurestore/raise:latest"
ENV_PREFIX: Final = "RAISE_K8S_"

_PULL_POLICIES: Final = ("Always", "IfNotPresent", "Never")
_TOLERATION_KEYS: Final = frozenset({"key", "operator", "value", "effect", "tolerationSeconds"})
_TOLERATION_OPERATORS: Final = ("Exists", "Equal")
_TAINT_EFFECTS: Final = ("NoSchedule", "PreferNoSchedule", "NoExecute")
# Fields read from the environment as JSON, as whole numbers, or as text.
_JSON_FIELDS: Final = frozenset({"node_selector", "tolerations", "labels"})
_INT_FIELDS: Final = frozenset({"backoff_limit", "ttl_seconds_after_finished"})
_NULLABLE_INT_FIELDS: Final = frozenset({"ttl_seconds_after_finished"})
_OPTIONAL_TEXT_FIELDS: Final = frozenset(
    {"raise_url", "token_secret", "catalog_secret", "home_claim", "service_account", "kubeconfig", "context"}
)


def _check_toleration(toleration: object, index: int) -> dict[str, Any]:
    where = f"tolerations[{index}]"
    if not isinstance(toleration, Mapping):
        raise InvalidArgumentError(
            f"{where} must be a mapping like {{'key': 'pool', 'operator': 'Equal', 'value': 'batch', "
            f"'effect': 'NoSchedule'}}, got {toleration!r}.",
            {"field": where},
        )
    unknown = sorted(str(k) for k in toleration if k not in _TOLERATION_KEYS)
    if unknown:
        raise InvalidArgumentError(
            f"{where} has unknown field(s) {', '.join(unknown)}; "
            f"a toleration has {', '.join(sorted(_TOLERATION_KEYS))}.",
            {"field": where},
        )
    operator = toleration.get("operator", "Equal")
    if operator not in _TOLERATION_OPERATORS:
        raise InvalidArgumentError(f"{where}.operator must be Exists or Equal, got {operator!r}.", {"field": where})
    if operator == "Exists" and toleration.get("value"):
        raise InvalidArgumentError(f"{where} has operator Exists, which takes no value.", {"field": where})
    effect = toleration.get("effect")
    if effect is not None and effect not in _TAINT_EFFECTS:
        raise InvalidArgumentError(
            f"{where}.effect must be one of {', '.join(_TAINT_EFFECTS)} (or absent: any effect), got {effect!r}.",
            {"field": where},
        )
    for text_field in ("key", "value"):
        if text_field in toleration and not isinstance(toleration[text_field], str):
            raise InvalidArgumentError(f"{where}.{text_field} must be a string.", {"field": where})
    seconds = toleration.get("tolerationSeconds")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int)):
        raise InvalidArgumentError(f"{where}.tolerationSeconds must be a whole number.", {"field": where})
    return dict(toleration)


def _check_count(value: object, what: str, *, nullable: bool = False) -> None:
    if value is None and nullable:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgumentError(f"{what} must be a whole number ≥ 0, got {value!r}.", {"field": what})


@dataclass(frozen=True)
class KubernetesConfig:
    """How the Kubernetes launcher builds and submits a run's Job.

    - ``namespace``, ``image``, ``image_pull_policy``, ``service_account``: where the Job goes and
      what it runs (the image must have Raise installed and run as a non-root user).
    - ``raise_url``: the store's server as pods reach it (``RAISE_URL``); ``token_secret`` /
      ``token_secret_key``: the Secret holding the token the pod presents to it (``RAISE_TOKEN``).
    - ``catalog_secret`` / ``catalog_secret_key``: the Secret holding the catalog URL, for pods
      that open the catalog themselves (``RAISE_CATALOG_URL``).
    - ``home_claim`` / ``home_mount_path``: a PersistentVolumeClaim holding the store's home
      (staging files), mounted at ``home_mount_path`` and named by ``RAISE_HOME``.
    - ``backoff_limit``: Kubernetes' retries of a failed pod (0: Raise retries runs itself);
      ``ttl_seconds_after_finished``: how long an ended Job is kept (None: until deleted).
    - ``gpu_node_label``: the node label whose value is a run's :class:`GPUType`;
      ``node_selector``, ``tolerations``, ``labels``: added to every Job.
    - ``kubeconfig`` / ``context``: the kubeconfig file and context submission uses.
    """

    namespace: str = "raise"
    image: str = DEFAULT_IMAGE
    raise_url: str | None = None
    token_secret: str | None = "raise-run-token"
    token_secret_key: str = "token"
    catalog_secret: str | None = None
    catalog_secret_key: str = "url"
    home_claim: str | None = None
    home_mount_path: str = "/var/lib/raise"
    service_account: str | None = None
    backoff_limit: int = 0
    ttl_seconds_after_finished: int | None = 3600
    gpu_node_label: str = "cloud.google.com/gke-accelerator"
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[dict[str, Any]] = field(default_factory=list)
    image_pull_policy: str = "IfNotPresent"
    labels: dict[str, str] = field(default_factory=dict)
    kubeconfig: str | None = None
    context: str | None = None

    def __post_init__(self) -> None:
        check_dns_label(self.namespace, "namespace")
        if not isinstance(self.image, str) or not self.image.strip() or any(c.isspace() for c in self.image):
            raise InvalidArgumentError(
                f"image must name a container image (registry/name:tag), got {self.image!r}.", {"field": "image"}
            )
        if self.raise_url is not None and not (
            isinstance(self.raise_url, str) and self.raise_url.startswith(("http://", "https://"))
        ):
            raise InvalidArgumentError(
                f"raise_url must be the store server's http(s) URL as pods reach it, got {self.raise_url!r}.",
                {"field": "raise_url"},
            )
        for name in ("token_secret", "catalog_secret", "home_claim", "service_account"):
            if getattr(self, name) is not None:
                check_dns_subdomain(getattr(self, name), name)
        for name in ("token_secret_key", "catalog_secret_key"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value or len(value) > 253:
                raise InvalidArgumentError(f"{name} must name a key of the Secret, got {value!r}.", {"field": name})
        if not isinstance(self.home_mount_path, str) or not self.home_mount_path.startswith("/"):
            raise InvalidArgumentError(
                f"home_mount_path must be an absolute path, got {self.home_mount_path!r}.", {"field": "home_mount_path"}
            )
        _check_count(self.backoff_limit, "backoff_limit")
        _check_count(self.ttl_seconds_after_finished, "ttl_seconds_after_finished", nullable=True)
        check_labels({self.gpu_node_label: "x"}, "gpu_node_label")
        object.__setattr__(self, "node_selector", check_labels(self.node_selector, "node_selector"))
        object.__setattr__(self, "labels", check_labels(self.labels, "labels"))
        if not isinstance(self.tolerations, list | tuple):
            raise InvalidArgumentError("tolerations must be a list of mappings.", {"field": "tolerations"})
        object.__setattr__(self, "tolerations", [_check_toleration(t, i) for i, t in enumerate(self.tolerations)])
        if self.image_pull_policy not in _PULL_POLICIES:
            raise InvalidArgumentError(
                f"image_pull_policy must be one of {', '.join(_PULL_POLICIES)}, got {self.image_pull_policy!r}.",
                {"field": "image_pull_policy"},
            )
        for name in ("kubeconfig", "context"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise InvalidArgumentError(f"{name} must be a non-empty string or None.", {"field": name})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KubernetesConfig:
        """The defaults, overridden by ``RAISE_K8S_<FIELD>`` variables (``RAISE_K8S_NAMESPACE``,
        ``RAISE_K8S_IMAGE``, ...; JSON for ``NODE_SELECTOR``, ``TOLERATIONS`` and ``LABELS``; an
        empty value of an optional field means None). The kubeconfig falls back to ``KUBECONFIG``."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            variable = ENV_PREFIX + f.name.upper()
            if variable not in env:
                continue
            raw = env[variable].strip()
            if f.name in _JSON_FIELDS:
                try:
                    values[f.name] = json.loads(raw) if raw else ([] if f.name == "tolerations" else {})
                except json.JSONDecodeError as exc:
                    raise InvalidArgumentError(f"{variable} is not valid JSON: {exc.msg}.", {"field": f.name}) from None
            elif f.name in _INT_FIELDS:
                if not raw and f.name in _NULLABLE_INT_FIELDS:
                    values[f.name] = None
                elif raw.isdigit():
                    values[f.name] = int(raw)
                else:
                    raise InvalidArgumentError(
                        f"{variable} must be a whole number ≥ 0, got {raw!r}.", {"field": f.name}
                    )
            else:
                # An empty value clears an optional field (token_secret included: pods get no token).
                values[f.name] = None if not raw and f.name in _OPTIONAL_TEXT_FIELDS else raw
        if "kubeconfig" not in values and env.get("KUBECONFIG", "").strip():
            values["kubeconfig"] = env["KUBECONFIG"].strip()
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-safe. Only Secret *names* are here: the config holds no secret."""
        return {
            f.name: json.loads(json.dumps(getattr(self, f.name))) if f.name in _JSON_FIELDS else getattr(self, f.name)
            for f in fields(self)
        }
