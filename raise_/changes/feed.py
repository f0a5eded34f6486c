"""The change feed is the commit log (DESIGN §8 "The change feed").

The process that owns the store tells the feed about each of its commits as it makes it
(:meth:`ChangeFeed.publish`, called by the storage service after the commit); commits made by
other processes are found by :meth:`ChangeFeed.poll`: one ``max(commit_id)`` of the commit log,
and the new rows only when it moved. Subscribers are called on the feed's own dispatch thread,
in commit order, each commit once: a writer never waits for them, and a slow subscriber delays
only the next notices (which it then receives together: bursts arrive as one batch).

The feed only *tells*; what a consumer has consumed is its cursor (the last commit per group),
kept with its own data. A notice lost (a crash between commit and notice) is caught up by the
consumer's cursor at its next refresh or at start.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Final

from raise_.storage.records import CommitEvent

__all__ = ["ChangeFeed", "CommitEvent", "Subscriber"]

log = logging.getLogger(__name__)

Subscriber = Callable[[list[CommitEvent]], None]
#: Commit ids remembered as told, so that a poll does not tell a commit published in-process again.
_REMEMBERED: Final = 100_000


class ChangeFeed:
    def __init__(
        self,
        newest: Callable[[], int],
        after: Callable[[int], list[CommitEvent]],
        *,
        poll_seconds: float = 0.5,
    ) -> None:
        """``newest()``: the newest commit id in the log (0: none); ``after(id)``: the commits
        after ``id``, oldest first."""
        self._newest = newest
        self._after = after
        self.poll_seconds = poll_seconds
        self._subscribers: list[Subscriber] = []
        self._told: collections.deque[int] = collections.deque(maxlen=_REMEMBERED)
        self._told_set: set[int] = set()
        self._watermark: int | None = None  # the newest commit id the poll has looked at
        self._queue: list[CommitEvent] = []
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._dispatcher: threading.Thread | None = None
        self._poller: threading.Thread | None = None

    # -- subscribing ------------------------------------------------------------------------------

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber(events)`` with each batch of new commits; returns the unsubscribe."""
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._subscribers.remove(subscriber)

        return unsubscribe

    # -- telling ----------------------------------------------------------------------------------

    def publish(self, event: CommitEvent) -> None:
        """A commit this process just made: queued for the subscribers at once."""
        self._enqueue([event])

    def poll(self) -> list[CommitEvent]:
        """Look for commits made by other processes (one cheap query when there are none);
        the new ones are queued for the subscribers and returned."""
        newest = self._newest()
        with self._lock:
            if self._watermark is None:  # first look: what is there now is not news
                self._watermark = newest
                return []
            if newest <= self._watermark:
                return []
            since = self._watermark
        found = self._after(since)
        with self._lock:
            self._watermark = max([newest, *(e.commit_id for e in found)])
        return self._enqueue(found)

    def _enqueue(self, events: list[CommitEvent]) -> list[CommitEvent]:
        with self._lock:
            fresh = [e for e in events if e.commit_id not in self._told_set]
            for e in fresh:
                if len(self._told) == self._told.maxlen:
                    self._told_set.discard(self._told[0])
                self._told.append(e.commit_id)
                self._told_set.add(e.commit_id)
            if fresh:
                self._queue.extend(fresh)
                self._wake.notify_all()
            started = self._dispatcher is not None
        if fresh and not started:
            self._dispatch_now()
        return fresh

    def _dispatch_now(self) -> None:
        """Without a dispatch thread (not started): tell the subscribers in the caller's thread."""
        with self._lock:
            batch, self._queue = self._queue, []
            subscribers = list(self._subscribers)
        self._tell(subscribers, batch)

    @staticmethod
    def _tell(subscribers: list[Subscriber], batch: list[CommitEvent]) -> None:
        if not batch:
            return
        batch.sort(key=lambda e: e.commit_id)
        for subscriber in subscribers:
            try:
                subscriber(batch)
            except Exception:  # one consumer's failure never stops the feed
                log.exception("change feed subscriber %r failed", subscriber)

    # -- the threads ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._dispatcher is not None and self._dispatcher.is_alive()

    def start(self, *, poll: bool = True) -> None:
        """Dispatch on a thread of the feed's own, and (``poll``) look for other processes'
        commits every ``poll_seconds``."""
        with self._lock:
            if self._dispatcher is not None:
                return
            self._stopping.clear()
            self._dispatcher = threading.Thread(target=self._dispatch_loop, name="raise-change-feed", daemon=True)
            self._dispatcher.start()
        if poll:
            with contextlib.suppress(Exception):
                self.poll()  # sets the watermark: older commits are the consumers' cursors' business
            self._poller = threading.Thread(target=self._poll_loop, name="raise-change-poll", daemon=True)
            self._poller.start()

    def _dispatch_loop(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._stopping.is_set():
                    self._wake.wait()
                if self._stopping.is_set() and not self._queue:
                    return
                batch, self._queue = self._queue, []
                subscribers = list(self._subscribers)
            self._tell(subscribers, batch)

    def _poll_loop(self) -> None:
        while not self._stopping.wait(self.poll_seconds):
            try:
                self.poll()
            except Exception:  # the store is being closed, or blinked: look again next time
                log.debug("change feed poll failed", exc_info=True)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        with self._lock:
            self._wake.notify_all()
            dispatcher, self._dispatcher = self._dispatcher, None
            poller, self._poller = self._poller, None
        for thread in (dispatcher, poller):
            if thread is not None:
                thread.join(timeout)
