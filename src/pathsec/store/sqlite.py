"""Store a run in a SQLite history file with Python's own sqlite3 module.

The audit stores every run by default; importing SQLAlchemy alone takes longer than the
whole write (0.17 s against about 0.02 s for 200 endpoints), so the default store writes
its rows here, in bulk and in one transaction, in WAL mode. The tables are SQLAlchemy's
(:mod:`pathsec.store.models`): a new file gets them from :data:`SCHEMA`, the statements
SQLAlchemy emits for SQLite (a test compares them), so no run imports SQLAlchemy (about
20 MB and 0.17 s); a file with only some of the tables goes to :mod:`pathsec.store.db`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from pathsec.atomic import create_private_file
from pathsec.store.common import StoreError
from pathsec.store.rows import ENDPOINT_COLUMNS, FINDING_COLUMNS, RUN_COLUMNS, RunRows

TABLES = ("pathsec_runs", "pathsec_endpoints", "pathsec_findings")

#: ``Base.metadata.create_all()`` on SQLite, statement by statement (whitespace aside).
SCHEMA = (
    "CREATE TABLE pathsec_runs (id INTEGER NOT NULL, stored_at DATETIME NOT NULL, "
    "started VARCHAR(64) NOT NULL, finished VARCHAR(64) NOT NULL, "
    "profile VARCHAR(255) NOT NULL, complete BOOLEAN NOT NULL, "
    "schema_version INTEGER NOT NULL, label VARCHAR(255), endpoint_count INTEGER NOT NULL, "
    "finding_count INTEGER NOT NULL, worst VARCHAR(16), result TEXT NOT NULL, "
    "PRIMARY KEY (id))",
    "CREATE TABLE pathsec_endpoints (id INTEGER NOT NULL, run_id INTEGER NOT NULL, "
    "host VARCHAR(255) NOT NULL, port INTEGER NOT NULL, protocol VARCHAR(16) NOT NULL, "
    "path_id VARCHAR(128), flow_id VARCHAR(512), status VARCHAR(32) NOT NULL, reason TEXT, "
    "facts TEXT NOT NULL, PRIMARY KEY (id), "
    "FOREIGN KEY(run_id) REFERENCES pathsec_runs (id) ON DELETE CASCADE)",
    "CREATE INDEX ix_pathsec_endpoints_run_id ON pathsec_endpoints (run_id)",
    "CREATE TABLE pathsec_findings (id INTEGER NOT NULL, run_id INTEGER NOT NULL, "
    "finding_id VARCHAR(32) NOT NULL, severity VARCHAR(16) NOT NULL, "
    "host VARCHAR(255) NOT NULL, port INTEGER NOT NULL, protocol VARCHAR(16) NOT NULL, "
    "path_id VARCHAR(128), flow_id VARCHAR(512), title_en TEXT NOT NULL, "
    "title_zh TEXT NOT NULL, evidence TEXT NOT NULL, PRIMARY KEY (id), "
    "FOREIGN KEY(run_id) REFERENCES pathsec_runs (id) ON DELETE CASCADE)",
    "CREATE INDEX ix_pathsec_findings_finding_id ON pathsec_findings (finding_id)",
    "CREATE INDEX ix_pathsec_findings_run_id ON pathsec_findings (run_id)",
)


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
    """Insert ``rows`` into the history at ``path`` (a new file gets the tables first); the
    new run id, or None when the file holds only some of the tables (the caller sets it up
    with SQLAlchemy)."""
    try:
        con = connect(path)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the history database {path}: {exc}") from None
    try:
        con.execute("BEGIN IMMEDIATE")  # the write lock first: two new runs, one schema
        try:
            have = {
                name
                for (name,) in con.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (?, ?, ?)",
                    TABLES,
                )
            }
            if have != set(TABLES):
                if have:
                    con.execute("ROLLBACK")
                    return None
                for statement in SCHEMA:
                    con.execute(statement)
            cur = con.execute(_RUN, (stored_at_text(rows), *rows.run[1:]))
            run_id = cur.lastrowid
            assert run_id is not None
            # Rows made as SQLite takes them: never all of them at once.
            con.executemany(_ENDPOINT, ((run_id, *e) for e in rows.endpoints()))
            con.executemany(_FINDING, ((run_id, *f) for f in rows.findings()))
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        return run_id
    except sqlite3.Error as exc:
        raise StoreError(f"cannot store the run in {path}: {exc}") from None
    finally:
        con.close()
