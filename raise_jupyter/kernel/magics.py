"""``%raise`` / ``%%raise``: the notebook's door onto the SDK.

The magic parses its line (and cell), calls the SDK and returns the result; it decides nothing itself.
A coded :class:`~raise_.errors.RaiseError` becomes a ``UsageError`` carrying the coded message, which
IPython shows as one line without a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import keyword
import shlex
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import yaml
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

from raise_.analytics.refresh_policy import RefreshPolicy
from raise_.analytics.result import AnalysisResult
from raise_.analytics.specs import spec_from_dict
from raise_.catalog.paths import split_version
from raise_.client.dashboards import definition_from_text
from raise_.client.feature import Feature
from raise_.client.online import OnlineFeatures
from raise_.client.store import FeatureStore
from raise_.errors import (
    DashboardNotFoundError,
    FeatureNotFoundError,
    InvalidAnalysisError,
    InvalidArgumentError,
    InvalidExpressionError,
    InvalidFileError,
    JobExistsError,
    JobNotFoundError,
    LiveTableExistsError,
    LiveTableNotFoundError,
    RaiseError,
)
from raise_jupyter.kernel.help import COMMANDS, HelpText
from raise_jupyter.kernel.paths import resolve_group, resolve_or_create_group, split_feature_target
from raise_jupyter.kernel.results import (
    DEFAULT_PREVIEW_ROWS,
    CreatedFeatures,
    DerivedFeature,
    JobShown,
    LiveTableShown,
    QueryResult,
)
from raise_jupyter.kernel.sql import run_sql

__all__ = ["RaiseMagics"]


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad line as a coded error instead of printing usage and exiting."""

    def __init__(self, command: str) -> None:
        usage = next(c.usage for c in COMMANDS if c.name == command)
        super().__init__(prog=f"%raise {command}", usage=usage, add_help=False, allow_abbrev=False)
        self._usage_line = usage

    def error(self, message: str) -> NoReturn:
        raise InvalidArgumentError(f"{message}. Usage: {self._usage_line}", {"usage": self._usage_line})

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        self.error(message or "invalid arguments")


