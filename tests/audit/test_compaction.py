"""Equal values of a run share one instance; the results serialise to the same JSON.

The unit tests build observations by hand; the end-to-end test audits two STARTTLS SMTP
endpoints of the bench's responder (``bench/smtp_server.py``, one certificate, two ports on
loopback) with the cipher enumeration, as a user's audit runs.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pathsec.audit.engine import Limits
from pathsec.audit.models import AuditResult, EndpointResult
from pathsec.audit.observations import observations
from pathsec.audit.profiles import load_profile
from pathsec.audit.run import audit
from pathsec.audit.targets import parse_target, read_targets_file
from pathsec.compaction import compact, compacted, sharing_values
from pathsec.probes.certs import CertificateFacts, TlsSession
from pathsec.probes.interface import AppProtocol, ProbeKind, ProbeSettings, Status
from pathsec.probes.smtp import SmtpObservation
from pathsec.probes.tls import TlsObservation

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _cert(host: str = "mail.example.test") -> CertificateFacts:
    return CertificateFacts(
        subject="CN=mail.example.test",
        issuer="CN=Example CA",
        subject_cn="mail.example.test",
        sans=("DNS:mail.example.test",),
        not_before="2026-01-01T00:00:00+00:00",
        not_after="2027-01-01T00:00:00+00:00",
        expired=False,
        not_yet_valid=False,
        self_signed=False,
        key_type="RSA",
        key_bits=2048,
        signature_algorithm="sha256",
        hostname=host,
        hostname_match=host == "mail.example.test",
        sha256="ab" * 32,
    )


def _endpoint(port: int, host: str = "mail.example.test") -> EndpointResult:
    """A fresh endpoint result (every model a new instance) with a TLS observation."""
    session = TlsSession(
        version="TLSv1.2",
        cipher="ECDHE-RSA-AES256-GCM-SHA384",
        cipher_bits=256,
        certificate=_cert(),
    )
    tls = TlsObservation(
        versions={"TLSv1.2": "accepted", "TLSv1.0": "rejected"},
        version_reasons={"TLSv1.0": "protocol version alert"},
        session=session,
    )
    smtp = SmtpObservation(banner=f"{host} ESMTP", tls=session)
    return EndpointResult(
        host=host,
        port=port,
        protocol=AppProtocol.smtp,
        path_id=None,
        status=Status.ok,
        observations=observations({ProbeKind.tls: tls, ProbeKind.smtp: smtp}),
    )


def _tls(e: EndpointResult) -> TlsObservation:
    tls = e.observations.tls
    assert isinstance(tls, TlsObservation)
    return tls


def test_equal_values_share_one_instance_in_a_run_and_dump_the_same() -> None:
    a, b = _endpoint(25), _endpoint(587)
    dumps = (a.model_dump_json(), b.model_dump_json())
    assert _tls(a) is not _tls(b)
    with sharing_values():
        compact(a)
        compact(b)
    assert _tls(a) is _tls(b)  # the whole TLS observation: one instance
    smtp_a, smtp_b = a.observations.smtp, b.observations.smtp
    assert isinstance(smtp_a, SmtpObservation) and isinstance(smtp_b, SmtpObservation)
    assert smtp_a is not smtp_b  # not an interned class: each endpoint keeps its own
    assert smtp_a.tls is smtp_b.tls is _tls(a).session  # the session inside is shared too
    assert (a.model_dump_json(), b.model_dump_json()) == dumps
    assert EndpointResult.model_validate_json(dumps[0]) == a


def test_no_sharing_outside_a_run_nor_between_runs() -> None:
    a, b = _endpoint(25), _endpoint(587)
    compact(a)
    compact(b)
    assert _tls(a) is not _tls(b) and _tls(a) == _tls(b)
    with sharing_values():
        first = compacted(_cert())
        assert compacted(_cert()) is first
        with sharing_values():  # nested (the demo runs audits in threads): the same table
            assert compacted(_cert()) is first
        assert compacted(_cert()) is first
    with sharing_values():  # a later run starts with an empty table
        assert compacted(_cert()) is not first


def test_only_equal_values_are_shared() -> None:
    with sharing_values():
        one = compacted(_cert())
        assert compacted(_cert(host="other.example.test")) is not one
        # the same JSON but another fields set (a default given explicitly): kept apart,
        # so exclude_unset dumps stay what they were
        plain = TlsObservation()
        explicit = TlsObservation(reason=None)
        assert plain.model_dump_json() == explicit.model_dump_json()
        kept = compacted(explicit)
        assert compacted(plain) is plain and kept is explicit
        assert explicit.model_dump_json(exclude_unset=True) == '{"reason":null}'


def test_a_targets_file_holds_one_expectations_per_path(tmp_path: Path) -> None:
    path = tmp_path / "targets.txt"
    path.write_text("10.0.0.1:25/smtp\n10.0.0.2:25/smtp\n10.0.0.3:993/imap\n", "utf-8")
    a, b, c = read_targets_file(path)
    assert a.expectations is not None and a.expectations is b.expectations
    assert c.expectations is not None and c.expectations != a.expectations
    assert a.__pydantic_fields_set__ is b.__pydantic_fields_set__
    assert a == parse_target("10.0.0.1:25/smtp")


@pytest.fixture
def two_smtp_endpoints(tmp_path: Path) -> Iterator[list[str]]:
    """The bench's STARTTLS responder on two free loopback ports, one certificate."""
    sys.path.insert(0, str(BENCH))
    try:
        from bench_audit import make_certificate
    finally:
        sys.path.remove(str(BENCH))
    cert, key = make_certificate(tmp_path)
    ports = []
    holders = []
    for _ in range(2):  # held until both are drawn: two distinct ports
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        holders.append(s)
        ports.append(s.getsockname()[1])
    for s in holders:
        s.close()
    spec = tmp_path / "servers.json"
    spec.write_text(
        json.dumps(
            {
                "cert": str(cert),
                "key": str(key),
                "endpoints": [["127.0.0.1", p] for p in ports],
                "uvloop": False,
            }
        ),
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [sys.executable, str(BENCH / "smtp_server.py"), str(spec)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("ready"), line
        yield [f"127.0.0.1:{p}/smtp" for p in ports]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_an_audit_shares_the_enumeration_of_equal_servers(two_smtp_endpoints: list[str]) -> None:
    targets = [parse_target(t) for t in two_smtp_endpoints]
    result = audit(targets, load_profile("reference"), ProbeSettings(timeout=5), Limits())
    a, b = result.endpoints
    assert a.status is b.status is Status.ok
    ciphers_a, ciphers_b = a.observations.ciphers, b.observations.ciphers
    assert ciphers_a is not None and ciphers_a.versions  # the enumeration ran
    assert ciphers_a is ciphers_b  # two ports, one configuration: one instance
    assert _tls(a) is _tls(b)  # the same host and certificate
    # Nothing changed in the values: the document reads back equal, into fresh instances.
    again = AuditResult.model_validate_json(result.model_dump_json())
    assert again == result
    assert again.endpoints[0].observations.ciphers is not again.endpoints[1].observations.ciphers
