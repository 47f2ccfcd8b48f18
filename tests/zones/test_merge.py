"""``pathsec merge``: vantage points become one results document; bad files are one line."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pathsec.audit.models import AuditResult, EndpointResult, Observations
from pathsec.cli.main import run
from pathsec.probes.interface import AppProtocol, Status


def _result(zone: str, started: str, finished: str, complete: bool = True) -> AuditResult:
    ep = EndpointResult(
        host="10.213.1.10",
        port=389,
        protocol=AppProtocol.ldap,
        path_id="transport.hub_ad_access",
        from_zone=zone,
        status=Status.ok,
        observations=Observations(),
    )
    return AuditResult(
        started=started,
        finished=finished,
        complete=complete,
        profile="reference",
        endpoints=(ep,),
        findings=(),
    )


def test_merge(tmp_path: Path, capsys) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(
        _result("internal", "2026-01-01T10:00:00", "2026-01-01T10:01:00").model_dump_json()
    )
    b.write_text(
        _result("internet", "2026-01-01T09:00:00", "2026-01-01T09:30:00", False).model_dump_json()
    )
    assert run(["merge", str(a), str(b), "-o", str(tmp_path / "m.json")]) == 0
    m = json.loads((tmp_path / "m.json").read_text())
    assert [e["from_zone"] for e in m["endpoints"]] == ["internal", "internet"]
    assert m["started"] == "2026-01-01T09:00:00" and m["finished"] == "2026-01-01T10:01:00"
    assert m["complete"] is False and m["profile"] == "reference"
    AuditResult.model_validate(m)


def test_merge_rejects_other_json(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"checks": []}')
    assert run(["merge", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert re.search(r"x\.json:1: started: required field is missing", err)
