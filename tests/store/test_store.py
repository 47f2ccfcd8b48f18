"""History on SQLite: save in one transaction, list, load, diff, and the CLI around them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from pathsec.audit.models import AuditResult, FindingSeverity
from pathsec.cli.main import run
from pathsec.probes.certs import CertificateFacts
from pathsec.store import diff_results, list_runs, load_run, save_run
from pathsec.store.db import default_db_url
from report.sample import sample_result


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'h.sqlite3'}"


def _with_cert(result: AuditResult, sha: str, mechanisms: tuple[str, ...]) -> AuditResult:
    """The sample with the edge server's certificate fingerprint and AUTH list replaced."""
    ep = result.endpoints[0]
    smtp = ep.observations.smtp
    assert smtp is not None and smtp.tls is not None and smtp.tls.certificate is not None
    cert: CertificateFacts = smtp.tls.certificate.model_copy(update={"sha256": sha})
    tls = smtp.tls.model_copy(update={"certificate": cert})
    assert smtp.ehlo_before is not None
    ehlo = smtp.ehlo_before.model_copy(update={"auth": mechanisms})
    new_smtp = smtp.model_copy(update={"tls": tls, "ehlo_before": ehlo})
    tls_obs = ep.observations.tls
    assert tls_obs is not None
    new_obs = ep.observations.model_copy(
        update={"smtp": new_smtp, "tls": tls_obs.model_copy(update={"session": tls})}
    )
    return result.model_copy(
        update={
            "endpoints": (ep.model_copy(update={"observations": new_obs}), *result.endpoints[1:])
        }
    )


def test_save_load_list(tmp_path: Path) -> None:
    url = _url(tmp_path)
    first = save_run(sample_result(), url)
    second = save_run(sample_result(), url, label="vantage dmz")
    assert second == first + 1
    assert load_run(first, url) == sample_result()
    runs = list_runs(url)
    assert [r.id for r in runs] == [second, first]
    assert runs[0].label == "vantage dmz"
    assert runs[0].by_severity == {"critical": 1, "high": 1, "medium": 2, "low": 1, "info": 1}
    assert runs[0].worst == "critical"
    # The rows are queryable with plain SQL.
    con = sqlite3.connect(tmp_path / "h.sqlite3")
    try:
        n = con.execute(
            "select count(*) from pathsec_findings where run_id = ?", (first,)
        ).fetchone()[0]
        facts = con.execute(
            "select facts from pathsec_endpoints where run_id = ? and port = 25 and host like 'edge1%'",
            (first,),
        ).fetchone()[0]
    finally:
        con.close()
    assert n == 6
    assert json.loads(facts)["tls.session.certificate.sha256"] == "ab" * 32
    assert "smtp.transcript" not in json.loads(facts)


def test_save_is_one_transaction(tmp_path: Path) -> None:
    url = _url(tmp_path)
    save_run(sample_result(), url)
    bad = sample_result().model_copy(update={"profile": "x" * 10})
    # A finding row that violates NOT NULL makes the whole run fail: nothing is half stored.
    broken = bad.model_copy(
        update={"findings": (*bad.findings, bad.findings[0].model_copy(update={"host": None}))}
    )
    with pytest.raises(Exception):  # noqa: B017 - any database error
        save_run(broken, url)
    con = sqlite3.connect(tmp_path / "h.sqlite3")
    try:
        assert con.execute("select count(*) from pathsec_runs").fetchone()[0] == 1
        assert con.execute("select count(*) from pathsec_endpoints").fetchone()[0] == 5
    finally:
        con.close()


def test_diff_certificate_replaced_and_mechanism_added() -> None:
    a = sample_result()
    b = _with_cert(a, "cd" * 32, ("PLAIN", "LOGIN", "GSSAPI"))
    d = diff_results(a, b)
    assert not d.new_findings and not d.fixed_findings and not d.changed_findings
    assert [e.endpoint for e in d.changed_endpoints] == ["edge1.example.test:25/smtp"]
    changes = {c.fact: c for c in d.changed_endpoints[0].changes}
    assert set(changes) == {
        "smtp.tls.certificate.sha256",
        "tls.session.certificate.sha256",
        "smtp.ehlo_before.auth",
    }
    sha = changes["tls.session.certificate.sha256"]
    assert (sha.before, sha.after) == ("ab" * 32, "cd" * 32)
    auth = changes["smtp.ehlo_before.auth"]
    assert auth.added == ("GSSAPI",) and auth.removed == ()


