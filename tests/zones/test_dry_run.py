"""``pathsec audit DEPLOYMENT --dry-run``: every catalog path is a check or not observable."""

from __future__ import annotations

import json
from pathlib import Path

from pathsec.catalog import load_builtin
from pathsec.cli.main import run

REPO = Path(__file__).resolve().parents[2]
TWO_SITES = REPO / "examples" / "two-sites.yaml"
SMALL = REPO / "examples" / "small.yaml"


def _dry(capsys, *args: str) -> dict:
    rc = run(["audit", *args, "--dry-run", "--format", "json"])
    assert rc == 0
    return json.loads(capsys.readouterr().out)


def test_every_catalog_path_is_covered(capsys):
    doc = _dry(capsys, str(TWO_SITES))
    paths = {p.id for p in load_builtin().paths}
    assert len(paths) == 52
    checked = {c["path_id"] for c in doc["checks"]}
    unobservable = {n["path_id"] for n in doc["not_observable"]}
    assert paths <= checked | unobservable, sorted(paths - checked - unobservable)
    for c in doc["checks"]:
        assert {"path_id", "host", "port", "protocol", "probe", "from_zone"} <= set(c)
        assert c["from_zone"] in c["source_zones"]
    for n in doc["not_observable"]:
        assert n["reason"] and n["how_to_verify"]


def test_reasons_for_what_no_probe_can_see(capsys):
    doc = _dry(capsys, str(TWO_SITES))
    reasons: dict[str, list[str]] = {}
    for n in doc["not_observable"]:
        reasons.setdefault(n["path_id"], []).append(n["reason"])

    def has(path: str, text: str) -> bool:
        return any(text in r for r in reasons.get(path, []))

    assert has("mailbox.ccr_scr_log_shipping", "IPsec")
    assert has("mailbox.ccr_scr_seeding", "random port")
    assert has("mailbox.legacy_backup", "random port")
    assert has("mailbox.vss_backup", "local path")
    assert has("mailbox.mapi_access", "RPC encryption")
    assert has("mailbox.mapi_access", "RPC dynamic port range")
    assert has("unified_messaging.pbx", "RTP media")
    # log shipping is still probed on 445 although its encryption is not observable
    checks = {(c["path_id"], c["port"], c["protocol"], c["probe"]) for c in doc["checks"]}
    assert ("mailbox.ccr_scr_log_shipping", 445, "smb", "smb") in checks
    assert ("client_access.owa", 443, "https", "http") in checks
    assert ("client_access.owa", 80, "http", "http") in checks
    assert ("transport.hub_ad_access", 88, "kerberos-udp", "kerberos") in checks
    assert ("transport.hub_ad_access", 389, "cldap", "udp") in checks
    assert ("transport.hub_ad_access", 3268, "ldap", "ldap") in checks
    assert ("mailbox.cluster", 3343, "udp", "udp") in checks
    assert ("unified_messaging.pbx", 5061, "sips", "sip") in checks
    assert ("transport.edgesync", 50636, "ldaps", "ldap") in checks
    # a local path is never probed
    assert not any(c["path_id"] == "mailbox.vss_backup" for c in doc["checks"])


def test_from_zone_lists_planned_and_closed_checks(capsys):
    doc = _dry(capsys, str(SMALL), "--from", "internet")
    opened = {(c["destination"], c["port"]) for c in doc["checks"] if c["expect"] == "open"}
    closed = {(c["destination"], c["port"]) for c in doc["checks"] if c["expect"] == "closed"}
    assert all(c["from_zone"] == "internet" for c in doc["checks"])
    # small.yaml has no partner organisation: the internet reaches only OWA/EAS on EX1
    assert opened == {("EX1", 80), ("EX1", 443)}
    # kept internal by the plan: must be closed to the internet
    assert {("DC1", 389), ("DC1", 88), ("EX1", 25), ("EDGE1", 50636), ("EDGE1", 25)} <= closed
    assert not opened & closed


def test_unknown_zone_is_bad_input(capsys):
    rc = run(["audit", str(SMALL), "--dry-run", "--from", "nowhere"])
    assert rc == 2
    assert "unknown zone 'nowhere'" in capsys.readouterr().err


def test_dry_run_needs_a_deployment(capsys):
    assert run(["audit", "-t", "127.0.0.1:25", "--dry-run"]) == 2