def _is_variable_name(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


#: The keys of a ``%%raise live`` body.
LIVE_KEYS = ("group", "analysis", "refresh", "description")
#: How many rows of a live table ``%raise live`` shows.
LIVE_PREVIEW_ROWS = 10


def _yaml_error(exc: yaml.YAMLError) -> InvalidFileError:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return InvalidFileError(f"The cell body is not valid YAML: {problem}{where}.", {"source": "cell"})


@magics_class
class RaiseMagics(Magics):
    """``%raise COMMAND ...`` (one line) and ``%%raise COMMAND ...`` (with a cell body)."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self._store: FeatureStore | None = None
        # (handler, takes a cell body: True must, False must not, None may)
        self._commands: dict[str, tuple[Callable[[list[str], str | None], Any], bool | None]] = {
            "use": (self._use, False),
            "sql": (self._sql, True),
            "features": (self._features, True),
            "derive": (self._derive, True),
            "lineage": (self._lineage, False),
            "catalog": (self._catalog, False),
            "form": (self._form, False),
            "analyze": (self._analyze, True),
            "live": (self._live, None),
            "dashboard": (self._dashboard, True),
            "alert": (self._alert, True),
            "job": (self._job, None),
            "lookup": (self._lookup, False),
            "help": (self._help, False),
        }

    # -- the store -----------------------------------------------------------------------------

    @property
    def store(self) -> FeatureStore:
        """The notebook's store: the one ``%raise use`` chose, else ``FeatureStore()`` (``RAISE_PROJECT``)."""
        if self._store is None:
            self._store = FeatureStore()
        return self._store

    @store.setter
    def store(self, store: FeatureStore | None) -> None:
        """Set the store; ``None`` goes back to the default on next use."""
        self._store = store

    @property
    def _namespace(self) -> Mapping[str, Any]:
        return self.shell.user_ns if self.shell is not None else {}

    # -- entry point ---------------------------------------------------------------------------

    @line_cell_magic("raise")  # type: ignore[arg-type]  # IPython's decorator types reject a named magic
    def raise_magic(self, line: str, cell: str | None = None) -> Any:
        """Raise feature store commands; ``%raise help`` lists them with examples."""
        try:
            return self._dispatch(line, cell)
        except RaiseError as exc:
            raise UsageError(str(exc)) from None

    def _dispatch(self, line: str, cell: str | None) -> Any:
        try:
            tokens = shlex.split(line)
        except ValueError as exc:
            raise InvalidArgumentError(f"Cannot read the magic line: {exc}.", {"line": line}) from None
        if not tokens:
            tokens = ["help"]
        name, args = tokens[0], tokens[1:]
        if name not in self._commands:
            close = difflib.get_close_matches(name, list(self._commands), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise InvalidArgumentError(
                f"Unknown command {name!r}.{hint} `%raise help` lists the commands.", {"command": name}
            )
        handler, takes_cell = self._commands[name]
        if takes_cell is True and cell is None:
            raise InvalidArgumentError(
                f"`{name}` needs a cell body: put `%%raise {line.strip()}` on the first line of a cell "
                "and the body below it.",
                {"command": name},
            )
        if takes_cell is False and cell is not None and cell.strip():
            raise InvalidArgumentError(
                f"`{name}` takes no cell body: write `%raise {line.strip()}` on a line of its own.",
                {"command": name},
            )
        return handler(args, cell)

    # -- commands ------------------------------------------------------------------------------

    def _use(self, args: list[str], cell: str | None) -> FeatureStore:
        parser = _Parser("use")
        parser.add_argument("target", nargs="?")
        target = parser.parse_args(args).target
        if target is None:
            return self.store
        value = self._namespace.get(target) if _is_variable_name(target) else None
        if isinstance(value, FeatureStore):
            self._store = value
        else:
            self._store = FeatureStore(target)
        return self._store

    def _sql(self, args: list[str], cell: str | None) -> QueryResult:
        parser = _Parser("sql")
        parser.add_argument("-o", "--output", metavar="NAME")
        parser.add_argument("--preview", type=int, default=DEFAULT_PREVIEW_ROWS, metavar="N")
        options = parser.parse_args(args)
        if options.output is not None and not _is_variable_name(options.output):
            raise InvalidArgumentError(
                f"-o {options.output!r}: give a Python variable name to store the result in.",
                {"output": options.output},
            )
        if options.preview < 1:
            raise InvalidArgumentError("--preview must be at least 1.", {"preview": options.preview})
        table = run_sql(self.store, cell or "", self._namespace)
        result = QueryResult.of(table.to_pandas(), options.preview)
        if options.output is not None and self.shell is not None:
            self.shell.user_ns[options.output] = result
        return result

    def _features(self, args: list[str], cell: str | None) -> CreatedFeatures:
        parser = _Parser("features")
        parser.add_argument("group")
        parser.add_argument("--if-exists", dest="if_exists", default="error", choices=("error", "skip", "update"))
        options = parser.parse_args(args)
        try:
            data = yaml.safe_load(cell or "")
        except yaml.YAMLError as exc:
            raise _yaml_error(exc) from None
        schema: dict[str, Any] | None = None
        entries: list[Any] = []
        if isinstance(data, dict) and "features" not in data:
            schema = data
        else:
            listed = data.get("features") if isinstance(data, dict) else data
            if not isinstance(listed, list) or not listed:
                raise InvalidFileError(
                    "The cell body must be features.yaml: a 'features:' list of definitions "
                    "(name, dtype, description, tags, derived_from, ...), or a 'name: dtype' mapping.",
                    {"source": "cell"},
                )
            entries = listed
        # Like FeatureStore(path) for its levels, a cell naming a group that does not exist creates it.
        group, created = resolve_or_create_group(self.store, options.group)
        try:
            if schema is not None:
                features = group.create_features_from_schema(schema, if_exists=options.if_exists)
            else:
                features = group.create_features(entries, if_exists=options.if_exists)
        except RaiseError as exc:
            if created:
                exc.message += (
                    f" The feature group {group.path} was created (empty): correct the cell and run it again."
                )
                exc.args = (exc.message,)
            raise
        return CreatedFeatures(group.path, features, created_group=created)

    def _derive(self, args: list[str], cell: str | None) -> DerivedFeature:
        parser = _Parser("derive")
        parser.add_argument("target")
        parser.add_argument("dtype")
        parser.add_argument("--description")
        parser.add_argument("--tags", help="comma-separated")
        parser.add_argument("--validation", default="standard", choices=("strict", "standard", "permissive"))
        parser.add_argument("--if-exists", dest="if_exists", default="error", choices=("error", "skip", "update"))
        options = parser.parse_args(args)
        expression = (cell or "").strip()
        if not expression:
            raise InvalidExpressionError(
                "The cell body is the expression (derived_from), e.g. click_count / NULLIF(impression_count, 0).",
                {"source": "cell"},
            )
        group_name, feature_name = split_feature_target(options.target)
        name, version = split_version(feature_name)
        group = resolve_group(self.store, group_name)
        tags = [t.strip() for t in options.tags.split(",") if t.strip()] if options.tags else None
        validation = group.validate_feature(
            name, options.dtype, derived_from=expression, validation=options.validation, version=version
        )
        if options.if_exists == "skip" and _exists(group, name, version):
            # Nothing is created: the feature keeps the definition it was made with, so warnings
            # about creating it now (an input deprecated since) do not apply; its type and inputs do.
            validation = dataclasses.replace(validation, warnings=[])
        # create_feature validates again and raises the coded error when the definition is refused.
        feature: Feature = group.create_feature(
            name,
            options.dtype,
            derived_from=expression,
            description=options.description,
            tags=tags,
            version=version,
            validation=options.validation,
            if_exists=options.if_exists,
        )
        return DerivedFeature(feature, validation, feature.get_lineage())

    def _lineage(self, args: list[str], cell: str | None) -> Any:
        parser = _Parser("lineage")
        parser.add_argument("path")
        options = parser.parse_args(args)
        from raise_jupyter.widgets.lineage import LineageGraphWidget

        return LineageGraphWidget(self.store.feature(options.path).get_lineage())

    def _catalog(self, args: list[str], cell: str | None) -> Any:
        _Parser("catalog").parse_args(args)
        from raise_jupyter.widgets.catalog import CatalogBrowser

        return CatalogBrowser(self.store)

    def _form(self, args: list[str], cell: str | None) -> Any:
        parser = _Parser("form")
        parser.add_argument("group")
        options = parser.parse_args(args)
        from raise_jupyter.widgets.form import FeatureForm

        return FeatureForm(resolve_group(self.store, options.group))

    def _analyze(self, args: list[str], cell: str | None) -> AnalysisResult:
        parser = _Parser("analyze")
        parser.add_argument("group", nargs="?")
        parser.add_argument("--freshness", default=None, metavar="real_time|cached|within:1h")
        parser.add_argument("-o", "--output", metavar="NAME")
        parser.add_argument("--no-plot", dest="plot", action="store_false")
        options = parser.parse_args(args)
        if options.output is not None and not _is_variable_name(options.output):
            raise InvalidArgumentError(
                f"-o {options.output!r}: give a Python variable name to store the result in.",
                {"output": options.output},
            )
        try:
            spec = yaml.safe_load(cell or "")
        except yaml.YAMLError as exc:
            raise _yaml_error(exc) from None
        if not isinstance(spec, dict) or "type" not in spec:
            raise InvalidFileError(
                "The cell body is an analysis spec in YAML with its type, e.g.\n"
                "type: distribution\nfeature: session_minutes\nbins: 30",
                {"source": "cell"},
            )
        target = resolve_group(self.store, options.group) if options.group else self.store
        result = target.analyze(spec, freshness=options.freshness)
        if options.output is not None and self.shell is not None:
            self.shell.user_ns[options.output] = result
        if options.plot and result.type != "record_lookup":
            from IPython.display import display

            try:
                chart = result.plot()
            except InvalidAnalysisError:  # nothing to draw (a schema-only version diff): the result alone
                return result
            display(chart)
        return result

    def _live(self, args: list[str], cell: str | None) -> LiveTableShown:
        parser = _Parser("live")
        parser.add_argument("name")
        parser.add_argument("--group", metavar="GROUP")
        parser.add_argument("-o", "--output", metavar="VAR")
        parser.add_argument("--preview", type=int, default=LIVE_PREVIEW_ROWS, metavar="N")
        options = parser.parse_args(args)
        if options.output is not None and not _is_variable_name(options.output):
            raise InvalidArgumentError(
                f"-o {options.output!r}: give a Python variable name to store the live table in.",
                {"output": options.output},
            )
        if options.preview < 1:
            raise InvalidArgumentError("--preview must be at least 1.", {"preview": options.preview})
        name: str = options.name
        if cell is None or not cell.strip():  # the line form: show a table that exists
            if options.group is None:
                raise InvalidArgumentError(
                    f"`%raise live {name}` shows an existing live table: name its group with --group GROUP "
                    "(to create one, put `%%raise live NAME` on the first line of a cell and its YAML below).",
                    {"name": name},
                )
            table = self.store.get_live_table(name, group=options.group)
            how = "opened"
        else:
            group, analysis, policy, description = _live_body(cell, options.group)
            try:
                table, how = self.store.get_live_table(name, group=group), "existing"
            except LiveTableNotFoundError:
                try:
                    table = self.store.create_live_table(name, analysis, policy, description, group=group)
                    how = "created"
                except LiveTableExistsError:  # another notebook created it since the lookup
                    table, how = self.store.get_live_table(name, group=group), "existing"
        if options.output is not None and self.shell is not None:
            self.shell.user_ns[options.output] = table
        return LiveTableShown(table, table.query(limit=options.preview), how)

    def _dashboard(self, args: list[str], cell: str | None) -> Any:
        parser = _Parser("dashboard")
        parser.add_argument("name")
        parser.add_argument("-o", "--output", metavar="VAR")
        options = parser.parse_args(args)
        if options.output is not None and not _is_variable_name(options.output):
            raise InvalidArgumentError(
                f"-o {options.output!r}: give a Python variable name to store the dashboard in.",
                {"output": options.output},
            )
        text = cell or ""
        data = definition_from_text(text)  # INVALID_FILE for bad YAML or an unknown field
        if "name" in data and data["name"] != options.name:
            raise InvalidArgumentError(
                f"The line names the dashboard {options.name!r} and the body {data['name']!r}: name it once.",
                {"name": options.name},
            )
        try:
            dashboard = self.store.get_dashboard(options.name)
        except DashboardNotFoundError:
            dashboard = self.store.create_dashboard(name=options.name, definition=text)
        else:
            dashboard.update(
                description=data.get("description"),
                parameters=data.get("parameters") or [],
                charts=data.get("charts") or [],
                layout=data.get("layout"),
                refresh=data.get("refresh_seconds"),
            )
        if options.output is not None and self.shell is not None:
            self.shell.user_ns[options.output] = dashboard
        return dashboard.widget()

    def _alert(self, args: list[str], cell: str | None) -> Any:
        parser = _Parser("alert")
        parser.add_argument("name")
        parser.add_argument("-o", "--output", metavar="VAR")
        options = parser.parse_args(args)
        if options.output is not None and not _is_variable_name(options.output):
            raise InvalidArgumentError(
                f"-o {options.output!r}: give a Python variable name to store the alert in.",
                {"output": options.output},
            )
        body = _alert_body(cell or "")
        alert = self.store.create_alert(
            options.name,
            body["analysis"],
            body["condition"],
            body["notify"],
            body.get("channels"),
            body.get("check_interval", "1h"),
            check_on_change=body.get("check_on_change", False),
            description=body.get("description"),
            group=body.get("group"),
        )
        if options.output is not None and self.shell is not None:
            self.shell.user_ns[options.output] = alert
        return alert

    def _job(self, args: list[str], cell: str | None) -> JobShown:
        parser = _Parser("job")
        parser.add_argument("name")
        parser.add_argument("--run", action="store_true")
        parser.add_argument("-o", "--output", metavar="VAR")
        options = parser.parse_args(args)
        if options.output is not None and not _is_variable_name(options.output):
            raise InvalidArgumentError(
                f"-o {options.output!r}: give a Python variable name to store the job in.",
                {"output": options.output},
            )
        name: str = options.name
        if cell is None or not cell.strip():  # no body: open the job that exists, as it is
            try:
                job, how = self.store.get_job(name), "opened"
            except JobNotFoundError as exc:
                _add_hint(
                    exc, f"To create it, put `%%raise job {name}` on the first line of a cell and its YAML below."
                )
                raise
        else:
            body = _job_body(cell)
            try:
                job, how = self.store.create_job(name, **body), "created"
            except JobExistsError as exc:
                _add_hint(exc, f"`%raise job {name}` (no body) opens it as it is.")
                raise
        if options.output is not None and self.shell is not None:
            self.shell.user_ns[options.output] = job
        # A run that fails is shown with its error (the run is the result), not raised.
        job_run = job.run() if options.run else None
        return JobShown(job, how, job_run)

    def _lookup(self, args: list[str], cell: str | None) -> OnlineFeatures:
        parser = _Parser("lookup")
        parser.add_argument("group")
        parser.add_argument("keys", nargs="+", metavar="KEY")
        parser.add_argument("--features", metavar="F1,F2")
        parser.add_argument("-o", "--output", metavar="VAR")
        options = parser.parse_args(args)
        if options.output is not None and not _is_variable_name(options.output):
            raise InvalidArgumentError(
                f"-o {options.output!r}: give a Python variable name to store the result in.",
                {"output": options.output},
            )
        group = resolve_group(self.store, options.group)
        if options.features:
            labels = [f.strip() for f in options.features.split(",") if f.strip()]
        else:  # what the group keeps online
            labels = group.online_freshness().features
            if not labels:
                raise InvalidArgumentError(
                    f"Group {group.name!r} has nothing in the online store yet: run group.materialize() "
                    f"(or %raise lookup {options.group} KEY --features a,b after materializing them).",
                    {"group": group.name},
                )
        keys = list(group.entity_keys or [])
        rows = [_entity_row(text, keys) for text in options.keys]
        # Columns named as the store's own groups are ("user-signals.clicks"); another project's by path.
        prefix = group.name if group.path.rsplit("/", 1)[0] == self.store.path else group.path
        result = self.store.get_online_features([f"{prefix}.{label}" for label in labels], rows)
        if options.output is not None and self.shell is not None:
            self.shell.user_ns[options.output] = result
        return result

    def _help(self, args: list[str], cell: str | None) -> HelpText:
        parser = _Parser("help")
        parser.add_argument("command", nargs="?")
        wanted = parser.parse_args(args).command
        commands = COMMANDS
        if wanted is not None:
            commands = tuple(c for c in COMMANDS if c.name == wanted)
            if not commands:
                raise InvalidArgumentError(
                    f"Unknown command {wanted!r}: one of {', '.join(c.name for c in COMMANDS)}.",
                    {"command": wanted},
                )
        return HelpText(commands, self._store.path if self._store is not None else None)


def _live_body(cell: str, group_option: str | None) -> tuple[str, Any, RefreshPolicy, str | None]:
    """The group, analysis spec, refresh policy and description of a ``%%raise live`` body, checked
    by the SDK's own parsers (``spec_from_dict``, ``RefreshPolicy.parse``)."""
    try:
        body = yaml.safe_load(cell)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc) from None
    example = (
        "group: user-signals\nanalysis:\n  type: aggregation\n  feature: click_count\n"
        "  metrics: [sum, avg]\n  group_by: user_tier\nrefresh: on_change"
    )
    if not isinstance(body, dict):
        raise InvalidFileError(
            f"The cell body is a live table's definition in YAML, e.g.\n{example}", {"source": "cell"}
        )
    unknown = sorted(str(k) for k in body if k not in LIVE_KEYS)
    if unknown:
        raise InvalidFileError(
            f"The cell body has no key {unknown[0]!r}: a live table's definition has {', '.join(LIVE_KEYS)}.",
            {"source": "cell", "key": unknown[0]},
        )
    group = body.get("group", group_option)
    if group_option is not None and group != group_option:
        raise InvalidArgumentError(
            f"--group {group_option!r} and the body's group {group!r} differ: name the group once.",
            {"group": group_option},
        )
    if not isinstance(group, str) or not group.strip():
        raise InvalidFileError(
            "The cell body names the live table's feature group: group: user-signals (or --group GROUP).",
            {"source": "cell"},
        )
    analysis = body.get("analysis")
    if not isinstance(analysis, dict) or "type" not in analysis:
        raise InvalidFileError(
            f"The cell body's analysis is an analysis spec with its type, e.g.\n{example}", {"source": "cell"}
        )
    description = body.get("description")
    if description is not None and not isinstance(description, str):
        raise InvalidFileError(f"description is text, got {description!r}.", {"source": "cell"})
    return group, spec_from_dict(analysis), RefreshPolicy.parse(body.get("refresh", "on_change")), description


#: The keys of a ``%%raise alert`` body.
ALERT_KEYS = (
    "analysis",
    "condition",
    "notify",
    "channels",
    "check_interval",
    "check_on_change",
    "group",
    "description",
)
_ALERT_EXAMPLE = (
    "analysis:\n  type: aggregation\n  feature: revenue\n  metrics: [null_rate]\n"
    "condition: {type: greater_than, value: 0.05, metric: null_rate}\n"
    "notify: [data-quality@acme.com]\nchannels: [email]\ncheck_interval: 1h"
)


def _alert_body(cell: str) -> dict[str, Any]:
    """The fields of a ``%%raise alert`` body, as ``fs.create_alert`` takes them (which checks them)."""
    try:
        body = yaml.safe_load(cell)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc) from None
    if not isinstance(body, dict):
        raise InvalidFileError(
            f"The cell body is an alert's definition in YAML, e.g.\n{_ALERT_EXAMPLE}", {"source": "cell"}
        )
    unknown = sorted(str(k) for k in body if k not in ALERT_KEYS)
    if unknown:
        raise InvalidFileError(
            f"The cell body has no key {unknown[0]!r}: an alert's definition has {', '.join(ALERT_KEYS)}.",
            {"source": "cell", "key": unknown[0]},
        )
    for key in ("analysis", "condition"):
        if not isinstance(body.get(key), dict) or "type" not in body[key]:
            raise InvalidFileError(
                f"The cell body's {key} is a mapping with its type, e.g.\n{_ALERT_EXAMPLE}", {"source": "cell"}
            )
    notify = body.get("notify")
    if isinstance(notify, str):
        body["notify"] = [n.strip() for n in notify.split(",") if n.strip()]
    elif not isinstance(notify, list) or not notify:
        raise InvalidFileError(
            "The cell body's notify lists who is told, e.g. notify: [data-quality@acme.com].", {"source": "cell"}
        )
    channels = body.get("channels")
    if isinstance(channels, str):
        body["channels"] = [c.strip() for c in channels.split(",") if c.strip()]
    if not isinstance(body.get("check_on_change", False), bool):
        raise InvalidFileError("check_on_change is true or false.", {"source": "cell"})
    return body


