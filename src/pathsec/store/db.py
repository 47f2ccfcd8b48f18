"""Open the history database and save, list and load runs.

SQLite in the user data directory by default (``PATHSEC_DB`` or ``--db`` override it);
any SQLAlchemy URL works, e.g. ``postgresql+psycopg://user@host/db`` for a shared store.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import ValidationError
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session

from pathsec.atomic import create_private_file, make_private_dirs
from pathsec.audit.models import AuditResult
from pathsec.errors import InputError, InputProblem, PathsecError
from pathsec.report.facts import observation_facts
from pathsec.store.models import Base, EndpointRow, FindingRow, RunRow

ENV_DB = "PATHSEC_DB"


class StoreError(PathsecError):
    """The history database could not be reached or used (exit code 3)."""


def default_db_url() -> str:
    """``$PATHSEC_DB``, else SQLite in the user data directory (created when missing)."""
    env = os.environ.get(ENV_DB)
    if env:
        return env
    base = Path(platformdirs.user_data_dir("pathsec", appauthor=False))
    make_private_dirs(base)  # 0700: the history holds every finding of every run
    return f"sqlite:///{base / 'history.sqlite3'}"


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


def save_run(result: AuditResult, db_url: str | None = None, label: str | None = None) -> int:
    """Store one audit run in a single transaction; return its run id."""
    engine = open_db(db_url)
    worst = max((f.severity for f in result.findings), key=lambda s: s.rank, default=None)
    run = RunRow(
        stored_at=dt.datetime.now(dt.UTC),
        started=result.started,
        finished=result.finished,
        profile=result.profile,
        complete=result.complete,
        schema_version=result.schema_version,
        label=label,
        endpoint_count=len(result.endpoints),
        finding_count=len(result.findings),
        worst=worst.value if worst else None,
        result=result.model_dump_json(),
    )
    for ep in result.endpoints:
        run.endpoints.append(
            EndpointRow(
                host=ep.host,
                port=ep.port,
                protocol=ep.protocol.value,
                path_id=ep.path_id,
                flow_id=ep.flow_id,
                status=ep.status.value,
                reason=ep.reason,
                facts=json.dumps(observation_facts(ep.observations), sort_keys=True),
            )
        )
    for f in result.findings:
        run.findings.append(
            FindingRow(
                finding_id=f.id,
                severity=f.severity.value,
                host=f.host,
                port=f.port,
                protocol=f.protocol.value,
                path_id=f.path_id,
                flow_id=f.flow_id,
                title_en=f.title.en,
                title_zh=f.title.zh,
                evidence=json.dumps(list(f.evidence)),
            )
        )
    try:
        with Session(engine) as session, session.begin():
            session.add(run)
            session.flush()
            run_id = run.id
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
        return AuditResult.model_validate_json(text)
    except ValidationError as exc:
        raise StoreError(f"run {run_id} is stored in an unreadable form: {exc}") from None
