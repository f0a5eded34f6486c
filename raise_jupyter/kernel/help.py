"""``%raise help``: every command with its usage and an example, from one table."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

__all__ = ["COMMANDS", "Command", "HelpText"]


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    summary: str
    example: str
    cell: bool  # takes a cell body (%%raise) rather than a line (%raise)


COMMANDS: tuple[Command, ...] = (
    Command(
        "use",
        "%raise use ORG/DOMAIN/PROJECT",
        "Work in this project (created on first use); %raise use VAR takes a FeatureStore variable.",
        "%raise use acme/mlplatform/recommendation",
        False,
    ),
    Command(
        "sql",
        "%%raise sql [-o NAME] [--preview N]",
        'One SELECT over feature groups (a group is a table: "user-signals"; columns: entity keys, event time, '
        "current features, derived ones computed). {{x}} binds the notebook variable x as a value. "
        "Returns a DataFrame; -o also stores it in NAME.",
        '%%raise sql -o top\nSELECT user_id, ctr FROM "user-signals" WHERE ctr > {{threshold}} ORDER BY ctr DESC',
        True,
    ),
    Command(
        "features",
        "%%raise features GROUP [--if-exists error|skip|update]",
        "Create the features of a features.yaml body in GROUP, all or none, and list them. "
        "A GROUP that does not exist is created (its entity keys are fixed by its first write).",
        "%%raise features user-signals\nfeatures:\n  - name: click_count\n    dtype: int64\n"
        "    tags: [engagement]\n  - name: ctr\n    dtype: float64\n"
        "    derived_from: click_count / NULLIF(impression_count, 0)",
        True,
    ),
    Command(
        "derive",
        "%%raise derive GROUP/FEATURE DTYPE [--description TEXT] [--tags a,b] [--validation LEVEL] "
        "[--if-exists error|skip|update]",
        "Validate the body as derived_from, create the feature, show its inferred type and lineage.",
        "%%raise derive user-signals/ctr float64\nclick_count / NULLIF(impression_count, 0)",
        True,
    ),
    Command(
        "lineage",
        "%raise lineage PATH",
        "The lineage graph of a feature (group/feature[@vN]); click a node for its details.",
        "%raise lineage user-signals/ctr",
        False,
    ),
    Command(
        "catalog",
        "%raise catalog",
        "Browse organizations, domains, projects, groups and features; search features.",
        "%raise catalog",
        False,
    ),
    Command(
        "form",
        "%raise form GROUP",
        "A form that creates a feature in GROUP, validating its expression as you type.",
        "%raise form user-signals",
        False,
    ),
    Command(
        "analyze",
        "%%raise analyze [GROUP] [--freshness real_time|cached|within:1h] [-o NAME] [--no-plot]",
        "Run the analysis spec of the YAML body (aggregation, distribution, correlation, version_diff, "
        "stat_test, record_lookup) on GROUP (or on features named by path), show its chart and result.",
        "%%raise analyze user-signals\ntype: distribution\nfeature: session_minutes\nbins: 30\nsegment_by: country",
        True,
    ),
    Command(
        "live",
        "%%raise live NAME [--group GROUP] [-o VAR] [--preview N]  |  %raise live NAME --group GROUP [-o VAR]",
        "Create the live table NAME from the YAML body (group, analysis, refresh: on_change, hourly, daily, "
        "manual or cron:EXPR, description) and show it with its first rows; if NAME exists in the group it is "
        "opened as it is (the body changes nothing). The line form shows an existing one. -o stores the "
        "LiveTable in VAR.",
        "%%raise live daily_engagement -o daily\ngroup: user-signals\nanalysis:\n  type: aggregation\n"
        "  feature: click_count\n  metrics: [sum, avg, count]\n  group_by: user_tier\nrefresh: on_change",
        True,
    ),
    Command(
        "dashboard",
        "%%raise dashboard NAME [-o VAR]",
        "Create the dashboard NAME from the YAML body (PRD §13.1: description, parameters, charts with an "
        "analysis or a live_table, chart_type, x, y; layout) or, if NAME exists, replace its definition with "
        "the body; show it with its parameter controls. -o stores the Dashboard in VAR.",
        "%%raise dashboard engagement-overview\ndescription: User engagement\nparameters:\n"
        "  - {name: tier, type: dropdown, options: [all, gold, silver]}\ncharts:\n"
        "  - title: Clicks by tier\n    analysis: {type: aggregation, feature: click_count, metrics: [sum], "
        "group_by: user_tier}\n    chart_type: bar\n    x: user_tier\n    y: sum\nlayout: {type: grid, columns: 2}",
        True,
    ),
    Command(
        "alert",
        "%%raise alert NAME [-o VAR]",
        "Create the analytics alert NAME from the YAML body (analysis, condition: {type, value | low/high, "
        "metric}, notify, channels: email, slack, webhook, pagerduty, sms, check_interval, check_on_change, "
        "group, description) and show it. -o stores the alert in VAR.",
        "%%raise alert high-null-rate\nanalysis:\n  type: aggregation\n  feature: revenue\n"
        "  metrics: [null_rate]\ncondition: {type: greater_than, value: 0.05, metric: null_rate}\n"
        "notify: [data-quality@acme.com]\nchannels: [email]\ncheck_interval: 1h",
        True,
    ),
    Command(
        "job",
        "%%raise job NAME [--run] [-o VAR]  |  %raise job NAME [--run] [-o VAR]",
        "Create the transformation job NAME (a draft) from the YAML body: sources (each with its source_type: "
        "filesystem, object_storage, database, columnar, feature_group), transform (transform_type: sql, name, "
        "sql, parameters), target (a group name, or feature_group, features, write_mode, key_columns), schedule "
        "(manual, on_change, cron:EXPR, 30m), incremental (mode, checkpoint_column, lookback, key_columns), "
        "quality_checks, description, tags, retries, timeout; and show it. With no body it opens the job NAME "
        "as it is. --run runs it now and shows the run; -o stores the Job in VAR.",
        "%%raise job daily_clicks --run\n"
        "sources:\n  - {source_type: filesystem, path: /data/clicks/, format: parquet}\n"
        "transform:\n  transform_type: sql\n  name: daily_clicks\n"
        "  sql: SELECT user_id, DATE(event_time) AS date, COUNT(*) AS clicks FROM source GROUP BY 1, 2\n"
        "target: {feature_group: user-signals, features: {clicks: daily_clicks}, write_mode: upsert, "
        "key_columns: [user_id, date]}\nincremental: {mode: incremental, checkpoint_column: event_time}",
        True,
    ),
    Command(
        "lookup",
        "%raise lookup GROUP KEY [KEY ...] [--features F1,F2] [-o VAR]",
        "Look KEYs up in the online store (what a model in production gets): per key and feature its value, "
        "event time, version and status (OK, NOT_FOUND, EXPIRED, DENIED). A KEY is a value for a group with "
        "one entity key, else key=value,key2=value2. Default features: those the group keeps online.",
        "%raise lookup user-signals 1 2 --features clicks,ctr",
        False,
    ),
    Command("help", "%raise help [COMMAND]", "This help, or one command's.", "%raise help sql", False),
)


class HelpText:
    """The help, as text (and Markdown for front ends that render it)."""

    def __init__(self, commands: tuple[Command, ...] = COMMANDS, store_path: str | None = None) -> None:
        self.commands = commands
        self.store_path = store_path

    def __repr__(self) -> str:
        lines = ["Raise magics (%load_ext raise_jupyter)"]
        if self.store_path:
            lines.append(f"current project: {self.store_path}")
        for command in self.commands:
            lines += ["", command.usage, f"    {command.summary}", "    example:"]
            lines += [f"        {line}" for line in command.example.splitlines()]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        parts = ["**Raise magics** (`%load_ext raise_jupyter`)"]
        if self.store_path:
            parts.append(f"current project: `{self.store_path}`")
        for command in self.commands:
            parts.append(f"`{command.usage}`  \n{escape(command.summary)}\n\n```\n{command.example}\n```")
        return "\n\n".join(parts)
