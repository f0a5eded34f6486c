"""A job's inputs and outputs as datasets, named as OpenLineage names them (namespace + name), so a
job's edges join a feature's lineage (``get_lineage()``, ``to_openlineage()``) and the
orchestrators' own lineage."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from raise_.jobs.records import JobRecord

__all__ = ["job_datasets", "model_dataset", "source_dataset"]


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


def model_dataset(model: dict[str, Any]) -> dict[str, str]:
    """A model as an OpenLineage dataset: ``hf`` + ``org/name``, ``s3://bucket`` + key, ``mlflow`` +
    ``models:/name/1``; the version follows an ``@`` where it is not ``latest``."""
    uri = str(model.get("uri", ""))
    scheme, _, rest = uri.partition("://") if "://" in uri else ("file", "", uri)
    version = str(model.get("version") or "latest")
    suffix = "" if version == "latest" else f"@{version}"
    if scheme in ("s3", "gs", "gcs", "az", "abfs"):
        bucket, _, key = rest.partition("/")
        return {"namespace": f"{scheme}://{bucket}", "name": key + suffix}
    return {"namespace": scheme, "name": rest + suffix}


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
    transform = definition.get("transform") or {}
    if transform.get("transform_type") == "inference":
        # The model is an input too: lineage runs from the features it reads, through it, to
        # the features it writes (which a model's job names by its output mapping).
        model = dict(transform.get("model") or {})
        read = sorted(set((transform.get("input_mapping") or {}).values()))
        for entry in inputs:
            if entry["type"] == "feature_group" and "features" not in entry and read:
                entry["features"] = read
        inputs.append({**model_dataset(model), "type": "model", "model": model})
        if not features:
            mapping = target.get("features") or {}
            features = sorted({mapping.get(c, c) for c in (transform.get("output_mapping") or {}).values()})
    return {
        "job": {"namespace": f"raise://{record.project}", "name": record.name},
        "inputs": inputs,
        "outputs": [{"namespace": "raise", "name": record.target_group, "features": features}],
    }
