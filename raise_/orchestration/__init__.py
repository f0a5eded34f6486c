"""Where runs execute and who else hears of them: orchestrators (internal, Airflow), Kubernetes,
OpenLineage (DESIGN §8's ``Orchestrator`` and ``Launcher`` seams; PRD §16, §18.14)."""
