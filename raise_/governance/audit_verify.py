"""Checking the audit hash chain: which entries were edited, deleted, reordered or inserted.

The walk reads entries in ``seq`` order and checks two things of each:

- its content: ``sha256(prev_hash + canonical JSON)`` must equal its stored ``entry_hash``,
  else it was **edited**;
- its link: its ``prev_hash`` must be the ``entry_hash`` of the entry numbered just before.
  Missing numbers are **deleted** entries, unless a retention purge recorded them (the PURGE
  entries list the numbers they removed). A link to an entry that stands *later* in the log
  means the order was changed (**reordered**, reported at the entry that stands too early). A
  link that skips back over entries means those were **inserted**. A link to a hash no entry
  has means the entry before was rewritten and re-hashed (reported as **edited**), or entries
  were deleted and the rest renumbered (which the chain head then also shows).

Finally the chain head (``audit_chain``) must name the last entry and its hash, which catches
deleting or rewriting the newest entries. Links are resolved within a window of recent entries,
so memory stays bounded however long the log.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any, Final

from raise_.governance.audit import GENESIS_HASH, chain_hash
from raise_.models.audit import ChainProblem

__all__ = ["ChainWalker", "purged_seqs"]

_WINDOW: Final = 10_000


class PurgedSeqs:
    """The sequence numbers retention purges removed: sorted, merged ranges."""

    def __init__(self, ranges: Iterable[tuple[int, int]]) -> None:
        merged: list[list[int]] = []
        for lo, hi in sorted(ranges):
            if merged and lo <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        self.ranges = [(lo, hi) for lo, hi in merged]

    def uncovered(self, lo: int, hi: int) -> list[tuple[int, int]]:
        """The parts of ``lo..hi`` no purge removed."""
        out: list[tuple[int, int]] = []
        cur = lo
        for a, b in self.ranges:
            if b < cur:
                continue
            if a > hi:
                break
            if a > cur:
                out.append((cur, a - 1))
            cur = max(cur, b + 1)
            if cur > hi:
                break
        if cur <= hi:
            out.append((cur, hi))
        return out

    @property
    def count(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.ranges)


def purged_seqs(purge_entries_metadata: Iterable[dict[str, Any]]) -> PurgedSeqs:
    ranges: list[tuple[int, int]] = []
    for meta in purge_entries_metadata:
        for pair in meta.get("purged_seqs") or []:
            ranges.append((int(pair[0]), int(pair[1])))
    return PurgedSeqs(ranges)


def _span(lo: int, hi: int) -> str:
    return f"seq {lo}" if lo == hi else f"seqs {lo}–{hi}"


class ChainWalker:
    """Feed entries (as column mappings, ``metadata`` under its column name) in ``seq`` order
    with :meth:`add`, then :meth:`finish` with the chain head."""

    def __init__(self, purged: PurgedSeqs) -> None:
        self.purged = purged
        self.problems: list[ChainProblem] = []
        self.checked = 0
        self._last_seq = 0
        self._last_hash = GENESIS_HASH
        self._recent: OrderedDict[str, int] = OrderedDict()  # entry_hash -> seq, newest last
        self._pending: dict[str, int] = {}  # a prev_hash not seen yet -> seq of the entry naming it
        self._reordered: list[tuple[int, int]] = []  # (early seq, seq of the entry it follows)
        self._skips: list[tuple[int, int]] = []  # (seq, seq of the entry it links back to)
        self._unchained = 0

    def add(self, row: dict[str, Any]) -> None:
        seq = row["seq"]
        if seq is None:
            self._unchained += 1
            return
        self.checked += 1
        stored = row["entry_hash"]
        prev = row["prev_hash"] or ""
        if chain_hash(prev, row) != stored:
            what = f"{row['action']} {row['resource_path'] or row['resource_type']} by {row['actor']}"
            self.problems.append(
                ChainProblem(seq, "edited", f"the entry ({what}) no longer matches its hash: its content was changed")
            )
        if stored in self._pending:  # an earlier entry linked forward to this one
            early = self._pending.pop(stored)
            self._reordered.append((early, seq))
        if seq != self._last_seq + 1:
            gaps = self.purged.uncovered(self._last_seq + 1, seq - 1)
            for lo, hi in gaps:
                self.problems.append(
                    ChainProblem(lo, "deleted", f"{_span(lo, hi)} missing from the log (not removed by retention)")
                )
        elif prev != self._last_hash:
            back = self._recent.get(prev)
            if back is not None:
                self._skips.append((seq, back))
            else:
                self._pending[prev] = seq
        self._recent[stored] = seq
        if len(self._recent) > _WINDOW:
            self._recent.popitem(last=False)
        self._flush_pending(seq)
        self._last_seq, self._last_hash = seq, stored

    def _flush_pending(self, seq: int, final: bool = False) -> None:
        for prev, at in list(self._pending.items()):
            if final or seq - at > _WINDOW:
                del self._pending[prev]
                self.problems.append(
                    ChainProblem(
                        at - 1,
                        "edited",
                        f"the entry at seq {at - 1} is not the one the entry at seq {at} was appended after: it was "
                        "rewritten and re-hashed (or entries between them were deleted and the rest renumbered)",
                    )
                )

    def finish(self, head_seq: int, head_hash: str) -> list[ChainProblem]:
        self._flush_pending(self._last_seq, final=True)
        covered: list[tuple[int, int]] = []
        for early, late in self._reordered:
            covered.append((early, late))
            self.problems.append(
                ChainProblem(
                    early,
                    "reordered",
                    f"the entry at seq {early} was appended after the entry now at seq {late}: the order was changed",
                )
            )
        for seq, back in self._skips:
            if any(lo <= back <= hi or lo <= seq <= hi for lo, hi in covered):
                continue  # a consequence of a reordering already reported
            self.problems.append(
                ChainProblem(
                    back + 1,
                    "inserted",
                    f"{_span(back + 1, seq - 1)} are not part of the chain: the entry at seq {seq} "
                    f"was appended right after seq {back}",
                )
            )
        if head_seq > self._last_seq:
            for lo, hi in self.purged.uncovered(self._last_seq + 1, head_seq):
                self.problems.append(
                    ChainProblem(lo, "deleted", f"{_span(lo, hi)} (the newest entries) missing from the log")
                )
        elif head_seq < self._last_seq:
            self.problems.append(
                ChainProblem(
                    head_seq + 1,
                    "inserted",
                    f"{_span(head_seq + 1, self._last_seq)} lie beyond the chain head (seq {head_seq})",
                )
            )
        elif self.checked and head_hash != self._last_hash:
            self.problems.append(
                ChainProblem(
                    self._last_seq,
                    "edited",
                    "the newest entry is not the one the chain head recorded: it was rewritten and re-hashed",
                )
            )
        if self._unchained:
            self.problems.append(
                ChainProblem(
                    None, "inserted", f"{self._unchained} entries carry no seq: they were added outside the chain"
                )
            )
        self.problems.sort(key=lambda p: (p.seq is None, p.seq or 0))
        return self.problems
