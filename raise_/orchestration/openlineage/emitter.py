"""Sending job runs' OpenLineage events where the deployment says, without ever hurting a run.

Configured by the environment of the process that owns the store (never by a notebook):

- ``RAISE_OPENLINEAGE_URL``: an OpenLineage HTTP endpoint's base URL (Marquez: ``http://host:5000``);
  events are POSTed to ``<url>/api/v1/lineage`` by ``openlineage-python``'s ``HttpTransport``.
- ``RAISE_OPENLINEAGE_API_KEY``: sent as ``Authorization: Bearer <key>`` (the library's ``api_key``
  auth). A secret: never logged, never in an error, an audit entry or a run's log.
- ``RAISE_OPENLINEAGE_FILE``: a JSON-lines file each event is appended to (``FileTransport``).
- ``RAISE_OPENLINEAGE_NAMESPACE``: the namespace of the store's feature groups and jobs
  (default ``raise``, as :func:`raise_.jobs.lineage.job_datasets` names them).
- ``RAISE_OPENLINEAGE_TIMEOUT``: seconds an HTTP send may take (default 2): a slow or dead
  receiver delays a run by at most this, per event.

With neither a URL nor a file the emitter does nothing (and imports nothing). A send that fails
is logged (the endpoint without credentials, the error with the key scrubbed) and counted in
:attr:`LineageEmitter.failed`; it never raises into the run, and it is not retried: the events
of every run can be rebuilt from the catalog with ``raise lineage export``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from openlineage.client.event_v2 import RunEvent

    from raise_.jobs.records import JobRecord, JobRunRecord
    from raise_.orchestration.openlineage.events import EventState

__all__ = ["ENDPOINT", "LineageEmitter", "LineageSettings"]

logger = logging.getLogger(__name__)

#: Where OpenLineage's HTTP API (Marquez's, and the spec's) takes run events, under the base URL.
ENDPOINT: Final = "api/v1/lineage"
DEFAULT_TIMEOUT: Final = 2.0
#: One attempt: a retry with backoff would hold the run for the receiver's sake, and a lost
#: event is rebuilt from the catalog by ``raise lineage export``.
_NO_RETRY: Final[dict[str, Any]] = {
    "total": 0,
    "backoff_factor": 0,
    "status_forcelist": [],
    "allowed_methods": ["POST"],
}


def _display_url(url: str) -> str:
    """``url`` as it may be shown: no user, password, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(frozen=True)
class LineageSettings:
    """Where events go (see the module docstring for the variables)."""

    url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    namespace: str = "raise"
    file: Path | None = None
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LineageSettings:
        env = os.environ if environ is None else environ
        url = env.get("RAISE_OPENLINEAGE_URL", "").strip() or None
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                logger.warning(
                    "RAISE_OPENLINEAGE_URL must be an http(s) URL such as http://marquez:5000, got %r: "
                    "no OpenLineage events are sent over HTTP",
                    _display_url(url),
                )
                url = None
        file = env.get("RAISE_OPENLINEAGE_FILE", "").strip()
        timeout = DEFAULT_TIMEOUT
        raw_timeout = env.get("RAISE_OPENLINEAGE_TIMEOUT", "").strip()
        if raw_timeout:
            try:
                timeout = float(raw_timeout)
                if not timeout > 0:
                    raise ValueError(raw_timeout)
            except ValueError:
                logger.warning("RAISE_OPENLINEAGE_TIMEOUT must be seconds > 0, got %r: using %g", raw_timeout, timeout)
                timeout = DEFAULT_TIMEOUT
        return cls(
            url=url,
            api_key=env.get("RAISE_OPENLINEAGE_API_KEY", "").strip() or None,
            namespace=env.get("RAISE_OPENLINEAGE_NAMESPACE", "").strip() or "raise",
            file=Path(file).expanduser() if file else None,
            timeout=timeout,
        )

    @property
    def configured(self) -> bool:
        return self.url is not None or self.file is not None


