"""The catalog browser: organizations, domains, projects, groups and features as a tree, with search.

The tree is loaded lazily through the SDK's list calls: a node's children are fetched the first time it
is expanded (the ``expanded`` trait, or :meth:`CatalogBrowser.expand`). Typing in the search box sets
``query``, answered with ``fs.search_features`` in the browsed project; selecting a node fills ``details``.
Everything goes through the caller's own permissions: the SDK lists only what they may read.
"""

from __future__ import annotations

from typing import Any

import traitlets

from raise_.client.feature import Feature
from raise_.client.group import FeatureGroup
from raise_.client.namespace import Domain, Organization, Project
from raise_.client.store import FeatureStore
from raise_.errors import RaiseError
from raise_jupyter.widgets.base import STATIC, RaiseWidget, error_payload

__all__ = ["CatalogBrowser"]

KINDS = ("organization", "domain", "project", "group", "feature")
SEARCH_LIMIT = 50
REPR_MAX_LINES = 40


def _node(kind: str, path: str, name: str, info: str = "") -> dict[str, Any]:
    return {"kind": kind, "path": path, "name": name, "info": info, "children": None}


def _feature_node(group_path: str, feature: Feature) -> dict[str, Any]:
    info = str(feature.dtype) + (" · derived" if feature.is_derived else "")
    if feature.status != "active":
        info += f" · {feature.status}"
    return {**_node("feature", f"{group_path}/{feature.name}", f"{feature.name}@{feature.version}", info)}


def _kind_of(path: str) -> str:
    depth = len(path.split("/"))
    if not 1 <= depth <= len(KINDS):
        raise ValueError(f"{path!r} is not a catalog path (org[/domain[/project[/group[/feature]]]])")
    return KINDS[depth - 1]


