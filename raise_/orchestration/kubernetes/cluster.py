"""A Kubernetes cluster as the launcher uses it: submit a Job, read its status and its pod's log,
delete it. Through the official client and a kubeconfig, nothing else.

No cluster runs on Raise's development machines: this module is exercised against a real one
only when ``RAISE_TEST_KUBECONFIG`` names a kubeconfig (``tests/orchestration/test_kubernetes_cluster.py``).
What can be checked without one (loading a kubeconfig, reading a Job's status object) is tested
offline.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

from kubernetes import config as kube_config
from kubernetes.client import ApiClient, BatchV1Api, Configuration, CoreV1Api, V1Job, V1JobStatus, V1Pod
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from raise_.errors import OrchestratorUnavailableError
from raise_.orchestration.kubernetes.config import KubernetesConfig
from raise_.orchestration.kubernetes.manifest import CONTAINER_NAME

__all__ = ["HOW_TO_CONFIGURE", "JobPhase", "KubernetesCluster", "PodState", "job_phase"]

JobPhase = Literal["pending", "running", "succeeded", "failed"]

HOW_TO_CONFIGURE = (
    "set RAISE_K8S_KUBECONFIG (or KUBECONFIG) to a kubeconfig file for the cluster, and RAISE_K8S_CONTEXT to "
    "its context if not the current one, or pass KubernetesConfig(kubeconfig=..., context=...)"
)


def job_phase(status: V1JobStatus | None) -> JobPhase:
    """Where a Job is, from its status: ended by its ``Complete`` / ``Failed`` condition, running
    while a pod is ready (started), pending while it waits to be scheduled or pulled.

    ``SuccessCriteriaMet`` and ``FailureTarget`` are not an end yet: Kubernetes sets them while
    the pod may still be stopping, and the pod's ``raise run`` records its run on the way out."""
    if status is None:
        return "pending"
    for condition in status.conditions or []:
        if condition.status == "True" and condition.type == "Complete":
            return "succeeded"
        if condition.status == "True" and condition.type == "Failed":
            return "failed"
    if status.active:
        # ``ready`` is None on clusters that do not count it yet: an active pod is then taken as running.
        return "running" if status.ready is None or status.ready > 0 else "pending"
    if status.succeeded or status.failed or status.terminating:
        return "running"  # its pod has ended or is ending; the Job's condition follows
    return "pending"


@dataclass(frozen=True)
class PodState:
    """The newest pod of a Job, as far as its container got."""

    name: str
    phase: str
    exit_code: int | None = None
    reason: str | None = None
    message: str | None = None

    def describe(self) -> str:
        said = f"pod {self.name} is {self.phase}"
        if self.exit_code is not None:
            said += f", its container exited with status {self.exit_code}"
        if self.reason:
            said += f" ({self.reason}{': ' + self.message if self.message else ''})"
        return said


def _api_failure(action: str, exc: Exception) -> NoReturn:
    """An :class:`OrchestratorUnavailableError` saying what the API answered (its Status message:
    never the request, which may hold credentials)."""
    if isinstance(exc, ApiException):
        reason = f"{exc.status} {exc.reason}"
        try:
            said = json.loads(exc.body or "{}").get("message")
        except (ValueError, AttributeError):
            said = None
        raise OrchestratorUnavailableError(
            f"Kubernetes refused to {action}: {reason}" + (f": {said}" if said else "."),
            {"orchestrator": "kubernetes", "status": exc.status},
        ) from None
    raise OrchestratorUnavailableError(
        f"Could not reach the Kubernetes API to {action}: {type(exc).__name__}: {exc}",
        {"orchestrator": "kubernetes", "status": None},
    ) from None


