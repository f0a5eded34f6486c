"""Progress for long work: a ``tqdm.auto`` bar (a widget in notebooks) above a size threshold."""

from __future__ import annotations

from typing import Any, Final

__all__ = ["PROGRESS_ITEMS", "PROGRESS_ROWS", "items_bar", "rows_bar", "stages"]

PROGRESS_ROWS: Final = 1_000_000


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str) -> None:
        pass

    def close(self) -> None:
        pass


def stages(total: int, desc: str, rows: int) -> Any:
    """A bar of ``total`` stages when ``rows`` reaches :data:`PROGRESS_ROWS`, else a silent stand-in."""
    if rows < PROGRESS_ROWS:
        return _Silent()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"{desc} ({rows:,} rows)", unit="step")


def rows_bar(total: int, desc: str, *, show: bool | None = None) -> Any:
    """A bar counting ``total`` rows when ``show`` is True, or when ``show`` is None and ``total``
    reaches :data:`PROGRESS_ROWS`; else a silent stand-in."""
    if not (show or (show is None and total >= PROGRESS_ROWS)):
        return _Silent()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="rows", unit_scale=True)


#: From how many items (blobs scanned or validated) an item bar is shown.
PROGRESS_ITEMS: Final = 1_000


def items_bar(total: int, desc: str, unit: str) -> Any:
    """A bar counting ``total`` items (blobs, references) when there are at least
    :data:`PROGRESS_ITEMS` of them, else a silent stand-in."""
    if total < PROGRESS_ITEMS:
        return _Silent()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit)