class CatalogBrowser(RaiseWidget):
    """``CatalogBrowser(fs)``: browse the catalog from the store's project, search its features."""

    _esm = STATIC / "catalog.js"
    _css = STATIC / "catalog.css"

    root_path = traitlets.Unicode("").tag(sync=True)
    tree = traitlets.List(traitlets.Dict()).tag(sync=True)
    expanded = traitlets.List(traitlets.Unicode()).tag(sync=True)
    query = traitlets.Unicode("").tag(sync=True)
    results = traitlets.List(traitlets.Dict()).tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
    details = traitlets.Dict().tag(sync=True)
    error = traitlets.Dict().tag(sync=True)

    def __init__(self, store: FeatureStore, **kwargs: Any) -> None:
        self._store = store
        self._children: dict[str, list[dict[str, Any]]] = {}
        super().__init__(root_path=store.path, **kwargs)
        self._children[""] = [_node("organization", o.name, o.name) for o in store.list_organizations()]
        # Open the tree down to the store's own project, so its groups are in view at once.
        parts = store.path.split("/")
        self.expanded = ["/".join(parts[: i + 1]) for i in range(len(parts))]

    # -- loading -------------------------------------------------------------------------------

    def _load(self, path: str) -> list[dict[str, Any]]:
        kind = _kind_of(path)
        parts = path.split("/")
        org: Organization = self._store.organization(parts[0])
        if kind == "organization":
            return [_node("domain", d.path, d.name) for d in org.list_domains()]
        domain: Domain = org.domain(parts[1])
        if kind == "domain":
            return [_node("project", p.path, p.name) for p in domain.list_projects()]
        project: Project = domain.project(parts[2])
        if kind == "project":
            return [self._group_node(g) for g in project.list_feature_groups()]
        if kind == "group":
            group = project.feature_group(parts[3])
            return [_feature_node(group.path, f) for f in group.list_features()]
        return []  # features are leaves

    @staticmethod
    def _group_node(group: FeatureGroup) -> dict[str, Any]:
        keys = ", ".join(group.entity_keys or [])
        return _node("group", group.path, group.name, f"keys: {keys}" if keys else "")

    def _build(self, nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for node in nodes:
            copy = dict(node)
            if node["path"] in self._children and node["path"] in self.expanded:
                copy["children"] = self._build(self._children[node["path"]])
            elif node["kind"] == "feature":
                copy["children"] = []
            out.append(copy)
        return out

    @traitlets.observe("expanded")
    def _on_expanded(self, change: dict[str, Any]) -> None:
        self.error = {}
        for path in change["new"]:
            if path in self._children or len(path.split("/")) >= len(KINDS):
                continue  # loaded already, or a feature (a leaf)
            try:
                self._children[path] = self._load(path)
            except (RaiseError, ValueError) as exc:
                self._children[path] = []
                if isinstance(exc, RaiseError):
                    self.error = error_payload(exc)
        self.tree = self._build(self._children[""])

    def expand(self, path: str) -> list[dict[str, Any]]:
        """Open ``path`` (and its ancestors); returns its children."""
        parts = path.split("/")
        wanted = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        self.expanded = [*self.expanded, *(p for p in wanted if p not in self.expanded)]
        return list(self._children.get(path, []))

    def collapse(self, path: str) -> None:
        self.expanded = [p for p in self.expanded if p != path and not p.startswith(path + "/")]

    def refresh(self) -> None:
        """Forget what was loaded and read the catalog again."""
        self._children = {"": [_node("organization", o.name, o.name) for o in self._store.list_organizations()]}
        expanded = list(self.expanded)
        self.expanded = []
        self.expanded = expanded

    # -- search --------------------------------------------------------------------------------

    @property
    def search_scope(self) -> str:
        """The project searched: the selected node's, else the store's."""
        parts = self.selected.split("/")
        return "/".join(parts[:3]) if len(parts) >= 3 else self._store.path

    def _scoped_store(self) -> FeatureStore:
        scope = self.search_scope
        if scope == self._store.path:
            return self._store
        org, domain, project = scope.split("/")
        return self._store.with_context(org=org, domain=domain, project=project)

    @traitlets.observe("query")
    def _on_query(self, change: dict[str, Any]) -> None:
        self.search(change["new"])

    def search(self, query: str) -> list[dict[str, Any]]:
        """Features of the browsed project matching ``query`` (name, description, tags), best first."""
        text = query.strip()
        if not text:
            self.results = []
            return []
        self.error = {}
        try:
            found = self._scoped_store().search_features(text, limit=SEARCH_LIMIT)
        except RaiseError as exc:
            self.error = error_payload(exc)
            self.results = []
            return []
        self.results = [
            {
                "path": f"{f.group_path}/{f.name}",
                "name": f"{f.name}@{f.version}",
                "group": f.group,
                "dtype": str(f.dtype),
                "description": f.description or "",
                "tags": f.tags,
            }
            for f in found
        ]
        return list(self.results)

    # -- details -------------------------------------------------------------------------------

    @traitlets.observe("selected")
    def _on_selected(self, change: dict[str, Any]) -> None:
        path = change["new"]
        if not path:
            self.details = {}
            return
        self.error = {}
        try:
            self.details = self._describe(path)
        except RaiseError as exc:
            self.details = {}
            self.error = error_payload(exc)

    def select(self, path: str) -> dict[str, Any]:
        """Show ``path`` in the tree (opening its ancestors) and return its details."""
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        if parent:
            self.expand(parent)
        self.selected = path
        return dict(self.details)

    def _describe(self, path: str) -> dict[str, Any]:
        kind = _kind_of(path)
        parts = path.split("/")
        if kind == "feature":
            feature = self._store.feature(path)
            return {
                "kind": kind,
                "path": path,
                "qualified_name": feature.qualified_name,
                "name": feature.name,
                "version": feature.version,
                "dtype": str(feature.dtype),
                "status": feature.status,
                "description": feature.description,
                "tags": feature.tags,
                "owner": feature.owner,
                "derived_from": feature.derived_from,
                "versions": [f"{v.version} ({v.status})" for v in feature.list_versions()],
            }
        org = self._store.organization(parts[0])
        level: Organization | Domain | Project = org
        if kind in ("domain", "project", "group"):
            level = org.domain(parts[1])
        if kind in ("project", "group"):
            level = level.project(parts[2])  # type: ignore[union-attr]
        if kind == "group":
            group = level.feature_group(parts[3])  # type: ignore[union-attr]
            return {
                "kind": kind,
                "path": path,
                "name": group.name,
                "description": group.description,
                "owner": group.owner,
                "tags": group.tags,
                "entity_keys": group.entity_keys,
                "event_time": group.event_time,
                "ttl": None if group.ttl is None else str(group.ttl),
                "features": [f"{f.name}@{f.version}" for f in group.list_features()],
            }
        return {
            "kind": kind,
            "path": path,
            "name": level.name,
            "description": level.description,
            "owner": level.owner,
            "tags": level.tags,
        }

    # -- text ----------------------------------------------------------------------------------

    def __repr__(self) -> str:
        lines = [f"CatalogBrowser({self.root_path})"]

        def walk(nodes: list[dict[str, Any]], depth: int) -> None:
            for node in nodes:
                info = f"  [{node['info']}]" if node["info"] else ""
                mark = "▾ " if node["children"] else "▸ " if node["kind"] != "feature" else "· "
                lines.append("  " * (depth + 1) + mark + node["name"] + info)
                walk(node["children"] or [], depth + 1)

        walk(self.tree, 0)
        if len(lines) > REPR_MAX_LINES:
            hidden = len(lines) - REPR_MAX_LINES
            lines = [*lines[:REPR_MAX_LINES], f"  … {hidden} more lines"]
        if self.query.strip():
            found = ", ".join(r["name"] for r in self.results) or "nothing"
            lines.append(f"  search {self.query.strip()!r} in {self.search_scope}: {found}")
        if self.details:
            lines.append(f"  selected: {self.details['path']} ({self.details['kind']})")
        if self.error:
            lines.append(f"  error: {self.error['text']}")
        return "\n".join(lines)
