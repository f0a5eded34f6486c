"""The change feed (DESIGN §8): every commit to the offline store, told to the consumers that
follow it (live tables now; alerts, jobs and online materialization next)."""

from __future__ import annotations

from raise_.changes.feed import ChangeFeed, CommitEvent

__all__ = ["ChangeFeed", "CommitEvent"]
