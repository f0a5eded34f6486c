"""Transformation jobs (PRD §15): sources, transforms, targets, schedules, incremental runs and
quality checks; :mod:`raise_.jobs.service` runs them, :mod:`raise_.jobs.execution` computes a run
in its own process."""
