"""Submission, status, logs and deletion against a real Kubernetes cluster (issue 21, item 4).

No Kubernetes cluster runs on Raise's development machines (they have no container engine), so
these tests are skipped unless ``RAISE_TEST_KUBECONFIG`` names a kubeconfig: kind, minikube, k3d
or a real cluster, with rights to create Jobs and Secrets in ``RAISE_TEST_K8S_NAMESPACE``
(default ``default``). They pull ``RAISE_TEST_K8S_IMAGE`` (default ``busybox:1.36``).

The Jobs are Raise's own manifests (:func:`run_job_manifest`), with only the container's command
and image swapped for a shell one-liner: the Raise image and a store the pod can reach are not
assumed. The pod proves that the token Secret reached it without printing the token.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest
from kubernetes.client import CoreV1Api, V1Job, V1ObjectMeta, V1Secret, V1SecurityContext
from kubernetes.client.exceptions import ApiException

from raise_.orchestration.kubernetes import (
    KubernetesCluster,
    KubernetesConfig,
    manifest_dict,
    run_job_manifest,
    validate_manifest,
)
from raise_.orchestration.kubernetes.cluster import JobPhase

KUBECONFIG = os.environ.get("RAISE_TEST_KUBECONFIG", "").strip()
pytestmark = pytest.mark.skipif(
    not KUBECONFIG,
    reason="no Kubernetes cluster runs on these machines: set RAISE_TEST_KUBECONFIG to a kubeconfig "
    "(kind, minikube, a real cluster) to run the submission, status, logs and delete tests",
)
NAMESPACE = os.environ.get("RAISE_TEST_K8S_NAMESPACE", "default")
IMAGE = os.environ.get("RAISE_TEST_K8S_IMAGE", "busybox:1.36")
SECRET = "raise-test-run-token"
TERMINAL: tuple[JobPhase, ...] = ("succeeded", "failed")


@pytest.fixture(scope="module")
def cluster() -> Iterator[KubernetesCluster]:
    config = KubernetesConfig(
        namespace=NAMESPACE,
        kubeconfig=KUBECONFIG,
        context=os.environ.get("RAISE_TEST_K8S_CONTEXT") or None,
        token_secret=SECRET,
        raise_url="http://raise.invalid:8888",
        ttl_seconds_after_finished=300,
    )
    found = KubernetesCluster(config)
    core: CoreV1Api = found.core
    secret = V1Secret(metadata=V1ObjectMeta(name=SECRET), string_data={"token": uuid.uuid4().hex})
    try:
        core.create_namespaced_secret(NAMESPACE, secret)
    except ApiException as exc:
        if exc.status != 409:  # left by an earlier run: any token will do
            raise
    yield found
    try:
        core.delete_namespaced_secret(SECRET, NAMESPACE)
    finally:
        found.close()


def shell_job(cluster: KubernetesCluster, script: str, *, deadline: float | None = None) -> tuple[str, V1Job]:
    run_id = str(uuid.uuid4())
    job = run_job_manifest(run_id, "cluster-test", cluster.config, deadline_seconds=deadline)
    assert job.spec is not None
    container = job.spec.template.spec.containers[0]  # type: ignore[union-attr]
    container.image = IMAGE
    container.command = ["sh", "-c", script]
    # busybox runs as root by default; the manifest insists on a non-root user, so name one.
    context = container.security_context or V1SecurityContext()
    context.run_as_user = 65534
    container.security_context = context
    validate_manifest(manifest_dict(job))
    return run_id, job


def wait_for(cluster: KubernetesCluster, name: str, phases: tuple[JobPhase, ...], timeout: float = 240) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        phase = cluster.status(name)
        if not seen or seen[-1] != phase:
            seen.append(phase)
        if phase in phases:
            return seen
        time.sleep(1)
    pytest.fail(f"Job {name} did not reach {phases} in {timeout}s: {seen}, {cluster.pod_state(name)}")


def test_a_job_runs_and_its_log_is_read(cluster: KubernetesCluster) -> None:
    run_id, job = shell_job(
        cluster, 'test -n "$RAISE_TOKEN" && echo token-present; echo "raise-k8s-test $RAISE_URL"; exit 0'
    )
    name = cluster.submit(job)
    try:
        seen = wait_for(cluster, name, TERMINAL)
        assert seen[-1] == "succeeded", seen
        assert set(seen) <= {"pending", "running", "succeeded"}
        log = cluster.logs(name)
        assert "token-present" in log and "raise-k8s-test http://raise.invalid:8888" in log
        state = cluster.pod_state(name)
        assert state is not None and state.exit_code == 0
        assert cluster.read(name).metadata.labels["raise.dev/run-id"] == run_id  # type: ignore[union-attr, index]
    finally:
        assert cluster.delete(name) is True


def test_a_failing_job_is_failed_with_its_exit_code(cluster: KubernetesCluster) -> None:
    _, job = shell_job(cluster, "echo about to fail; exit 3")
    name = cluster.submit(job)
    try:
        assert wait_for(cluster, name, TERMINAL)[-1] == "failed"
        state = cluster.pod_state(name)
        assert state is not None and state.exit_code == 3
        assert "about to fail" in cluster.logs(name)
        assert (cluster.failure(name) or "").startswith("BackoffLimitExceeded")  # backoffLimit 0: one try
    finally:
        cluster.delete(name)


def test_the_deadline_ends_a_job_that_runs_too_long(cluster: KubernetesCluster) -> None:
    _, job = shell_job(cluster, "sleep 300", deadline=5)
    name = cluster.submit(job)
    try:
        assert wait_for(cluster, name, TERMINAL)[-1] == "failed"
        assert (cluster.failure(name) or "").startswith("DeadlineExceeded")
    finally:
        cluster.delete(name)


def test_deleting_a_job_removes_it(cluster: KubernetesCluster) -> None:
    _, job = shell_job(cluster, "sleep 300")
    name = cluster.submit(job)
    wait_for(cluster, name, ("pending", "running"))
    assert cluster.delete(name) is True
    deadline = time.monotonic() + 60
    while cluster.delete(name) and time.monotonic() < deadline:  # True while it is still being removed
        time.sleep(1)
    assert cluster.delete(name) is False