def test_diff_findings_new_fixed_changed() -> None:
    a = sample_result()
    gone = a.findings[0]
    raised = a.findings[1].model_copy(update={"severity": FindingSeverity.high})
    new = a.findings[2].model_copy(update={"id": "PS-TLS-011"})
    b = a.model_copy(update={"findings": (raised, *a.findings[2:], new)})
    d = diff_results(a, b)
    assert [f.id for f in d.fixed_findings] == [gone.id]
    assert [f.id for f in d.new_findings] == ["PS-TLS-011"]
    assert [(c.before.severity, c.after.severity) for c in d.changed_findings] == [
        ("medium", "high")
    ]
    assert not d.changed_endpoints


def test_diff_ignores_reordering_and_volatile_fields() -> None:
    a = sample_result()
    b = _with_cert(a, "ab" * 32, ("LOGIN", "PLAIN"))  # same set, other order
    ep = b.endpoints[0]
    assert ep.observations.tcp is not None
    tcp = ep.observations.tcp.model_copy(update={"connect_ms": 99.0, "transcript": ("*: other",)})
    b = b.model_copy(
        update={
            "endpoints": (
                ep.model_copy(
                    update={"observations": ep.observations.model_copy(update={"tcp": tcp})}
                ),
                *b.endpoints[1:],
            )
        }
    )
    assert diff_results(a, b).empty


def test_cli_store_history_diff_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = _url(tmp_path)
    fa, fb = tmp_path / "a.json", tmp_path / "b.json"
    fa.write_text(sample_result().model_dump_json())
    fb.write_text(_with_cert(sample_result(), "cd" * 32, ("PLAIN", "LOGIN")).model_dump_json())
    assert run(["store", str(fa), "--db", url]) == 0
    assert run(["store", str(fb), "--db", url, "--label", "after renewal"]) == 0
    ids = [int(x) for x in capsys.readouterr().out.split()]
    assert run(["history", "--db", url, "--format", "json"]) == 0
    hist = json.loads(capsys.readouterr().out)
    assert [h["id"] for h in hist] == ids[::-1] and hist[0]["label"] == "after renewal"
    assert run(["diff", str(ids[0]), str(ids[1]), "--db", url, "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    facts = [c["fact"] for e in d["changed_endpoints"] for c in e["changes"]]
    assert facts == ["smtp.tls.certificate.sha256", "tls.session.certificate.sha256"]
    # Files and run ids mix; the table names the change.
    assert run(["diff", str(fa), str(ids[1]), "--db", url]) == 0
    out = capsys.readouterr().out
    assert "tls.session.certificate.sha256" in out and "abab" in out and "cdcd" in out
    # A stored run renders like a file.
    out_file = tmp_path / "r.md"
    assert run(["report", str(ids[0]), "--db", url, "-f", "markdown", "-o", str(out_file)]) == 0
    assert out_file.read_text().startswith("# pathsec audit report")


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = _url(tmp_path)
    assert run(["diff", "1", "2", "--db", url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run 1" in err and "pathsec history" in err
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{\n  "started": "x",\n  "finished": "y",\n  "complete": true,\n  "profile": "p",\n  "endpoints": [],\n  "findings": [{"id": "nope"}]\n}\n'
    )
    assert run(["report", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"pathsec: error: {bad}:7: findings[0].id:") and err.count("\n") == 1
    (tmp_path / "broken.json").write_text("{\n\n  oops")
    assert run(["store", str(tmp_path / "broken.json"), "--db", url]) == 2
    assert ":3: not JSON" in capsys.readouterr().err
    assert run(["history", "--db", "nosuchdb://x"]) == 2
    assert "--db" in capsys.readouterr().err
    # A server that is not there: the run could not complete (exit 3), with a tip.
    assert run(["history", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none"]) == 3
    err = capsys.readouterr().err
    assert "Tip:" in err and err.count("\n") == 1


def test_default_db_in_user_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PATHSEC_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    url = default_db_url()
    assert url == f"sqlite:///{tmp_path / 'data' / 'pathsec' / 'history.sqlite3'}"
    monkeypatch.setenv("PATHSEC_DB", "sqlite:///elsewhere.db")
    assert default_db_url() == "sqlite:///elsewhere.db"
