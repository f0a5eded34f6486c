"""``raise serve-online``: a lean lookup server for production (no Jupyter, no offline store).

It opens only the catalog (access, API keys, the groups' features) and the online store, so it
runs beside the process that owns the store (which keeps materializing) and as many replicas as
the load needs. Routes (seed 002 §11, seed 004):

- ``POST /v1/features:lookup`` and ``POST /v1/features:batchLookup`` (up to 5,000 keys):
  ``{"entity_name": "user-signals", "keys": [1, 2], "features": ["clicks", {"name": "ctr",
  "version": "v1"}], "project": "mlplatform/recommendation"}`` (``project`` may be left out when the
  key has one project; ``entity_name`` may be the group's full path);
- ``POST /v1/online/features``: ``{"features": ["user-signals.clicks"], "entity_rows":
  [{"user_id": 1}], "project": ...}``, the SDK's ``get_online_features`` as JSON;
- ``GET /health`` (the process answers), ``GET /ready`` (the catalog and the online store answer:
  200, else 503), ``GET /metrics`` (Prometheus; needs a key, as seed 002's ``/v1/metrics``).

Every lookup route needs ``X-API-Key`` (``fs.create_api_key``): the lookup acts as the key's
creator and only in the key's projects. Lookups run on the event loop (``--threads 0``, the default:
measured fastest, bench/online.py) or on a pool of threads (``--threads N``), where concurrent lookups
of one hot key also share one store read (:mod:`raise_.serving.hotkeys`); either way a hot key's
repeats are answered from the near cache.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from raise_.catalog.feature_service import FeatureService
from raise_.catalog.namespace_service import NamespaceService
from raise_.catalog.paths import parse_feature_path, parse_project_path
from raise_.config import Settings
from raise_.errors import InvalidArgumentError, PermissionDeniedError, RaiseError
from raise_.governance.context import ServiceContext
from raise_.governance.identity import acting_as, with_acting_as
from raise_.metadata.database import CatalogDatabase
from raise_.serving.metrics import SERVING_METRICS
from raise_.serving.records import ApiKeyRecord
from raise_.serving.service import OnlineService, _iso, _json_value

__all__ = ["OnlineServerOptions", "lookup_service", "make_app", "serve_online"]

log = logging.getLogger("raise.serve_online")
_JSON: Final = "application/json"


@dataclass(frozen=True)
class OnlineServerOptions:
    host: str = "127.0.0.1"
    port: int = 6570
    home: str | None = None
    catalog_url: str | None = None
    online_url: str | None = None
    threads: int = 0  # 0: lookups on the event loop (see make_app)
    near_cache_ttl: float = 0.5


def lookup_service(settings: Settings, *, online_url: str | None = None, near_cache_ttl: float = 0.5) -> OnlineService:
    """An :class:`OnlineService` on the store's catalog and online store, without its offline store."""
    db = CatalogDatabase(settings.catalog_url)
    db.migrate()
    context = ServiceContext.open(db, with_acting_as(lambda: "anonymous"))
    namespaces = NamespaceService(context)
    return OnlineService(
        context,
        namespaces,
        FeatureService(context),
        None,
        online_url=online_url or settings.online_url,
        home=settings.home,
        near_cache_ttl=near_cache_ttl,
    )


def _in_scope(key: ApiKeyRecord, group_path: str) -> bool:
    return "/".join(group_path.split("/")[:3]) in key.projects


def _check_features_in_scope(key: ApiKeyRecord, project: str, features: object) -> None:
    """A feature named by a longer path (``other/project/group.feature``) must be in the key's
    projects too: a key never reads outside them, whatever its creator may read."""
    context = parse_project_path(project)
    for f in features if isinstance(features, list) else []:
        name = f.get("name") if isinstance(f, dict) else f
        if not isinstance(name, str) or "." not in name.split("@")[0]:
            continue  # a feature of the looked-up group itself
        group_path = parse_feature_path(name, context).group_path
        if not _in_scope(key, group_path):
            raise PermissionDeniedError(
                f"This API key may look features up in {', '.join(key.projects)} only, not {name!r}.",
                {"feature": name},
            )


