"""A transformation job on ``launcher="kubernetes"``: accepted in its definition; on a store whose
owner configured no cluster its run fails saying how to configure one; with a kubeconfig whose API
server does not answer (no cluster runs on these machines), the launcher builds and validates
the job's pod and the real client's refused submission fails the run. Nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from airflow_local import free_port
from orchestration_data import clicks_job, signals_group

from raise_ import ACL, FeatureStore

KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: nowhere
  cluster:
    server: https://127.0.0.1:{port}
    insecure-skip-tls-verify: true
users:
- name: raise
  user:
    token: not-a-real-token
contexts:
- name: nowhere
  context:
    cluster: nowhere
    user: raise
    namespace: raise
current-context: nowhere
"""


def _store() -> FeatureStore:
    fs = FeatureStore("acme/mlplatform/recommendation")
    fs.organization().set_acl(ACL(readers=["*@acme"], writers=["*@acme"]))
    signals_group(fs)
    return fs


def test_without_a_cluster_the_run_says_how_to_configure_one(
    fresh_store: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("RAISE_K8S_KUBECONFIG", raising=False)
    fs = _store()
    job = clicks_job(fs, tmp_path / "data", launcher="kubernetes")
    assert job.definition.launcher == "kubernetes"
    run = job.run()
    assert (run.status, run.error_code) == ("failed", "INVALID_ARGUMENT")
    assert "RAISE_K8S_KUBECONFIG" in (run.error or "")
    assert len(fs.feature_group("user-signals").read(history=True).to_pandas()) == 0


def test_with_an_unreachable_cluster_the_refused_submission_fails_the_run(
    fresh_store: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG.format(port=free_port()))
    monkeypatch.setenv("RAISE_K8S_KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("RAISE_K8S_RAISE_URL", "http://raise.example.com:8888/")
    fs = _store()
    job = clicks_job(fs, tmp_path / "data", launcher="kubernetes", timeout=120)
    run = job.run()
    assert (run.status, run.error_code) == ("failed", "ORCHESTRATOR_UNAVAILABLE"), run.error
    assert "not-a-real-token" not in (run.error or "") + run.log
    assert len(fs.feature_group("user-signals").read(history=True).to_pandas()) == 0