#: ``fs.create_job``'s argument → its name in ``JobDefinition.to_dict()`` (a body may use either).
_JOB_STORED_NAMES = {"timeout": "timeout_seconds", "retry_delay": "retry_delay_seconds"}
#: The keys of a ``%%raise job`` body: ``JobDefinition.to_dict()`` (with the stored names above)
#: and ``fs.create_job``'s description and tags.
JOB_KEYS = (
    "sources",
    "transform",
    "target",
    "schedule",
    "incremental",
    "quality_checks",
    "description",
    "tags",
    "retries",
    "timeout",
    "timeout_seconds",
    "retry_delay",
    "retry_delay_seconds",
    "launcher",
)
_JOB_REQUIRED = ("sources", "transform", "target")
_JOB_EXAMPLE = (
    "sources:\n  - {source_type: filesystem, path: /data/clicks/, format: parquet}\n"
    "transform:\n  transform_type: sql\n  name: daily_clicks\n"
    "  sql: SELECT user_id, DATE(event_time) AS date, COUNT(*) AS clicks FROM source GROUP BY 1, 2\n"
    "target: {feature_group: user-signals, write_mode: upsert, key_columns: [user_id, date]}\n"
    "schedule: cron:0 2 * * *\nincremental: {mode: incremental, checkpoint_column: event_time}"
)