def make_app(service: OnlineService, threads: int = 0) -> Any:
    """The tornado application (tests run it on a loopback port)."""
    import tornado.web

    # threads=0: lookups run on the event loop itself (a lookup is tens of microseconds of work, less
    # than a hop to a thread and back; bench/online.py: 1,573 req/s against 406 with 8 threads);
    # threads>0: on a pool, so that concurrent lookups of one hot key also coalesce.
    pool = ThreadPoolExecutor(threads, thread_name_prefix="raise-online") if threads > 0 else None

    class Base(tornado.web.RequestHandler):
        def set_default_headers(self) -> None:
            self.set_header("Content-Type", _JSON)

        def write_error(self, status_code: int, **kwargs: Any) -> None:
            exc = kwargs.get("exc_info", (None, None, None))[1]
            if isinstance(exc, RaiseError):
                body = {"error": {"code": exc.code, "message": exc.message}}
            elif isinstance(exc, tornado.web.HTTPError) and exc.log_message:
                body = {"error": {"code": "HTTP_ERROR", "message": exc.log_message}}
            else:
                body = {"error": {"code": "INTERNAL", "message": "The lookup failed on the server."}}
            self.finish(json.dumps(body))

        def fail(self, exc: RaiseError) -> None:
            self.set_status(exc.http_status if 400 <= exc.http_status < 600 else 400)
            self.finish(json.dumps({"error": {"code": exc.code, "message": exc.message}}))

        def key(self) -> ApiKeyRecord:
            return service.verify_api_key(self.request.headers.get("X-API-Key"))

        def body_json(self) -> dict[str, Any]:
            try:
                data = json.loads(self.request.body or b"{}")
            except ValueError as exc:
                raise InvalidArgumentError(f"The request body is not JSON: {exc}.", {}) from None
            if not isinstance(data, dict):
                raise InvalidArgumentError("The request body is a JSON object.", {})
            return data

        async def call(self, work: Callable[[ApiKeyRecord, dict[str, Any]], Any]) -> None:
            try:
                key = self.key()
                body = self.body_json()
                if pool is None:
                    result = self._as_key(key, work, body)
                else:
                    result = await asyncio.get_running_loop().run_in_executor(pool, self._as_key, key, work, body)
            except RaiseError as exc:
                self.fail(exc)
                return
            self.finish(json.dumps(result, allow_nan=True))

        @staticmethod
        def _as_key(
            key: ApiKeyRecord, work: Callable[[ApiKeyRecord, dict[str, Any]], Any], body: dict[str, Any]
        ) -> Any:
            with acting_as(key.principal):
                return work(key, body)

    def project_of(key: ApiKeyRecord, body: dict[str, Any]) -> str | None:
        project = body.get("project")
        if project is None:
            return key.projects[0] if len(key.projects) == 1 else None
        parts = str(project).split("/")
        return str(parse_project_path("/".join([key.org, *parts]) if len(parts) == 2 else str(project)))

    def lookup(key: ApiKeyRecord, body: dict[str, Any]) -> Any:
        unknown = set(body) - {"entity_name", "keys", "features", "options", "project"}
        if unknown:
            raise InvalidArgumentError(f"Unknown field(s) {', '.join(sorted(unknown))} in the lookup request.", {})
        project = project_of(key, body)
        entity = body.get("entity_name")
        if isinstance(entity, str) and entity.count("/") == 3:
            group_path = entity
        elif project is not None and isinstance(entity, str):
            group_path = f"{project}/{entity}"
        else:
            raise InvalidArgumentError(
                "Name the project ('project': 'domain/project') or give entity_name as the group's full path.", {}
            )
        if not _in_scope(key, group_path):
            raise PermissionDeniedError(
                f"This API key may look features up in {', '.join(key.projects)} only.", {"group": group_path}
            )
        _check_features_in_scope(key, "/".join(group_path.split("/")[:3]), body.get("features"))
        return service.lookup(group_path, body.get("keys"), body.get("features"), body.get("options"))  # type: ignore[arg-type]

    def online_features(key: ApiKeyRecord, body: dict[str, Any]) -> Any:
        project = project_of(key, body)
        if project is None or project not in key.projects:
            raise PermissionDeniedError(
                f"This API key may look features up in {', '.join(key.projects)} only: name one as 'project'.", {}
            )
        _check_features_in_scope(key, project, body.get("features"))
        result = service.get_online_features(project, body.get("features"), body.get("entity_rows"))  # type: ignore[arg-type]
        rows = []
        for row in result.values:
            rows.append(
                {
                    name: {**asdict(v), "value": _json_value(v.value), "event_time": _iso(v.event_time)}
                    for name, v in zip(result.features, row, strict=True)
                }
            )
        return {"features": result.features, "entity_rows": result.entity_rows, "results": rows}

    class Lookup(Base):
        async def post(self) -> None:
            await self.call(lookup)

    class OnlineFeaturesHandler(Base):
        async def post(self) -> None:
            await self.call(online_features)

    class Health(Base):
        def get(self) -> None:
            self.finish(json.dumps({"status": "ok"}))

    class Ready(Base):
        async def get(self) -> None:
            def check() -> dict[str, Any]:
                service._access_generation()  # the catalog answers
                service.store.state("__ready__")  # the online store answers
                return {"status": "ready", "store": service.store.name}

            try:
                body = check() if pool is None else await asyncio.get_running_loop().run_in_executor(pool, check)
            except Exception as exc:  # not ready: say which part, never a secret (no URLs)
                self.set_status(503)
                self.finish(json.dumps({"status": "unavailable", "reason": type(exc).__name__}))
                return
            self.finish(json.dumps(body))

    class Metrics(Base):
        def get(self) -> None:
            try:
                self.key()
            except RaiseError as exc:
                self.fail(exc)
                return
            from prometheus_client import CollectorRegistry, generate_latest
            from prometheus_client.exposition import CONTENT_TYPE_LATEST

            registry = CollectorRegistry()

            class Collector:
                def collect(self) -> Any:
                    return SERVING_METRICS.families(service.hot.cached, service.hot.coalesced)

            registry.register(Collector())
            self.set_header("Content-Type", CONTENT_TYPE_LATEST)
            self.finish(generate_latest(registry))

    return tornado.web.Application(
        [
            (r"/v1/features:lookup", Lookup),
            (r"/v1/features:batchLookup", Lookup),
            (r"/v1/online/features", OnlineFeaturesHandler),
            (r"/health", Health),
            (r"/v1/health", Health),
            (r"/ready", Ready),
            (r"/metrics", Metrics),
            (r"/v1/metrics", Metrics),
        ],
        log_function=lambda handler: None,  # no access log line per lookup: it would cost more than the lookup
    )


def serve_online(options: OnlineServerOptions) -> int:
    """Run until SIGINT/SIGTERM."""
    import tornado.httpserver
    import tornado.ioloop

    settings = Settings.from_env(home=options.home, catalog_url=options.catalog_url)
    service = lookup_service(settings, online_url=options.online_url, near_cache_ttl=options.near_cache_ttl)
    app = make_app(service, options.threads)
    server = tornado.httpserver.HTTPServer(app)
    server.listen(options.port, options.host)
    loop = tornado.ioloop.IOLoop.current()

    def stop(*_: object) -> None:
        loop.add_callback_from_signal(loop.stop)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(
        f"raise serve-online: http://{options.host}:{options.port}/v1/features:lookup "
        f"(online store: {service.store.name}, catalog: {Path(settings.home)}); Ctrl-C stops it",
        flush=True,
    )
    try:
        loop.start()
    finally:
        server.stop()
        service.close()
        service.db.dispose()
    return 0
