"""The Kubernetes launcher's bookkeeping (issue 21, item 4), without a cluster: the Job it submits
for a run, and what it records when the Job ends, fails, is cancelled or outlives the run's timeout.

The cluster here is :class:`ScriptedCluster`, which plays back the phases and the pod a real
Job would go through and records what the launcher asked of it. It says nothing about whether
Kubernetes runs the Job: test_kubernetes_cluster.py does that against a real cluster, when
``RAISE_TEST_KUBECONFIG`` names one. Loading a kubeconfig and reading a Job's status object are
real here (the client's own loader and models), since neither needs a cluster.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from kubernetes.client import Configuration, V1Job, V1JobCondition, V1JobStatus

from raise_.errors import InvalidArgumentError, OrchestratorUnavailableError
from raise_.metadata.database import CatalogDatabase
from raise_.orchestration.kubernetes import KubernetesCluster, KubernetesConfig, job_phase, manifest_dict
from raise_.orchestration.kubernetes.cluster import JobPhase, PodState
from raise_.runs import RunContext, RunKinds, RunRecord, RunService
from raise_.runs.launchers.kubernetes import KubernetesLauncher

ACTOR = "alice@acme"


def add_numbers(run: RunRecord, ctx: RunContext) -> dict[str, Any]:
    """The run kind these tests submit (its import path goes to the pod in RAISE_RUN_KINDS)."""
    ctx.log("adding")
    return {"total": sum(run.spec.get("numbers", []))}


class ScriptedCluster:
    """Plays back a Job's phases (the last one repeats) and its pod; records submissions and
    deletions. ``pod_runs`` stands for the pod's ``raise run``: called with the run id just before
    the Job is reported succeeded."""

    def __init__(
        self,
        phases: list[JobPhase],
        *,
        log: str = "",
        pod: PodState | None = None,
        failure: str | None = None,
        pod_runs: Callable[[str], object] | None = None,
    ) -> None:
        self.phases = list(phases)
        self.log = log
        self.pod = pod
        self.failure_reason = failure
        self.pod_runs = pod_runs
        self.jobs: list[dict[str, Any]] = []
        self.deleted: list[tuple[str, str]] = []

    def submit(self, job: V1Job) -> str:
        self.jobs.append(manifest_dict(job))
        assert job.metadata is not None and job.metadata.name
        return job.metadata.name

    def status(self, name: str) -> JobPhase:
        if self.deleted:
            raise OrchestratorUnavailableError("Kubernetes refused to read Job: 404 Not Found.", {"status": 404})
        phase = self.phases.pop(0) if len(self.phases) > 1 else self.phases[0]
        if phase == "succeeded" and self.pod_runs is not None:
            self.pod_runs(self.jobs[-1]["metadata"]["labels"]["raise.dev/run-id"])
            self.pod_runs = None
        return phase

    def failure(self, name: str) -> str | None:
        return self.failure_reason

    def pod_state(self, name: str) -> PodState | None:
        return self.pod

    def logs(self, name: str, tail_lines: int | None = None) -> str:
        return self.log

    def delete(self, name: str, propagation: str = "Background") -> bool:
        self.deleted.append((name, propagation))
        return True


@pytest.fixture
def runs(catalog_url: str, tmp_path: Path) -> Iterator[RunService]:
    db = CatalogDatabase(catalog_url)
    db.migrate()
    kinds = RunKinds()
    kinds.register("add-numbers", add_numbers)
    service = RunService(db, lambda: ACTOR, kinds=kinds, launchers={}, environment={"RAISE_HOME": str(tmp_path)})
    yield service
    service.shutdown()
    db.dispose()


def use(runs: RunService, cluster: ScriptedCluster, config: KubernetesConfig | None = None) -> KubernetesLauncher:
    launcher = KubernetesLauncher(config or KubernetesConfig(), cluster=cluster, poll_interval=0.02)
    runs.launchers["kubernetes"] = launcher
    return launcher


def test_a_run_becomes_a_validated_job_and_its_pod_output_joins_the_run(runs: RunService) -> None:
    cluster = ScriptedCluster(
        ["pending", "running", "succeeded"],
        log="hello from the pod\nrun done\n",
        pod=PodState("raise-run-add-numbers-x-abcde", "Succeeded", 0, "Completed"),
        pod_runs=runs.execute,  # what `raise run RUN_ID` does in the pod
    )
    use(runs, cluster, KubernetesConfig(raise_url="https://raise.acme"))
    spec = {
        "numbers": [1, 2, 39],
        "resources": {"cpu": 2, "memory": "4Gi", "gpu_count": 1, "gpu_type": "L4"},
        "image": "registry.acme/raise-gpu:1.0",
    }
    submitted = runs.submit("add-numbers", spec, launcher="kubernetes", timeout=120)
    run = runs.wait(submitted.id, timeout=30)
    assert run.status == "completed", run
    assert run.result == {"total": 42}
    assert "adding" in run.log and "hello from the pod" in run.log  # the pod's log joins the handler's

    (job,) = cluster.jobs
    kubernetes_validate.validate(job, "1.37.0", strict=True)
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["raise", "run", submitted.id]
    assert container["image"] == "registry.acme/raise-gpu:1.0"
    assert container["resources"]["limits"] == {"memory": "4Gi", "nvidia.com/gpu": "1"}
    assert job["spec"]["template"]["spec"]["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    assert job["spec"]["activeDeadlineSeconds"] == 120
    env = {e["name"]: e for e in container["env"]}
    assert env["RAISE_USER"]["value"] == ACTOR  # the pod acts as the run's actor
    assert json.loads(env["RAISE_RUN_KINDS"]["value"])["add-numbers"] == f"{__name__}:add_numbers"
    assert "value" not in env["RAISE_TOKEN"] and env["RAISE_TOKEN"]["valueFrom"]["secretKeyRef"]["name"]
    assert cluster.deleted == []


def test_a_job_that_ends_before_its_pod_records_fails_the_run_with_why(runs: RunService) -> None:
    cluster = ScriptedCluster(
        ["pending", "running", "failed"],
        log="loading model weights\n",
        pod=PodState("raise-run-add-numbers-x-abcde", "Failed", 137, "OOMKilled"),
        failure="BackoffLimitExceeded: Job has reached the specified backoff limit",
    )
    use(runs, cluster)
    run = runs.wait(runs.submit("add-numbers", launcher="kubernetes").id, timeout=30)
    assert run.status == "failed"
    assert run.error is not None and run.error.code == "RUN_CRASHED"
    assert "exited with status 137" in run.error.message
    assert "BackoffLimitExceeded" in run.error.message and "OOMKilled" in run.error.message
    assert "loading model weights" in run.log


def test_cancelling_a_run_deletes_its_job(runs: RunService) -> None:
    cluster = ScriptedCluster(["pending"])
    launcher = use(runs, cluster)
    submitted = runs.submit("add-numbers", launcher="kubernetes")
    name = launcher.job_of(submitted.id)
    assert name is not None and name.startswith("raise-run-add-numbers-")
    assert runs.cancel(submitted.id, wait=0).status == "cancelled"
    run = runs.wait(submitted.id, timeout=30)
    deadline = time.monotonic() + 30
    while not cluster.deleted and time.monotonic() < deadline:
        time.sleep(0.02)
    # Foreground: the Job is reported gone only once its pod is, so the pod records the stop first.
    assert cluster.deleted == [(name, "Foreground")]
    assert run.status == "cancelled" and run.error is not None and run.error.code == "RUN_CANCELLED"
    assert launcher.stop(submitted.id, "cancelled") is False  # no longer held


def test_a_run_past_its_timeout_has_its_job_deleted_and_says_why(runs: RunService) -> None:
    unschedulable = PodState(
        "raise-run-add-numbers-x-abcde", "Pending", None, "Unschedulable", "0/3 nodes: 3 Insufficient nvidia.com/gpu."
    )
    cluster = ScriptedCluster(["pending"], pod=unschedulable)
    use(runs, cluster)
    submitted = runs.submit("add-numbers", {"resources": {"gpu_count": 8}}, launcher="kubernetes", timeout=0.2)
    run = runs.wait(submitted.id, timeout=30)
    assert len(cluster.deleted) == 1
    # It never started, so it cannot have timed out running: it failed, and the message says why.
    assert run.status == "failed" and run.error is not None
    assert "took longer than its timeout" in run.error.message
    assert "Insufficient nvidia.com/gpu" in run.error.message


def test_a_bad_resource_spec_fails_the_launch_and_submits_nothing(runs: RunService) -> None:
    cluster = ScriptedCluster(["pending"])
    use(runs, cluster)
    with pytest.raises(InvalidArgumentError, match="'2G' \\(decimal\\) or '2Gi'"):
        runs.submit("add-numbers", {"resources": {"memory": "2GB"}}, launcher="kubernetes")
    (run,) = runs.list_runs(kind="add-numbers")
    assert run.status == "failed" and run.error is not None and run.error.code == "RUN_LAUNCH_FAILED"
    assert cluster.jobs == []


def test_a_shut_down_launcher_takes_no_more_runs(runs: RunService) -> None:
    launcher = use(runs, ScriptedCluster(["pending"]))
    launcher.shutdown()
    with pytest.raises(RuntimeError, match="shut down"):
        runs.submit("add-numbers", launcher="kubernetes")


# -- reading a Job's status ----------------------------------------------------------------------


def condition(kind: str, status: str = "True") -> V1JobCondition:
    return V1JobCondition(type=kind, status=status)


@pytest.mark.parametrize(
    ("status", "phase"),
    [
        (None, "pending"),
        (V1JobStatus(), "pending"),
        (V1JobStatus(active=1, ready=0), "pending"),  # scheduled or pulling, not started
        (V1JobStatus(active=1, ready=1), "running"),
        (V1JobStatus(active=1), "running"),  # a cluster that does not count ready pods
        (V1JobStatus(succeeded=1, conditions=[condition("SuccessCriteriaMet")]), "running"),  # pod still ending
        (V1JobStatus(succeeded=1, conditions=[condition("SuccessCriteriaMet"), condition("Complete")]), "succeeded"),
        (V1JobStatus(failed=1, conditions=[condition("FailureTarget")]), "running"),
        (V1JobStatus(failed=1, conditions=[condition("FailureTarget"), condition("Failed")]), "failed"),
        (V1JobStatus(failed=1, conditions=[condition("Failed", "False")]), "running"),
        (V1JobStatus(active=0, conditions=[condition("Suspended")]), "pending"),
    ],
)
def test_a_job_status_reads_as_a_phase(status: V1JobStatus | None, phase: str) -> None:
    assert job_phase(status) == phase


# -- loading a kubeconfig (no cluster is contacted) ------------------------------------------------

KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev
  cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
- name: prod
  cluster: {server: "https://k8s.prod.acme:443", insecure-skip-tls-verify: true}
users:
- name: raise
  user: {token: kubeconfig-token-not-a-real-one}
contexts:
- name: dev
  context: {cluster: dev, user: raise, namespace: default}
- name: prod
  context: {cluster: prod, user: raise}
"""


def test_the_cluster_loads_the_configured_kubeconfig_and_context(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    default_host = Configuration.get_default().host
    assert KubernetesCluster(KubernetesConfig(kubeconfig=str(path))).host == "https://127.0.0.1:6443"
    prod = KubernetesCluster(KubernetesConfig(kubeconfig=str(path), context="prod", namespace="ml"))
    assert (prod.host, prod.namespace) == ("https://k8s.prod.acme:443", "ml")
    assert Configuration.get_default().host == default_host  # the client's process-wide default is left alone
    with pytest.raises(OrchestratorUnavailableError, match="could not be loaded") as caught:
        KubernetesCluster(KubernetesConfig(kubeconfig=str(path), context="staging"))
    assert "kubeconfig-token-not-a-real-one" not in caught.value.message