class KubernetesCluster:
    """The cluster of a kubeconfig (``config.kubeconfig``, context ``config.context``), in
    ``config.namespace``. Loading the kubeconfig reads only the file: nothing is contacted until
    a method is called."""

    def __init__(self, config: KubernetesConfig) -> None:
        self.config = config
        path = config.kubeconfig
        if not path:
            raise OrchestratorUnavailableError(
                f"No kubeconfig is configured for the Kubernetes launcher: {HOW_TO_CONFIGURE}.",
                {"orchestrator": "kubernetes"},
            )
        if not os.path.isfile(os.path.expanduser(path)):
            raise OrchestratorUnavailableError(
                f"The kubeconfig {path!r} does not exist: {HOW_TO_CONFIGURE}.", {"orchestrator": "kubernetes"}
            )
        configuration = Configuration()
        try:
            # Into a configuration of its own (not the client's process-wide default), and without
            # writing refreshed credentials back into the user's file from a server process.
            kube_config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=os.path.expanduser(path),
                context=config.context,
                client_configuration=configuration,
                persist_config=False,
            )
        except Exception as exc:  # ConfigException, a YAML error, an unknown context
            raise OrchestratorUnavailableError(
                f"The kubeconfig {path!r} could not be loaded ({type(exc).__name__}: {exc}): {HOW_TO_CONFIGURE}.",
                {"orchestrator": "kubernetes"},
            ) from None
        self.api_client = ApiClient(configuration=configuration)
        self.batch = BatchV1Api(self.api_client)
        self.core = CoreV1Api(self.api_client)

    @property
    def host(self) -> str:
        """The API server the kubeconfig points at."""
        return str(self.api_client.configuration.host)

    @property
    def namespace(self) -> str:
        return self.config.namespace

    def submit(self, job: V1Job) -> str:
        """Create the Job; returns its name."""
        namespace = job.metadata.namespace if job.metadata and job.metadata.namespace else self.namespace
        try:
            created: Any = self.batch.create_namespaced_job(namespace=namespace, body=job)
        except (ApiException, HTTPError, OSError) as exc:
            _api_failure(f"create Job in namespace {namespace!r}", exc)
        return str(created.metadata.name)

    def read(self, name: str) -> V1Job:
        try:
            job: V1Job = self.batch.read_namespaced_job_status(name=name, namespace=self.namespace)
        except (ApiException, HTTPError, OSError) as exc:
            _api_failure(f"read Job {name!r}", exc)
        return job

    def status(self, name: str) -> JobPhase:
        """``pending``, ``running``, ``succeeded`` or ``failed`` (see :func:`job_phase`)."""
        return job_phase(self.read(name).status)

    def failure(self, name: str) -> str | None:
        """Why a failed Job failed (its ``Failed`` condition: ``DeadlineExceeded: ...``)."""
        for condition in self.read(name).status.conditions or []:  # type: ignore[union-attr]
            if condition.type == "Failed" and condition.status == "True":
                return f"{condition.reason or 'Failed'}: {condition.message or ''}".rstrip(": ")
        return None

    def _newest_pod(self, name: str) -> V1Pod | None:
        try:
            pods = self.core.list_namespaced_pod(namespace=self.namespace, label_selector=f"job-name={name}")
        except (ApiException, HTTPError, OSError) as exc:
            _api_failure(f"list the pods of Job {name!r}", exc)
        items = list(pods.items or [])
        if not items:
            return None
        return max(items, key=lambda p: (p.metadata.creation_timestamp or 0, p.metadata.name or ""))  # type: ignore[union-attr]

    def pod_state(self, name: str) -> PodState | None:
        """The Job's newest pod, or None when it has none (yet, or any more)."""
        pod = self._newest_pod(name)
        if pod is None:
            return None
        pod_name = str(pod.metadata.name) if pod.metadata else "?"
        phase = str(pod.status.phase) if pod.status and pod.status.phase else "Unknown"
        for status in (pod.status.container_statuses or []) if pod.status else []:
            if status.name != CONTAINER_NAME or status.state is None:
                continue
            if status.state.terminated is not None:
                done = status.state.terminated
                return PodState(pod_name, phase, done.exit_code, done.reason, done.message)
            if status.state.waiting is not None:
                return PodState(pod_name, phase, None, status.state.waiting.reason, status.state.waiting.message)
        reason = pod.status.reason if pod.status else None
        message = pod.status.message if pod.status else None
        return PodState(pod_name, phase, None, reason, message)

    def logs(self, name: str, tail_lines: int | None = None) -> str:
        """The log of the Job's newest pod ("" when it has no pod or its container never started)."""
        pod = self._newest_pod(name)
        if pod is None or pod.metadata is None or not pod.metadata.name:
            return ""
        try:
            text = self.core.read_namespaced_pod_log(
                name=pod.metadata.name, namespace=self.namespace, container=CONTAINER_NAME, tail_lines=tail_lines
            )
        except ApiException as exc:
            if exc.status in (400, 404):  # waiting to start, or gone: there is no log to read
                return ""
            _api_failure(f"read the log of pod {pod.metadata.name!r}", exc)
        except (HTTPError, OSError) as exc:
            _api_failure(f"read the log of pod {pod.metadata.name!r}", exc)
        return str(text or "")

    def delete(self, name: str, propagation: str = "Background") -> bool:
        """Delete the Job and its pods (they get SIGTERM, so the run records itself stopped);
        False when there was no such Job. ``"Background"`` removes the Job at once and its pods
        after; ``"Foreground"`` keeps the Job, marked deleted, until its pods are gone."""
        try:
            self.batch.delete_namespaced_job(name=name, namespace=self.namespace, propagation_policy=propagation)
        except ApiException as exc:
            if exc.status == 404:
                return False
            _api_failure(f"delete Job {name!r}", exc)
        except (HTTPError, OSError) as exc:
            _api_failure(f"delete Job {name!r}", exc)
        return True

    def close(self) -> None:
        self.api_client.close()  # type: ignore[no-untyped-call]