def _job_body(cell: str) -> dict[str, Any]:
    """The keyword arguments of ``fs.create_job`` from a ``%%raise job`` body; the SDK checks the
    parts themselves (``JobDefinition.build`` takes each in its stored, dict form)."""
    try:
        body = yaml.safe_load(cell)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc) from None
    if not isinstance(body, dict):
        raise InvalidFileError(f"The cell body is a job's definition in YAML, e.g.\n{_JOB_EXAMPLE}", {"source": "cell"})
    unknown = sorted(str(k) for k in body if k not in JOB_KEYS)
    if unknown:
        raise InvalidFileError(
            f"The cell body has no key {unknown[0]!r}: a job's definition has {', '.join(JOB_KEYS)}.",
            {"source": "cell", "key": unknown[0]},
        )
    missing = [k for k in _JOB_REQUIRED if body.get(k) is None]
    if missing:
        raise InvalidFileError(
            f"The cell body has no {missing[0]}: a job reads sources, runs a transform and writes a target, "
            f"e.g.\n{_JOB_EXAMPLE}",
            {"source": "cell", "key": missing[0]},
        )
    for argument, stored in _JOB_STORED_NAMES.items():
        if argument in body and stored in body:
            raise InvalidFileError(
                f"The cell body gives {argument} twice ({argument} and {stored}): give it once.", {"source": "cell"}
            )
        if stored in body:
            body[argument] = body.pop(stored)
    checks = body.get("quality_checks")
    if isinstance(checks, list):  # YAML reads `check_type: null` as nothing: it means the null check
        body["quality_checks"] = [
            {**c, "check_type": "null"} if isinstance(c, dict) and "check_type" in c and c["check_type"] is None else c
            for c in checks
        ]
    tags = body.get("tags")
    if isinstance(tags, str):
        body["tags"] = [t.strip() for t in tags.split(",") if t.strip()]
    return body


def _entity_row(text: str, keys: list[str]) -> dict[str, Any]:
    """``42`` → {key: 42} for a group with one key; ``user_id=1,item_id=a`` for several."""

    def value(raw: str) -> Any:
        try:
            return int(raw)
        except ValueError:
            return raw

    if "=" not in text:
        if len(keys) != 1:
            raise InvalidArgumentError(
                f"The group is keyed by {', '.join(keys) or 'nothing yet'}: write each key as "
                f"{','.join(f'{k}=...' for k in keys) or 'key=value'}.",
                {"key": text},
            )
        return {keys[0]: value(text)}
    row = {}
    for part in text.split(","):
        name, _, raw = part.partition("=")
        row[name.strip()] = value(raw.strip())
    return row


def _add_hint(exc: RaiseError, hint: str) -> None:
    exc.message += f" {hint}"
    exc.args = (exc.message,)


def _exists(group: Any, name: str, version: str | None) -> bool:
    try:
        group.feature(f"{name}@{version}" if version else name)
    except FeatureNotFoundError:
        return False
    return True
