"""Jupyter integration for Raise."""
