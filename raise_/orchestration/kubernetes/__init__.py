"""Runs as Kubernetes Jobs (PRD §18.14): manifests built with the official client's models and
validated offline, and a cluster reached through a kubeconfig for submission, status and logs.

Importing this package imports ``kubernetes`` (the ``kubernetes`` extra); ``raise_`` itself never
does, so a store without the extra works and only the Kubernetes launcher asks for it.
"""

from __future__ import annotations

from raise_.orchestration.kubernetes.cluster import JobPhase, KubernetesCluster, job_phase
from raise_.orchestration.kubernetes.config import DEFAULT_IMAGE, KubernetesConfig
from raise_.orchestration.kubernetes.manifest import (
    KUBERNETES_VERSION,
    job_name,
    manifest_dict,
    manifest_yaml,
    run_job_manifest,
    validate_manifest,
)
from raise_.orchestration.kubernetes.resources import GPUType, ResourceRequest

__all__ = [
    "DEFAULT_IMAGE",
    "KUBERNETES_VERSION",
    "GPUType",
    "JobPhase",
    "KubernetesCluster",
    "KubernetesConfig",
    "ResourceRequest",
    "job_name",
    "job_phase",
    "manifest_dict",
    "manifest_yaml",
    "run_job_manifest",
    "validate_manifest",
]
