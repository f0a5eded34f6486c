"""The README's "In the notebook" cells run as written in a real shell."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from raise_ import FeatureStore

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_notebook_cells_run(ip: Any, fs: FeatureStore) -> None:
    section = re.search(r"## In the notebook\n(.*?)\n## ", README.read_text(encoding="utf-8"), re.S)
    assert section is not None, "README.md lost its 'In the notebook' section"
    cells = re.findall(r"```(?:python|sql)\n(.*?)```", section.group(1), re.S)
    assert len(cells) == 2
    day = pd.Timestamp("2024-01-01", tz="UTC")
    signals = fs.create_feature_group("user-signals", entity_keys=["user_id"], event_time="event_time")
    signals.create_feature("clicks", "int64")
    signals.create_feature("impressions", "int64")
    signals.create_feature("ctr", "float64", derived_from="clicks / NULLIF(impressions, 0)")
    signals.write(pd.DataFrame({"user_id": [1, 2, 3], "event_time": day, "clicks": [1, 9, 5], "impressions": [10] * 3}))
    profiles = fs.create_feature_group("profiles", entity_keys=["user_id"], event_time="event_time")
    profiles.create_feature("country", "string")
    profiles.write(pd.DataFrame({"user_id": [1, 2, 3], "event_time": day, "country": ["fr", "de", "us"]}))
    ip.user_ns["threshold"] = 0.2

    for cell in cells:
        outcome = ip.run_cell(cell, store_history=True)
        assert outcome.success, outcome.error_in_exec

    assert ip.user_ns["top"].to_dict("records") == [
        {"user_id": 2, "country": "de", "ctr": 0.9},
        {"user_id": 3, "country": "us", "ctr": 0.5},
    ]
