"""A job's inputs and outputs as datasets, named as OpenLineage names them (namespace + name), so a
job's edges join a feature's lineage (``get_lineage()``, ``to_openlineage()``) and the
orchestrators' own lineage."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from raise_.jobs.records import JobRecord

__all__ = ["job_datasets", "source_dataset"]


def source_dataset(source: dict[str, Any], project: str) -> dict[str, str]:
    kind = source.get("source_type")
    if kind in ("filesystem", "object_storage"):
        path = str(source["path"])
        parts = urlsplit(path)
        if parts.scheme and parts.scheme != "file":
            return {"namespace": f"{parts.scheme}://{parts.netloc}", "name": parts.path.lstrip("/") or "/"}
        return {"namespace": "file", "name": parts.path if parts.scheme == "file" else path}
    if kind == "database":
        table = f"{source['schema']}.{source['table']}" if source.get("schema") else str(source["table"])
        return {"namespace": f"raise-connection://{source['connection']}", "name": table}
    if kind == "columnar":
        table = ".".join(str(p) for p in (source.get("database"), source["table"]) if p)
        return {"namespace": f"raise-connection://{source['catalog']}", "name": table}
    group = str(source.get("feature_group", ""))
    path = group if group.count("/") == 3 else f"{project}/{group}"
    return {"namespace": "raise", "name": path}


def job_datasets(record: JobRecord) -> dict[str, Any]:
    """The job with its input datasets (one per source, with the features read from a group) and
    its output (the target group and the features it writes)."""
    definition = record.definition
    inputs = []
    for source in definition.get("sources", []):
        entry = {
            **source_dataset(source, record.project),
            "source": source.get("name"),
            "type": source.get("source_type"),
        }
        if source.get("source_type") == "feature_group" and source.get("features"):
            entry["features"] = list(source["features"])
        inputs.append(entry)
    target = definition.get("target", {})
    features = sorted(set((target.get("features") or {}).values()))
    return {
        "job": {"namespace": f"raise://{record.project}", "name": record.name},
        "inputs": inputs,
        "outputs": [{"namespace": "raise", "name": record.target_group, "features": features}],
    }