class LineageEmitter:
    """Sends run events to the configured endpoint and file; a no-op when none is configured.

    Thread-safe: the store's job drivers emit from their own threads. Each thread has its own HTTP
    transport (a ``requests`` session is not meant to be shared), and appends to the file are
    serialized so that lines never interleave.
    """

    def __init__(self, settings: LineageSettings | None = None, *, producer: str | None = None) -> None:
        self.settings = settings if settings is not None else LineageSettings()
        self.producer = producer
        #: Events handed to a destination, and sends that failed (per destination).
        self.sent = 0
        self.failed = 0
        self._lock = threading.Lock()
        self._file_lock = threading.Lock()
        self._local = threading.local()
        self._unavailable = False  # openlineage-python is not installed: said once, then quiet

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LineageEmitter:
        return cls(LineageSettings.from_env(environ))

    def __repr__(self) -> str:
        where = [_display_url(self.settings.url)] if self.settings.url else []
        where += [str(self.settings.file)] if self.settings.file else []
        return f"LineageEmitter({', '.join(where) or 'disabled'})"

    @property
    def enabled(self) -> bool:
        """Whether events go anywhere (something is configured and the library is there)."""
        return self.settings.configured and not self._unavailable and self._library()

    def _library(self) -> bool:
        try:
            import openlineage.client  # noqa: F401
        except ImportError:
            with self._lock:
                if not self._unavailable:
                    self._unavailable = True
                    logger.warning(
                        "OpenLineage is configured (RAISE_OPENLINEAGE_URL or RAISE_OPENLINEAGE_FILE) but "
                        "openlineage-python is not installed: no run events are sent. "
                        "pip install 'raise-featurestore[openlineage]'"
                    )
            return False
        return True

    def _scrub(self, text: str) -> str:
        """An error's text with the API key and the URL's credentials taken out, kept short."""
        secrets = [self.settings.api_key] if self.settings.api_key else []
        password = urlsplit(self.settings.url).password if self.settings.url else None
        secrets += [password] if password else []
        for secret in secrets:
            text = text.replace(secret, "***")
        return text if len(text) <= 500 else text[:500] + "..."

    def _destinations(self) -> list[tuple[str, Any]]:
        """(where, transport) for this thread, built on first use."""
        transports: list[tuple[str, Any]] | None = getattr(self._local, "transports", None)
        if transports is not None:
            return transports
        transports = []
        settings = self.settings
        if settings.url:
            from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport, TokenProvider

            auth = ApiKeyTokenProvider({"apiKey": settings.api_key}) if settings.api_key else TokenProvider({})
            config = HttpConfig(
                # A trailing slash keeps a path prefix (http://host/lineage/) when the endpoint is joined.
                url=settings.url if settings.url.endswith("/") else settings.url + "/",
                endpoint=ENDPOINT,
                timeout=settings.timeout,
                auth=auth,
                retry=dict(_NO_RETRY),
            )
            transports.append((_display_url(settings.url.rstrip("/") + "/" + ENDPOINT), HttpTransport(config)))
        if settings.file:
            from openlineage.client.transport.file import FileConfig, FileTransport

            settings.file.parent.mkdir(parents=True, exist_ok=True)
            transports.append(
                (str(settings.file), FileTransport(FileConfig(log_file_path=str(settings.file), append=True)))
            )
        self._local.transports = transports
        return transports

    def emit(self, event: RunEvent) -> bool:
        """Send ``event`` to every destination: True when all took it. Never raises."""
        if not self.enabled:
            return False
        try:
            destinations = self._destinations()
        except Exception as exc:  # a bad configuration must not fail the run either
            self._count(ok=False)
            logger.warning("OpenLineage transport could not be set up: %s", self._scrub(f"{type(exc).__name__}: {exc}"))
            return False
        state = getattr(event.eventType, "value", event.eventType)
        all_ok = True
        for where, transport in destinations:
            try:
                if where == str(self.settings.file):
                    with self._file_lock:
                        transport.emit(event)
                else:
                    transport.emit(event)
            except Exception as exc:
                all_ok = False
                self._count(ok=False)
                logger.warning(
                    "OpenLineage %s event of run %s was not sent to %s: %s",
                    state,
                    event.run.runId,
                    where,
                    self._scrub(f"{type(exc).__name__}: {exc}"),
                )
            else:
                self._count(ok=True)
        return all_ok

    def emit_run(self, job: JobRecord, run: JobRunRecord, state: EventState | None = None) -> bool:
        """Send the event ``run``'s status calls for (START while it runs, its end event once
        finished), or ``state``. Never raises."""
        if not self.enabled:
            return False
        try:
            from raise_.orchestration.openlineage.events import PRODUCER, event_state, run_event

            state = state or event_state(run)
            if state is None:
                return False
            event = run_event(state, job, run, producer=self.producer or PRODUCER, namespace=self.settings.namespace)
        except Exception as exc:
            self._count(ok=False)
            logger.warning("OpenLineage event of run %s could not be built: %s", run.id, self._scrub(repr(exc)))
            return False
        return self.emit(event)

    def _count(self, *, ok: bool) -> None:
        with self._lock:
            if ok:
                self.sent += 1
            else:
                self.failed += 1
