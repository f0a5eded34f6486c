"""The Kubernetes launcher: a run as a ``batch/v1`` Job whose pod runs ``raise run RUN_ID``
(DESIGN §8 "Runs", PRD §18.14).

The pod records its run itself, as a local subprocess does. This launcher builds the Job
(:func:`~raise_.orchestration.kubernetes.manifest.run_job_manifest`), checks it against
Kubernetes' schemas, submits it, and watches it from a thread of its own: a stop (cancel, or the
run's timeout here) deletes the Job, whose pod then gets SIGTERM and records the run stopped;
when the Job ends, the pod's log tail goes into the run's log through
:meth:`RunService.record_exit`, which also records the run failed if the pod never got to record
it (the image could not be pulled, the pod was evicted, the deadline passed before it started).

The Job's ``activeDeadlineSeconds`` (the run's timeout) stops the pod even if this process is gone.

``raise_.orchestration`` is imported inside functions only: it sits above the runs core (its
orchestrators start jobs, whose runs this core holds), and importing it here at module level
would tie the two folders in a cycle. It also keeps the ``kubernetes`` package, an optional extra,
out of every process that does not launch on Kubernetes.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from raise_.errors import OrchestratorUnavailableError
from raise_.runs.records import RunRecord, StopReason
from raise_.runs.registry import ENV_RUN_KINDS
from raise_.runs.runner import LIVE_RUNS

if TYPE_CHECKING:
    from kubernetes.client import V1Job

    from raise_.orchestration.kubernetes.cluster import JobPhase, PodState
    from raise_.orchestration.kubernetes.config import KubernetesConfig
    from raise_.runs.service import RunService

__all__ = ["JobCluster", "KubernetesLauncher"]

log = logging.getLogger(__name__)


class JobCluster(Protocol):
    """What the launcher asks of a cluster (:class:`~raise_.orchestration.kubernetes.cluster.KubernetesCluster`)."""

    def submit(self, job: V1Job) -> str: ...

    def status(self, name: str) -> JobPhase: ...

    def failure(self, name: str) -> str | None: ...

    def pod_state(self, name: str) -> PodState | None: ...

    def logs(self, name: str, tail_lines: int | None = None) -> str: ...

    def delete(self, name: str, propagation: str = "Background") -> bool: ...


class _JobHandle:
    def __init__(self) -> None:
        self.done = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)


@dataclass
class _Last:
    """What was last seen of a Job's pod: kept because deleting the Job deletes the pod, its log
    and the reason it never started with it."""

    output: str = ""
    pod: PodState | None = None


def _is_gone(exc: OrchestratorUnavailableError) -> bool:
    return exc.details.get("status") == 404


class KubernetesLauncher:
    """Runs as Jobs of ``config`` (default: :meth:`KubernetesConfig.from_env`) on ``cluster``
    (default: the config's kubeconfig; without one, an ``ORCHESTRATOR_UNAVAILABLE`` error saying
    how to set one). The Job is polled every ``poll_interval`` seconds; ``log_tail_lines`` of the
    pod's log go into the run's log."""

    name = "kubernetes"

    def __init__(
        self,
        config: KubernetesConfig | None = None,
        cluster: JobCluster | None = None,
        poll_interval: float = 2.0,
        *,
        log_tail_lines: int = 200,
    ) -> None:
        from raise_.orchestration.kubernetes.cluster import KubernetesCluster
        from raise_.orchestration.kubernetes.config import KubernetesConfig

        self.config = config if config is not None else KubernetesConfig.from_env()
        self.cluster: JobCluster = cluster if cluster is not None else KubernetesCluster(self.config)
        self.poll_interval = poll_interval
        self.log_tail_lines = log_tail_lines
        self._jobs: dict[str, str] = {}
        self._stops: dict[str, StopReason] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def manifest(self, run: RunRecord, runs: RunService | None = None) -> V1Job:
        """The Job of ``run``: resources from ``run.spec["resources"]`` (a mapping of
        :class:`ResourceRequest` fields), image from ``run.spec["image"]`` (else the config's),
        deadline from the run's timeout; the pod acts as the run's actor and knows its kinds."""
        from raise_.orchestration.kubernetes.manifest import run_job_manifest
        from raise_.orchestration.kubernetes.resources import ResourceRequest

        wanted = run.spec.get("resources")
        resources = ResourceRequest.from_spec(wanted) if isinstance(wanted, Mapping) else None
        image = run.spec.get("image")
        env = {"RAISE_USER": run.actor}
        if runs is not None:
            env[ENV_RUN_KINDS] = json.dumps(runs.kinds.importable())
        return run_job_manifest(
            run.id,
            run.kind,
            self.config,
            resources,
            image=image if isinstance(image, str) else None,
            deadline_seconds=run.timeout_seconds,
            env=env,
        )

    def launch(self, run: RunRecord, runs: RunService) -> _JobHandle:
        from raise_.orchestration.kubernetes.manifest import manifest_dict, validate_manifest

        if self._closed.is_set():
            raise RuntimeError("this Kubernetes launcher was shut down")
        job = self.manifest(run, runs)
        validate_manifest(manifest_dict(job))  # a Job the API server would refuse fails the launch here
        name = self.cluster.submit(job)
        handle = _JobHandle()
        with self._lock:
            self._jobs[run.id] = name
        threading.Thread(
            target=self._monitor, args=(run, runs, name, handle), name=f"raise-k8s-{run.id[:8]}", daemon=True
        ).start()
        return handle

    def job_of(self, run_id: str) -> str | None:
        """The name of the Job a run held by this launcher runs in."""
        with self._lock:
            return self._jobs.get(run_id)

    def stop(self, run_id: str, reason: StopReason) -> bool:
        with self._lock:
            if run_id not in self._jobs:
                return False
            self._stops.setdefault(run_id, reason)
        return True

    def shutdown(self) -> None:
        """Stop watching: the Jobs go on and their pods record their runs; a run whose pod has
        not started yet is left to orphan detection, as with the other launchers."""
        self._closed.set()

    # -- watching the Job -------------------------------------------------------------------------

    def _monitor(self, run: RunRecord, runs: RunService, name: str, handle: _JobHandle) -> None:
        deadline = time.monotonic() + run.timeout_seconds if run.timeout_seconds else None
        last = _Last()
        stopped: StopReason | None = None
        try:
            while not self._closed.wait(self.poll_interval):
                if stopped is None:
                    stopped = self._stop_reason(run, runs, deadline)
                    if stopped is not None:
                        self._look(name, last)  # the pod goes with the Job: keep what it said
                        # Foreground: the Job stays until its pod is gone, so "not found" below
                        # means the pod's `raise run` has recorded the stop (or was killed after
                        # its grace period).
                        try:
                            self.cluster.delete(name, propagation="Foreground")
                        except OrchestratorUnavailableError as exc:
                            log.warning("deleting Job %s of run %s: %s", name, run.id, exc.message)
                            stopped = None  # the API blinked: stop it next round
                            continue
                try:
                    phase = self.cluster.status(name)
                except OrchestratorUnavailableError as exc:
                    if not _is_gone(exc):
                        log.warning("reading Job %s of run %s: %s", name, run.id, exc.message)
                        continue  # the API blinked: look again next round
                    # Deleted: by this launcher, or by someone with kubectl.
                    self._end(run, runs, name, "failed", last, gone=True, stopped=stopped)
                    return
                if phase in ("pending", "running"):
                    if stopped is not None:
                        self._look(name, last)
                    continue
                self._end(run, runs, name, phase, last, gone=False, stopped=stopped)
                return
        except Exception:  # the run is then reported by orphan detection, or by its pod
            log.exception("watching Job %s of run %s", name, run.id)
        finally:
            self._release(run.id)
            LIVE_RUNS.discard(run.id)
            handle.done.set()

    def _release(self, run_id: str) -> None:
        """Stop holding a run: called before its end is recorded, so that whoever sees the run
        ended also sees this launcher no longer holding it."""
        with self._lock:
            self._jobs.pop(run_id, None)
            self._stops.pop(run_id, None)

    def _look(self, name: str, last: _Last) -> None:
        try:
            last.output = self.cluster.logs(name, tail_lines=self.log_tail_lines) or last.output
            last.pod = self.cluster.pod_state(name) or last.pod
        except OrchestratorUnavailableError as exc:
            log.warning("reading the pod of Job %s: %s", name, exc.message)

    def _end(
        self,
        run: RunRecord,
        runs: RunService,
        name: str,
        phase: JobPhase,
        last: _Last,
        *,
        gone: bool,
        stopped: StopReason | None,
    ) -> None:
        """Hand the pod's output to the run, and record it failed if its pod never recorded it."""
        if not gone:
            self._look(name, last)
        self._release(run.id)
        if phase == "succeeded":
            returncode = last.pod.exit_code if last.pod and last.pod.exit_code is not None else 0
            runs.record_exit(run.id, returncode, last.output)
            return
        why = "failed"
        if gone:
            why = {None: "was deleted", "cancelled": "was deleted: the run was cancelled"}.get(
                stopped, "was deleted: the run took longer than its timeout"
            )
        if not gone:
            try:
                reason = self.cluster.failure(name)
            except OrchestratorUnavailableError:
                reason = None
            why += f" ({reason})" if reason else ""
        said = f"; {last.pod.describe()}" if last.pod else "; it had no pod"
        # The last line is what a failed run's error quotes: why Kubernetes ended the pod.
        output = f"{last.output.rstrip()}\nkubernetes: Job {name} {why}{said}".lstrip()
        returncode = last.pod.exit_code if last.pod and last.pod.exit_code is not None else 1
        runs.record_exit(run.id, returncode, output)

    def _stop_reason(self, run: RunRecord, runs: RunService, deadline: float | None) -> StopReason | None:
        """Why the run must stop now, if it must: stopped here, past its timeout, or asked to by
        another process (a cancel through another server shares the catalog, not this object)."""
        with self._lock:
            local = self._stops.get(run.id)
        if local is not None:
            runs.request_stop(run.id, local)
            return local
        if deadline is not None and time.monotonic() >= deadline:
            # Recorded before the pod is stopped, so its `raise run` records a timeout, not a cancel.
            runs.request_stop(run.id, "timed_out")
            return "timed_out"
        try:
            return runs.stop_requests([run.id]).get(run.id)
        except Exception:  # the catalog blinked: look again next round
            return None
