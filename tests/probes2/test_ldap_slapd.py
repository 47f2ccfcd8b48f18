"""LDAP probe against a real OpenLDAP slapd on loopback, with and without TLS."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pathsec.probes.ldap import STARTTLS_OID
from probes2.helpers import ids, run, target
from servers.conftest import free_ports, make_cert, need, stop, wait_port

pytestmark = [pytest.mark.server, pytest.mark.root]

CONF = """
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {d}/slapd.pid
argsfile {d}/slapd.args
{tls}
database mdb
maxsize 10485760
suffix "dc=lab,dc=test"
rootdn "cn=admin,dc=lab,dc=test"
directory {d}/db
"""


@dataclass(frozen=True)
class Slapd:
    ldap: int
    ldaps: int | None


def _start(d: Path, tls: bool) -> tuple[subprocess.Popen[bytes], Slapd]:
    binary = need("slapd")
    (d / "db").mkdir(parents=True)
    tls_conf = ""
    if tls:
        cert = make_cert(d, "ldap")
        tls_conf = f"TLSCertificateFile {cert.cert}\nTLSCertificateKeyFile {cert.key}"
    (d / "slapd.conf").write_text(CONF.format(d=d, tls=tls_conf))
    plain, secure = free_ports(2)
    ports = Slapd(plain, secure if tls else None)
    urls = f"ldap://127.0.0.1:{ports.ldap}/" + (
        f" ldaps://127.0.0.1:{ports.ldaps}/" if ports.ldaps else ""
    )
    log = d / "slapd.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [binary, "-d", "0", "-f", str(d / "slapd.conf"), "-h", urls],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wait_port(ports.ldaps or ports.ldap, proc, log)
    wait_port(ports.ldap, proc, log)
    return proc, ports


@pytest.fixture(scope="module")
def slapd_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    proc, ports = _start(tmp_path_factory.mktemp("slapd-tls"), tls=True)
    try:
        yield ports
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def slapd_plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    proc, ports = _start(tmp_path_factory.mktemp("slapd-plain"), tls=False)
    try:
        yield ports
    finally:
        stop(proc)


def test_starttls_is_performed_and_sasl_compared(slapd_tls: Slapd) -> None:
    res = run(target("127.0.0.1", slapd_tls.ldap, "ldap", "transport.hub_ad_access"))
    ep = res.endpoints[0]
    lo = ep.observations.ldap
    assert ep.status.value == "ok" and lo is not None
    assert lo.root_dse is not None and STARTTLS_OID in lo.root_dse.extensions
    assert "dc=lab,dc=test" in lo.root_dse.naming_contexts
    assert lo.starttls_advertised and lo.starttls_performed and lo.starttls_error is None
    assert lo.tls is not None and lo.tls.version in ("TLSv1.2", "TLSv1.3")
    assert lo.tls.certificate is not None and lo.tls.certificate.subject_cn == "mail.lab.test"
    assert lo.sasl_after_tls is not None
    # OpenLDAP adds PLAIN/LOGIN only once the session is encrypted
    assert not {"PLAIN", "LOGIN"} & set(lo.root_dse.sasl_mechanisms)
    assert set(lo.sasl_after_tls) - set(lo.root_dse.sasl_mechanisms) == {"PLAIN", "LOGIN"}
    found = ids(res)
    assert "PS-LDAP-001" not in found and "PS-LDAP-002" not in found
    assert "PS-LDAP-005" in found  # AD access defaults to Kerberos: no GSSAPI here
    assert "PS-TLS-001" not in found


def test_ldaps_gets_tls_facts(slapd_tls: Slapd) -> None:
    assert slapd_tls.ldaps is not None
    res = run(target("127.0.0.1", slapd_tls.ldaps, "ldaps", "transport.edgesync"))
    ep = res.endpoints[0]
    assert ep.observations.ldap.root_dse is not None
    assert ep.observations.ldap.tls is not None
    assert not ep.observations.ldap.starttls_performed  # already TLS
    assert "TLSv1.2" in ep.observations.tls.accepted


def test_without_tls(slapd_plain: Slapd) -> None:
    res = run(
        target("127.0.0.1", slapd_plain.ldap, "ldap", "transport.hub_ad_access"),
        profile="hardened",
    )
    lo = res.endpoints[0].observations.ldap
    assert lo.root_dse is not None and STARTTLS_OID not in lo.root_dse.extensions
    assert not lo.starttls_advertised and not lo.starttls_performed
    assert lo.sasl_after_tls is None and lo.tls is None
    assert "PS-LDAP-003" in ids(res)


def test_ldaps_port_without_tls_is_a_failure(slapd_plain: Slapd) -> None:
    res = run(target("127.0.0.1", slapd_plain.ldap, "ldaps"), timeout=2.0)
    ep = res.endpoints[0]
    assert ep.observations.ldap.status.value != "ok"
    assert "PS-TCP-003" in ids(res)
