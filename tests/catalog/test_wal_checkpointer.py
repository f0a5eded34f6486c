"""A file catalog's WAL is checkpointed by a background thread, not inside users' commits."""

from __future__ import annotations

import gc
import sqlite3
import time
from pathlib import Path

from raise_.catalog.database import CatalogDatabase
from raise_.catalog.wal_checkpointer import WalCheckpointer


class Owner:
    """Stands for the catalog that owns the thread (it must be weakly referenceable)."""


def _fill_wal(path: Path, rows: int = 2000) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE t (x BLOB)")
    conn.commit()
    for _ in range(rows):
        conn.execute("INSERT INTO t VALUES (?)", (b"x" * 1000,))
        conn.commit()
    return conn


def _wait_for(predicate: object, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def test_the_thread_copies_the_wal_into_the_database(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    conn = _fill_wal(path)
    assert path.stat().st_size < 100_000  # everything written so far sits in the WAL
    owner = Owner()
    checkpointer = WalCheckpointer(path, owner, interval=0.01)
    try:
        assert _wait_for(lambda: path.stat().st_size > 2_000_000), path.stat().st_size
        assert conn.execute("SELECT count(*) FROM t").fetchall() == [(2000,)]
    finally:
        checkpointer.stop()
        conn.close()


def test_the_thread_ends_when_stopped_or_when_its_owner_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    _fill_wal(path, rows=1).close()
    stopped = WalCheckpointer(path, Owner(), interval=0.01)
    stopped.stop()
    assert not stopped._thread.is_alive()
    owner = Owner()
    orphaned = WalCheckpointer(path, owner, interval=0.01)
    del owner
    gc.collect()
    assert _wait_for(lambda: not orphaned._thread.is_alive())


def test_a_file_catalog_leaves_checkpoints_to_its_thread(tmp_path: Path) -> None:
    db = CatalogDatabase(f"sqlite:///{tmp_path / 'catalog.db'}")
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        assert db._checkpointer is not None and db._checkpointer._thread.is_alive()
    finally:
        db.dispose()
    assert db._checkpointer is None
    with db.engine.connect() as conn:  # used again after dispose: SQLite checkpoints by itself
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    db.dispose()
