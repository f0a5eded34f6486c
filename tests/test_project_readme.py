"""The quick start in this project's README.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_quick_start_runs(store_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## Quick start\s+```python\n(.*?)```", text, re.S)
    assert block is not None, "README.md lost its Quick start block"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "features.yaml").write_text(
        "features:\n  - name: session_minutes\n    dtype: float32\n    description: Time on site\n", encoding="utf-8"
    )
    namespace: dict[str, object] = {}
    exec(compile(block.group(1), str(README), "exec"), namespace)
    training = (
        namespace["fs"]
        .get_training_data(  # type: ignore[attr-defined]
            namespace["entities"], features=["user-signals.click_count"]
        )
        .to_pandas()
    )
    # user 1 at Jan 3 sees the upserted 4; user 2 at Jan 1 is before its only row (Jan 2)
    assert training["click_count"].tolist()[0] == 4
    assert training["click_count"].isna().tolist() == [False, True]
