"""The default store's writer: stdlib sqlite3, bulk, WAL, SQLAlchemy's tables and rows.

An audit stores every run, so saving to a SQLite file imports no SQLAlchemy once the file
has its tables; what it writes must be exactly what the SQLAlchemy writer writes (the
history commands read it with SQLAlchemy).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pathsec.audit.models import AuditResult
from pathsec.store import list_runs, load_run, save_run
from pathsec.store.common import sqlite_file
from pathsec.store.db import save_rows
from pathsec.store.models import EndpointRow, FindingRow, RunRow
from pathsec.store.rows import ENDPOINT_COLUMNS, FINDING_COLUMNS, RUN_COLUMNS, run_rows
from report.sample import sample_result


def _many(n: int) -> AuditResult:
    """The sample result with its endpoints and findings repeated on ``n`` hosts each."""
    base = sample_result()
    endpoints = [
        e.model_copy(update={"host": f"h{i}.example.test"})
        for i in range(n)
        for e in base.endpoints
    ]
    findings = [
        f.model_copy(update={"host": f"h{i}.example.test"}) for i in range(n) for f in base.findings
    ]
    return base.model_copy(update={"endpoints": tuple(endpoints), "findings": tuple(findings)})


def _rows(path: Path, table: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(path)
    try:
        return con.execute(f"select * from {table} order by id").fetchall()
    finally:
        con.close()


def test_columns_are_the_models_columns() -> None:
    def cols(model: type[RunRow] | type[EndpointRow] | type[FindingRow]) -> set[str]:
        return {c.name for c in model.__table__.columns} - {"id", "run_id"}

    assert set(RUN_COLUMNS) == cols(RunRow)
    assert set(ENDPOINT_COLUMNS) == cols(EndpointRow)
    assert set(FINDING_COLUMNS) == cols(FindingRow)


def test_both_writers_write_the_same_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    result = _many(3)
    by_sqlalchemy = save_rows(url, run_rows(result, "a"))  # a new file: SQLAlchemy's tables
    by_sqlite3 = save_run(result, url, "a")  # the tables exist: the stdlib writer
    assert by_sqlite3 == by_sqlalchemy + 1
    runs = _rows(tmp_path / "h.sqlite3", "pathsec_runs")
    # id and stored_at differ; stored_at is written in SQLAlchemy's DATETIME format
    assert [r[2:] for r in runs[:1]] == [r[2:] for r in runs[1:]]
    assert [len(str(r[1])) for r in runs] == [26, 26]
    for table in ("pathsec_endpoints", "pathsec_findings"):
        rows = _rows(tmp_path / "h.sqlite3", table)
        first = [r[2:] for r in rows if r[1] == by_sqlalchemy]
        second = [r[2:] for r in rows if r[1] == by_sqlite3]
        assert first == second and len(first) in (15, 18), table
    assert load_run(by_sqlite3, url) == load_run(by_sqlalchemy, url) == result
    infos = list_runs(url)
    assert [i.id for i in infos] == [by_sqlite3, by_sqlalchemy]
    assert infos[0].by_severity == infos[1].by_severity and infos[0].endpoints == 15


def test_wal_mode_and_private_files(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "h.sqlite3"
    url = f"sqlite:///{db}"
    old = os.umask(0o022)
    try:
        save_run(sample_result(), url)
        save_run(_many(20), url)
        con = sqlite3.connect(db)  # while a connection is open, -wal and -shm exist
        try:
            assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
            extra = [p for p in db.parent.iterdir() if p != db]
            assert {p.name for p in extra} >= {"h.sqlite3-wal", "h.sqlite3-shm"}
            for p in (db, *extra):
                assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        finally:
            con.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    assert [r.endpoints for r in list_runs(url)] == [100, 5]


def test_saving_imports_no_sqlalchemy_not_even_for_a_new_file(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    results = tmp_path / "r.json"
    results.write_text(_many(40).model_dump_json(), "utf-8")
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from pathsec.audit.resultfile import load_result\n"
        "from pathsec.store import save_run\n"
        f"run_id = save_run(load_result(Path({str(results)!r})), {f'sqlite:///{db}'!r})\n"
        "print(run_id, 'sqlalchemy' in sys.modules)\n"
    )
    outs = [
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
        ).stdout.split()
        for _ in range(2)
    ]
    assert outs == [["1", "False"], ["2", "False"]]
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    # SQLAlchemy reads the file it did not set up, and finds its own tables there
    assert [r.endpoints for r in list_runs(f"sqlite:///{db}")] == [200, 200]


def _schema(db: Path) -> list[tuple[str, str, str]]:
    con = sqlite3.connect(db)
    try:
        rows = con.execute("select type, name, sql from sqlite_master order by name").fetchall()
    finally:
        con.close()
    return [(t, n, " ".join(str(sql).split())) for t, n, sql in rows]


def test_the_schema_is_sqlalchemys(tmp_path: Path) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.schema import CreateIndex, CreateTable

    from pathsec.store.models import Base
    from pathsec.store.sqlite import SCHEMA

    dialect = create_engine("sqlite://").dialect
    emitted = []
    for table in Base.metadata.sorted_tables:
        emitted.append(str(CreateTable(table).compile(dialect=dialect)))
        emitted += [str(CreateIndex(i).compile(dialect=dialect)) for i in table.indexes]

    def norm(sql: str) -> str:
        return " ".join(sql.split()).replace("( ", "(").replace(" )", ")")

    assert sorted(norm(s) for s in emitted) == sorted(norm(s) for s in SCHEMA)
    # and the files agree: one set up by SQLAlchemy, one by the stdlib writer
    save_rows(f"sqlite:///{tmp_path / 'a.sqlite3'}", run_rows(sample_result()))
    save_run(sample_result(), f"sqlite:///{tmp_path / 'b.sqlite3'}")
    a, b = (
        [(t, n, norm(sql)) for t, n, sql in _schema(tmp_path / name)]
        for name in ("a.sqlite3", "b.sqlite3")
    )
    assert a == b and len(a) == 6


def test_a_file_with_some_of_the_tables_is_set_up_by_sqlalchemy(tmp_path: Path) -> None:
    from pathsec.store.sqlite import SCHEMA

    db = tmp_path / "h.sqlite3"
    con = sqlite3.connect(db)
    try:
        con.execute(SCHEMA[0])  # pathsec_runs only
    finally:
        con.close()
    run_id = save_run(sample_result(), f"sqlite:///{db}")
    assert load_run(run_id, f"sqlite:///{db}") == sample_result()
    assert {n for t, n, _ in _schema(db) if t == "table"} >= {
        "pathsec_runs",
        "pathsec_endpoints",
        "pathsec_findings",
    }


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///h.sqlite3", "h.sqlite3"),
        ("sqlite:////var/lib/pathsec/h.sqlite3", "/var/lib/pathsec/h.sqlite3"),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("sqlite:///file:h.db?mode=ro&uri=true", None),
        ("sqlite:///h%20x.sqlite3", None),
        ("sqlite+pysqlite:///h.sqlite3", None),
        ("postgresql+psycopg://u@localhost/pathsec", None),
    ],
)
def test_only_plain_sqlite_files_skip_sqlalchemy(url: str, path: str | None) -> None:
    assert sqlite_file(url) == path


def test_memory_and_other_urls_still_work_through_sqlalchemy() -> None:
    # An in-memory database lives as long as SQLAlchemy's engine (cached per URL).
    run_id = save_run(sample_result(), "sqlite://")
    assert load_run(run_id, "sqlite://") == sample_result()


def test_the_stored_document_is_the_results_json_compressed() -> None:
    from pathsec.store.rows import DOCUMENT_PREFIX, document, document_json

    for result in (
        sample_result(),
        _many(3),
        sample_result().model_copy(update={"endpoints": (), "findings": ()}),
        sample_result().model_copy(update={"findings": ()}),
    ):
        doc = document(result)
        assert doc.startswith(DOCUMENT_PREFIX) and doc.isascii()
        assert document_json(doc) == result.model_dump_json().encode()
        assert AuditResult.model_validate_json(document_json(doc)) == result
    # JSON results compress many times over: 40 endpoints' document is a fraction of its JSON
    big = _many(40)
    assert len(document(big)) * 10 < len(big.model_dump_json())


def _stored_result(db: Path, run_id: int) -> str:
    con = sqlite3.connect(db)
    try:
        text: str = con.execute(
            "select result from pathsec_runs where id = ?", (run_id,)
        ).fetchone()[0]
        return text
    finally:
        con.close()


def _set_stored_result(db: Path, run_id: int, text: str) -> None:
    con = sqlite3.connect(db)
    try:
        with con:
            con.execute("update pathsec_runs set result = ? where id = ?", (text, run_id))
    finally:
        con.close()


def test_runs_stored_before_compression_still_load(tmp_path: Path) -> None:
    """Rows written before the document was compressed hold the JSON itself."""
    db = tmp_path / "h.sqlite3"
    url = f"sqlite:///{db}"
    result = _many(2)
    save_run(sample_result(), url)
    run_id = save_run(result, url)
    assert not _stored_result(db, run_id).startswith("{")
    _set_stored_result(db, run_id, result.model_dump_json(ensure_ascii=True))  # the old form
    assert load_run(run_id, url) == result
    assert load_run(run_id - 1, url) == sample_result()


def test_a_damaged_document_is_a_store_error(tmp_path: Path) -> None:
    from pathsec.store import StoreError
    from pathsec.store.rows import DOCUMENT_PREFIX

    db = tmp_path / "h.sqlite3"
    url = f"sqlite:///{db}"
    run_id = save_run(sample_result(), url)
    stored = _stored_result(db, run_id)
    for bad in (stored[:-12], DOCUMENT_PREFIX + "not base64!", DOCUMENT_PREFIX + "AAAA"):
        _set_stored_result(db, run_id, bad)
        with pytest.raises(StoreError, match=f"run {run_id} is stored in an unreadable form"):
            load_run(run_id, url)
