"""Dashboards (PRD §13): parameterised charts of analyses and live tables, rendered as JSON,
YAML or one self-contained HTML file, and published behind the server's authentication."""
