"""Open the history database with SQLAlchemy; save, list and load runs.

SQLite in the user data directory by default (``PATHSEC_DB`` or ``--db`` override it);
any SQLAlchemy URL works, e.g. ``postgresql+psycopg://user@host/db`` for a shared store.
Runs are saved through :func:`pathsec.store.save.save_run`, which writes plain SQLite
files without SQLAlchemy (:mod:`pathsec.store.sqlite`) and comes here for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine, create_engine, event, func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session

from pathsec.atomic import create_private_file
from pathsec.audit.models import AuditResult
from pathsec.errors import InputError, InputProblem
from pathsec.store.common import ENV_DB, StoreError, default_db_url
from pathsec.store.models import Base, EndpointRow, FindingRow, RunRow
from pathsec.store.rows import (
    ENDPOINT_COLUMNS,
    FINDING_COLUMNS,
    RUN_COLUMNS,
    RunRows,
    document_json,
)

__all__ = ["ENV_DB", "RunInfo", "StoreError", "default_db_url", "list_runs", "load_run", "open_db"]


def _private_sqlite(url: str) -> None:
    """Create a SQLite database file 0600 (its folder 0700) before SQLAlchemy opens it:
    SQLite would create it with the umask's mode, usually world-readable. Its journal
    files take the database file's mode."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return
    db = parsed.database
    if (
        parsed.drivername.startswith("sqlite")
        and db
        and db != ":memory:"
        and not db.startswith("file:")
    ):
        create_private_file(db)


def shown_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


@lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    _private_sqlite(url)
    try:
        engine = create_engine(url)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise InputError(InputProblem("--db", None, None, f"not a database URL: {exc}")) from None
    except ImportError as exc:
        raise StoreError(f"{shown_url(url)}: database driver missing: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_wal)
    try:
        Base.metadata.create_all(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(
            f"cannot open the history database {shown_url(url)}: {_short(exc)}. "
            "Tip: check --db (or PATHSEC_DB) and that the server is reachable."
        ) from None
    return engine


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def open_db(db_url: str | None = None) -> Engine:
    """The engine for ``db_url`` (default: :func:`default_db_url`), tables created."""
    return _engine(db_url or default_db_url())


def _sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    """Every SQLite connection in WAL mode, as :mod:`pathsec.store.sqlite` opens them."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


#: Endpoint or finding rows per bulk insert (bounded memory for large runs).
_BATCH = 1000


def save_rows(db_url: str, rows: RunRows) -> int:
    """Insert one run's rows in a single transaction (bulk inserts); return its run id."""
    engine = open_db(db_url)
    tables = Base.metadata.tables
    runs = tables[RunRow.__tablename__]
    endpoints = tables[EndpointRow.__tablename__]
    findings = tables[FindingRow.__tablename__]
    try:
        with engine.begin() as conn:
            values = dict(zip(RUN_COLUMNS, rows.run, strict=True))
            key = conn.execute(insert(runs).values(values)).inserted_primary_key
            assert key is not None
            run_id = int(key[0])
            for table, columns, made in (
                (endpoints, ENDPOINT_COLUMNS, rows.endpoints()),
                (findings, FINDING_COLUMNS, rows.findings()),
            ):
                while batch := list(islice(made, _BATCH)):
                    conn.execute(
                        insert(table),
                        [{"run_id": run_id, **dict(zip(columns, r, strict=True))} for r in batch],
                    )
    except SQLAlchemyError as exc:
        raise StoreError(
            f"cannot store the run in {shown_url(str(engine.url))}: {_short(exc)}"
        ) from None
    return run_id


@dataclass(frozen=True)
class RunInfo:
    """One line of ``pathsec history``."""

    id: int
    stored_at: str
    started: str
    finished: str
    profile: str
    complete: bool
    label: str | None
    endpoints: int
    findings: int
    worst: str | None
    by_severity: dict[str, int]


def list_runs(db_url: str | None = None, limit: int = 50) -> list[RunInfo]:
    """The most recent runs, newest first."""
    engine = open_db(db_url)
    try:
        with Session(engine) as session:
            rows = session.scalars(select(RunRow).order_by(RunRow.id.desc()).limit(limit)).all()
            counts: dict[int, dict[str, int]] = {}
            if rows:
                q = (
                    select(FindingRow.run_id, FindingRow.severity, func.count())
                    .where(FindingRow.run_id.in_([r.id for r in rows]))
                    .group_by(FindingRow.run_id, FindingRow.severity)
                )
                for run_id, sev, n in session.execute(q):
                    counts.setdefault(run_id, {})[sev] = n
            return [
                RunInfo(
                    id=r.id,
                    stored_at=r.stored_at.isoformat(timespec="seconds"),
                    started=r.started,
                    finished=r.finished,
                    profile=r.profile,
                    complete=r.complete,
                    label=r.label,
                    endpoints=r.endpoint_count,
                    findings=r.finding_count,
                    worst=r.worst,
                    by_severity=counts.get(r.id, {}),
                )
                for r in rows
            ]
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read {shown_url(str(engine.url))}: {_short(exc)}") from None


def load_run(run_id: int, db_url: str | None = None) -> AuditResult:
    """The results document of a stored run; an unknown id is an input error."""
    engine = open_db(db_url)
    try:
        with Session(engine) as session:
            row = session.get(RunRow, run_id)
            text = row.result if row is not None else None
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read {shown_url(str(engine.url))}: {_short(exc)}") from None
    if text is None:
        raise InputError(
            InputProblem(
                f"run {run_id}",
                None,
                None,
                f"no such run in {shown_url(str(engine.url))} (pathsec history lists the runs)",
            )
        )
    try:
        return AuditResult.model_validate_json(document_json(text))
    except (ValidationError, ValueError) as exc:
        raise StoreError(f"run {run_id} is stored in an unreadable form: {exc}") from None
