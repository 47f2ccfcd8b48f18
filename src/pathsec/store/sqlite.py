"""Store a run in a SQLite history file with Python's own sqlite3 module.

The audit stores every run by default; importing SQLAlchemy alone takes longer than the
whole write (0.17 s against about 0.02 s for 200 endpoints), so the default store writes
its rows here, in bulk and in one transaction, in WAL mode. The tables are SQLAlchemy's
(:mod:`pathsec.store.models`): a new file is set up by :mod:`pathsec.store.db` once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from pathsec.atomic import create_private_file
from pathsec.store.common import StoreError
from pathsec.store.rows import ENDPOINT_COLUMNS, FINDING_COLUMNS, RUN_COLUMNS, RunRows

TABLES = ("pathsec_runs", "pathsec_endpoints", "pathsec_findings")


def _insert(table: str, columns: Sequence[str]) -> str:
    # Table and column names are this module's constants, never input.
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


_RUN = _insert("pathsec_runs", RUN_COLUMNS)
_ENDPOINT = _insert("pathsec_endpoints", ("run_id", *ENDPOINT_COLUMNS))
_FINDING = _insert("pathsec_findings", ("run_id", *FINDING_COLUMNS))


def stored_at_text(rows: RunRows) -> str:
    """``stored_at`` as SQLAlchemy writes a DATETIME to SQLite (UTC, no offset)."""
    return rows.stored_at.strftime("%Y-%m-%d %H:%M:%S.%f")


def connect(path: str) -> sqlite3.Connection:
    """Open ``path`` (created 0600 first, its folder 0700) in WAL mode, autocommit.

    WAL: readers (``pathsec history``) never block the audit's write, and a commit
    appends to the log instead of rewriting the database; ``synchronous=NORMAL`` is
    SQLite's advice for WAL (a power cut may lose the last run, never the file).
    The ``-wal`` and ``-shm`` files SQLite adds take the database file's mode.
    """
    create_private_file(path)
    con = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    return con


def save_sqlite(path: str, rows: RunRows) -> int | None:
    """Insert ``rows`` into the history at ``path``; the new run id, or None when the file
    has no history tables yet (the caller sets them up with SQLAlchemy)."""
    try:
        con = connect(path)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the history database {path}: {exc}") from None
    try:
        have = {
            name
            for (name,) in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (?, ?, ?)",
                TABLES,
            )
        }
        if have != set(TABLES):
            return None
        con.execute("BEGIN IMMEDIATE")
        try:
            cur = con.execute(_RUN, (stored_at_text(rows), *rows.run[1:]))
            run_id = cur.lastrowid
            assert run_id is not None
            # Rows made as SQLite takes them: never all of them at once.
            con.executemany(_ENDPOINT, ((run_id, *e) for e in rows.endpoints()))
            con.executemany(_FINDING, ((run_id, *f) for f in rows.findings()))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return run_id
    except sqlite3.Error as exc:
        raise StoreError(f"cannot store the run in {path}: {exc}") from None
    finally:
        con.close()
