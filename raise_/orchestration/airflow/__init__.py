"""Airflow as a job's orchestrator (PRD §16): DAG generation, Airflow 3's REST API, deployment."""

from raise_.orchestration.airflow.config import AirflowConfig
from raise_.orchestration.airflow.dag import dag_id_of, generate_airflow_dag_source

__all__ = ["AirflowConfig", "dag_id_of", "generate_airflow_dag_source"]
