"""The audit end to end: capturing servers, findings, profiles, JSON contract, exit codes."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from pathlib import Path

import jsonschema
import pytest
from scripted import (
    EX2007_HUB_BANNER,
    EX2007_HUB_EHLO,
    EX_EHLO_AFTER_TLS,
    EX_IMAP_CAPS_AFTER,
    EX_IMAP_CAPS_BEFORE,
    EX_IMAP_GREETING,
    EX_POP3_BANNER,
    EX_POP3_CAPA_AFTER,
    Script,
    port_of,
    serve,
)
from spnego._ntlm_raw import messages as ntlm_msgs

from pathsec.audit.checks.registry import CHECKS
from pathsec.audit.checks.texts import texts_of
from pathsec.audit.engine import Engine, Limits, NullObserver
from pathsec.audit.models import Target
from pathsec.audit.profiles import load_profile
from pathsec.audit.run import results_schema_text
from pathsec.audit.targets import parse_target
from pathsec.cli.main import run
from pathsec.errors import InputError
from pathsec.probes.interface import AppProtocol, ProbeSettings

SCHEMA = Path(__file__).parents[2] / "src/pathsec/audit/results.schema.json"


def _challenge() -> bytes:
    ti = ntlm_msgs.TargetInfo()
    ti[ntlm_msgs.AvId.nb_domain_name] = "HTB"
    ti[ntlm_msgs.AvId.nb_computer_name] = "RABBIT"
    ti[ntlm_msgs.AvId.dns_domain_name] = "htb.local"
    ti[ntlm_msgs.AvId.dns_computer_name] = "Rabbit.htb.local"
    ti[ntlm_msgs.AvId.dns_tree_name] = "htb.local"
    msg = ntlm_msgs.Challenge(
        flags=0xA2898205,
        server_challenge=b"\x01" * 8,
        target_name="HTB",
        target_info=ti,
        version=ntlm_msgs.Version(6, 1, 7601),
    )
    return base64.b64encode(msg.pack())


CHALLENGE = _challenge()


def smtp_script() -> Script:
    ntlm = {
        "AUTH NTLM": b"334 \r\n",
        "TlRMTVNTUAAB": b"334 " + CHALLENGE + b"\r\n",
        "*": b"501 cancelled\r\n",
    }
    return Script(
        greeting=EX2007_HUB_BANNER,
        replies={"EHLO": EX2007_HUB_EHLO, "QUIT": b"221 bye\r\n", **ntlm},
        starttls={"STARTTLS": b"220 2.0.0 SMTP server ready\r\n"},
        after_tls={"EHLO": EX_EHLO_AFTER_TLS, "QUIT": b"221 bye\r\n", **ntlm},
    )


def imap_script() -> Script:
    ntlm = {
        "AUTHENTICATE NTLM": b"+ \r\n",
        "TlRMTVNTUAAB": b"+ " + CHALLENGE + b"\r\n",
        "*": b"n1 BAD cancelled\r\n",
    }
    return Script(
        greeting=EX_IMAP_GREETING,
        replies={"CAPABILITY": EX_IMAP_CAPS_BEFORE, "LOGOUT": b"{tag} OK bye\r\n", **ntlm},
        starttls={"STARTTLS": b"{tag} OK Begin TLS negotiation now.\r\n"},
        after_tls={"CAPABILITY": EX_IMAP_CAPS_AFTER, "LOGOUT": b"{tag} OK bye\r\n", **ntlm},
        default=b"{tag} BAD Command Error.\r\n",
    )


def pop3_script() -> Script:
    # An insecure POP3 server: USER and SASL PLAIN before TLS, no STLS at all.
    return Script(
        greeting=EX_POP3_BANNER,
        replies={"CAPA": EX_POP3_CAPA_AFTER, "QUIT": b"+OK bye\r\n"},
        default=b"-ERR Protocol error.\r\n",
    )


def cli(capsys, *args: str) -> tuple[int, str, str]:
    rc = run(["audit", "-q", "--timeout", "2", *args])
    out, err = capsys.readouterr()
    return rc, out, err


ALLOWED_VERBS = {"EHLO", "STARTTLS", "QUIT", "CAPABILITY", "LOGOUT", "CAPA", "STLS"}


def verbs(received: list[str]) -> list[str]:
    out = []
    for line in received:
        parts = line.split(" ")
        # IMAP lines carry a tag first.
        first = (
            parts[1]
            if len(parts) > 1 and parts[0][:1].islower() and parts[0][1:].isdigit()
            else parts[0]
        )
        out.append(first.upper())
    return out


@pytest.mark.parametrize("ntlm", [False, True])
def test_capturing_servers_receive_only_protocol_verbs(capsys, ntlm):
    with serve(smtp_script()) as s, serve(imap_script()) as i, serve(pop3_script()) as p:
        args = [
            "-f",
            "json",
            "-t",
            f"127.0.0.1:{port_of(s)}/smtp",
            "-t",
            f"127.0.0.1:{port_of(i)}/imap",
            "-t",
            f"127.0.0.1:{port_of(p)}/pop3",
        ]
        rc, out, _ = cli(capsys, *args, *(["--ntlm-info"] if ntlm else []))
        received = s.received + i.received + p.received
    doc = json.loads(out)
    negotiates = [r for r in received if r.startswith("TlRMTVNTUAAB")]
    other = [r for r in received if not r.startswith("TlRMTVNTUAAB")]
    allowed = ALLOWED_VERBS | ({"AUTH", "AUTHENTICATE", "*"} if ntlm else set())
    assert set(verbs(other)) <= allowed, received
    for line in other:
        up = line.upper()
        if "AUTH" in up:  # only the NTLM mechanism, never a credential-bearing one
            assert up.endswith("AUTH NTLM") or up.endswith("AUTHENTICATE NTLM")
        assert not up.startswith(("MAIL", "RCPT", "USER", "PASS", "DATA"))
    if ntlm:
        # One NEGOTIATE per NTLM-offering endpoint (smtp, imap), nothing else.
        assert len(negotiates) == 2
        for b64 in negotiates:
            raw = base64.b64decode(b64)
            assert raw[:12] == b"NTLMSSP\x00\x01\x00\x00\x00"
            msg = ntlm_msgs.Negotiate.unpack(raw)
            assert not msg.domain_name and not msg.workstation
        ep = {e["protocol"]: e for e in doc["endpoints"]}
        n = ep["smtp"]["observations"]["ntlm"]
        assert (n["netbios_computer"], n["dns_computer"], n["os_version"]) == (
            "RABBIT",
            "Rabbit.htb.local",
            "6.1.7601",
        )
        assert any(f["id"] == "PS-NTLM-001" for f in doc["findings"])
    else:
        assert negotiates == []
        assert all(e["observations"]["ntlm"] is None for e in doc["endpoints"])
    assert rc == 1


def test_findings_and_json_contract(capsys, tmp_path):
    out_file = tmp_path / "r" / "audit.json"
    with serve(smtp_script()) as s, serve(pop3_script()) as p:
        rc, out, _ = cli(
            capsys,
            "-f",
            "json",
            "--profile",
            "hardened",
            "-o",
            str(out_file),
            "-t",
            f"127.0.0.1:{port_of(s)}/smtp",
            "-t",
            f"127.0.0.1:{port_of(p)}/pop3",
        )
    doc = json.loads(out)
    assert json.loads(out_file.read_text()) == doc
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    assert set(doc) >= {
        "schema_version",
        "started",
        "finished",
        "complete",
        "endpoints",
        "findings",
    }
    assert doc["schema_version"] == 1 and doc["complete"] is True
    for e in doc["endpoints"]:
        assert {"host", "port", "protocol", "status", "observations"} <= set(e)
    by = {(f["id"], f["port"]) for f in doc["findings"]}
    sp, pp = port_of(s), port_of(p)
    assert ("PS-SMTP-001", sp) in by  # AUTH LOGIN before STARTTLS
    assert ("PS-SMTP-004", sp) in by  # Exchange markers
    assert ("PS-TLS-011", sp) in by  # cert for scripted.test, probed as 127.0.0.1
    assert ("PS-POP3-001", pp) in by  # USER before TLS
    assert ("PS-TLS-001", pp) in by  # no STLS although POP3 supports encryption
    assert ("PS-SMTP-003", sp) not in by  # NTLM (a default) is offered
    f = next(f for f in doc["findings"] if f["id"] == "PS-SMTP-001")
    assert f["path_id"] == "transport.smtp_client_to_hub"
    assert f["title"]["zh"] and f["remediation"]["en"]
    assert any("AUTH NTLM LOGIN" in ev for ev in f["evidence"])
    assert rc == 1


def test_fail_on_and_reference_profile(capsys):
    with serve(smtp_script()) as s:
        target = f"127.0.0.1:{port_of(s)}/smtp"
        rc_ref, out, _ = cli(capsys, "-f", "json", "-t", target, "--fail-on", "high")
        rc_low, _, _ = cli(capsys, "-f", "json", "-t", target, "--fail-on", "info")
    ids = {f["id"] for f in json.loads(out)["findings"]}
    assert "PS-SMTP-001" in ids  # plain text before TLS: every profile, medium in reference
    assert "PS-SMTP-002" in ids  # LOGIN (basic) outside NTLM/Kerberos
    assert rc_ref == 0 and rc_low == 1


def test_table_output_strips_control_characters(capsys):
    script = Script(
        greeting=b"220 evil\x1b]0;pwned\x07 ESMTP\r\n",
        replies={"EHLO": b"250 evil\r\n", "QUIT": b"221 bye\r\n"},
    )
    with serve(script) as s:
        rc, out, _ = cli(capsys, "-t", f"127.0.0.1:{port_of(s)}/smtp")
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b" in out
    assert rc == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["-t", "host:70000"], "port must be between"),
        (["-t", "host:8080"], "no protocol is known for port 8080"),
        (["-t", "host/gopher"], "unknown protocol"),
        (["--profile", "nope.yaml", "-t", "h:25"], "no such profile"),
        (["--source-address", "not-an-ip", "-t", "h:25"], "not an IP address"),
        ([], "give --target"),
    ],
)
def test_bad_input_exit_2(capsys, args, message):
    rc, _, err = cli(capsys, *args)
    assert rc == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_bad_profile_names_file_line_field(capsys, tmp_path):
    prof = tmp_path / "p.yaml"
    prof.write_text("name: mine\nchecks:\n  PS-SMTP-001: high\n  PS-NOPE-001: low\n")
    rc, _, err = cli(capsys, "--profile", str(prof), "-t", "127.0.0.1:25")
    assert rc == 2 and f"{prof}:4: checks.PS-NOPE-001: unknown check id" in err
    prof.write_text("name: mine\nmin_tls_version: TLSv9\nchecks:\n  PS-SMTP-001: high\n")
    rc, _, err = cli(capsys, "--profile", str(prof), "-t", "127.0.0.1:25")
    assert rc == 2 and f"{prof}:2: min_tls_version:" in err
    prof.write_text("name: mine\nchecks:\n  PS-SMTP-001: severe\n")
    rc, _, err = cli(capsys, "--profile", str(prof), "-t", "127.0.0.1:25")
    assert rc == 2 and f"{prof}:3: checks.PS-SMTP-001:" in err


def test_targets_file_errors_name_the_line(capsys, tmp_path):
    tf = tmp_path / "targets.txt"
    tf.write_text("# mail\n127.0.0.1:25\n\nbad host:x\n")
    rc, _, err = cli(capsys, "--targets-file", str(tf))
    assert rc == 2 and f"{tf}:4:" in err


def test_parse_target_defaults():
    t = parse_target("[::1]:993")
    assert (t.host, t.port, t.protocol, t.path_id) == (
        "::1",
        993,
        AppProtocol.imaps,
        "client_access.imap4",
    )
    assert parse_target("mx.example.org/pop3s").port == 995
    assert parse_target("mx:587").protocol is AppProtocol.smtp
    assert t.expectations is not None and "basic" in t.expectations.supported_auth
    with pytest.raises(InputError):
        parse_target("mx")


def test_builtin_profiles_consistent():
    for name in ("reference", "hardened"):
        prof = load_profile(name)
        assert set(prof.checks) <= set(CHECKS)
    hardened = load_profile("hardened")
    assert set(load_profile("reference").checks) <= set(hardened.checks)
    assert set(hardened.checks) == set(CHECKS)  # hardened enables every check
    for c in CHECKS.values():
        t = texts_of(c.id)
        assert t.title.en and t.title.zh and t.remediation.en and t.remediation.zh


def test_committed_schema_matches_models():
    assert SCHEMA.read_text() == results_schema_text(), (
        "regenerate: python -c 'from pathsec.audit.run import results_schema_text as t; "
        'open("src/pathsec/audit/results.schema.json","w").write(t())\''
    )


def test_engine_respects_connection_limits():
    """Many endpoints on one host: never more than --per-host connections at once."""
    active = 0
    peak = 0

    async def main() -> int:
        nonlocal active, peak

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            try:
                # A bare TCP connect closes at once: see its EOF instead of outliving it.
                try:
                    if not await asyncio.wait_for(reader.read(1), 0.05):
                        return
                except TimeoutError:
                    pass
                writer.write(b"220 ok\r\n")
                await writer.drain()
                while line := await reader.readline():
                    writer.write(b"221 bye\r\n" if line.startswith(b"QUIT") else b"250 ok\r\n")
                    await writer.drain()
                    if line.startswith(b"QUIT"):
                        break
            finally:
                active -= 1
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            targets = [
                Target(host="127.0.0.1", port=port, protocol=AppProtocol.smtp) for _ in range(20)
            ]
            engine = Engine(
                ProbeSettings(timeout=3), Limits(concurrency=64, per_host=3), NullObserver()
            )
            results = await engine.run(targets)
        assert all(r.status.value == "ok" for r in results)
        return engine.max_in_flight

    in_flight = asyncio.run(main())
    assert in_flight == 3  # the limit is reached, so it is what bounds the run
    # Server side: a closed connection may be noticed just after the next one is accepted.
    assert 3 <= peak <= 4


def test_source_address_is_used():
    seen: list[str] = []

    async def main() -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.append(writer.get_extra_info("peername")[0])
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            engine = Engine(
                ProbeSettings(timeout=2, source_address="127.0.0.2"), Limits(), NullObserver()
            )
            await engine.run([Target(host="127.0.0.1", port=port, protocol=AppProtocol.smtp)])

    asyncio.run(main())
    assert seen and set(seen) == {"127.0.0.2"}


def test_closed_port_finding(capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    rc, out, _ = cli(capsys, "-f", "json", "-t", f"127.0.0.1:{port}/imap")
    doc = json.loads(out)
    assert [f["id"] for f in doc["findings"]] == ["PS-TCP-001"]
    assert doc["endpoints"][0]["status"] == "refused" and rc == 1


def test_an_endpoint_that_cannot_be_dialled_is_a_finding(capsys):
    """A connection that cannot even start (here: a source address this host does not
    have, so nothing is sent) is graded, not only recorded: PS-TCP-004, exit code 1."""
    rc, out, _ = cli(
        capsys, "-f", "json", "-t", "127.0.0.1:25/smtp", "--source-address", "192.0.2.1"
    )
    doc = json.loads(out)
    assert doc["endpoints"][0]["status"] == "error"
    assert [f["id"] for f in doc["findings"]] == ["PS-TCP-004"]
    assert "127.0.0.1: " in doc["findings"][0]["evidence"][0] and rc == 1


def test_results_round_trip(capsys):
    """The report stage can read the results JSON back into the models."""
    from pathsec.audit.models import AuditResult

    with serve(smtp_script()) as s:
        _, out, _ = cli(
            capsys, "-f", "json", "--profile", "hardened", "-t", f"127.0.0.1:{port_of(s)}/smtp"
        )
    back = AuditResult.model_validate_json(out)
    assert back.model_dump(mode="json") == json.loads(out)
    assert back.endpoints[0].observations.smtp.auth_before_tls() == ("NTLM", "LOGIN")


def test_every_audit_is_stored_and_any_report_format_can_be_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An audit keeps its run in the history and prints SARIF/JUnit/HTML directly."""
    import json as _json
    import xml.etree.ElementTree as ET

    from pathsec.store import list_runs

    db = f"sqlite:///{tmp_path}/h.sqlite3"
    target = "127.0.0.1:1/smtp"  # nothing listens on port 1: a closed-port finding
    code = run(["audit", "-t", target, "--timeout", "1", "-q", "--db", db, "-f", "sarif"])
    out = capsys.readouterr()
    assert code == 1
    sarif = _json.loads(out.out)
    assert sarif["version"] == "2.1.0"
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == {"PS-TCP-001"}
    assert "stored as run" in out.err
    assert len(list_runs(db)) == 1
    code = run(["audit", "-t", target, "--timeout", "1", "-q", "--db", db, "-f", "junit"])
    junit = ET.fromstring(capsys.readouterr().out)
    assert junit.tag in {"testsuites", "testsuite"} and code == 1
    code = run(
        ["audit", "-t", target, "--timeout", "1", "-q", "--no-store", "--db", db, "-f", "html"]
    )
    html = capsys.readouterr().out
    assert html.startswith("<!DOCTYPE html>") and "PS-TCP-001" in html
    assert len(list_runs(db)) == 2  # --no-store kept the third run out
