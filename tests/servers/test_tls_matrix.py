"""Every TLS finding against real servers, and the facts against ``openssl s_client``.

The matrix (``tls_matrix.py``): nginx, Postfix, Dovecot and gnutls-serv configured with known
weaknesses and clean controls, audited in one run with the audit profile ``hardened`` and
the matrix's private root as ``--ca-file``. Each configuration must show exactly the
weaknesses it was built with; the legacy cases (TLS 1.0-only SMTP and HTTPS, RSA key
exchange only, DHE-1024, CBC only) are regression tests for sessions pathsec once could
not open; and the suites, versions and DH sizes pathsec lists are the ones ``openssl
s_client`` can (and cannot) negotiate.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from pathsec.cli.main import run
from servers.conftest import need
from servers.tls_matrix import Matrix, pathsec_flags, running, target_of

pytestmark = [pytest.mark.server, pytest.mark.root]


@pytest.fixture(scope="module")
def matrix() -> Iterator[Matrix]:
    for tool in ("nginx", "postfix", "dovecot", "gnutls-serv", "openssl"):
        need(tool)
    with running() as m:
        yield m


@pytest.fixture(scope="module")
def audited(matrix: Matrix, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("matrix")
    targets = d / "targets.txt"
    targets.write_text("".join(target_of(c) + "\n" for c in matrix.configs))
    out = d / "results.json"
    rc = run(
        ["audit", "--targets-file", str(targets), "--profile", "hardened", "--ca-file",
         str(matrix.ca_file), "-o", str(out), "--no-store", "-q", "-f", "json"]
    )  # fmt: skip
    assert rc == 1  # findings
    return json.loads(out.read_text())


def _endpoint(doc: dict[str, Any], port: int) -> dict[str, Any]:
    return next(e for e in doc["endpoints"] if e["port"] == port)


def test_each_configuration_shows_exactly_its_weaknesses(
    matrix: Matrix, audited: dict[str, Any]
) -> None:
    wrong = {}
    for c in matrix.configs:
        found = [f for f in audited["findings"] if f["port"] == c.port]
        flags = pathsec_flags(found)
        if flags != c.weaknesses:
            wrong[c.name] = (sorted(c.weaknesses), sorted(flags))
    assert wrong == {}


def test_clean_controls_have_no_finding_at_all(matrix: Matrix, audited: dict[str, Any]) -> None:
    for c in (c for c in matrix.configs if c.clean):
        found = [f["id"] for f in audited["findings"] if f["port"] == c.port and f["severity"] != "info"]  # fmt: skip
        assert found == [], c.name
        assert _endpoint(audited, c.port)["status"] == "ok"


def test_tls10_only_smtp_reads_ehlo_after_starttls(matrix: Matrix, audited: dict[str, Any]) -> None:
    c = matrix.by_name("postfix-tls10-rsa-cbc")
    smtp = _endpoint(audited, c.port)["observations"]["smtp"]
    assert smtp["tls"]["version"] == "TLSv1" and smtp["tls"]["cipher"] in (
        "AES128-SHA",
        "AES256-SHA",
    )
    assert smtp["ehlo_after"] is not None and "PIPELINING" in smtp["ehlo_after"]["keywords"]
    ids = {f["id"] for f in audited["findings"] if f["port"] == c.port}
    assert "PS-TLS-002" not in ids and "PS-TCP-003" not in ids


def test_tls10_only_https_gets_its_http_checks(matrix: Matrix, audited: dict[str, Any]) -> None:
    c = matrix.by_name("nginx-tls10-rsa-cbc")
    http = _endpoint(audited, c.port)["observations"]["http"]
    assert http["status"] == "ok" and http["responses"]
    assert all(r["hsts_max_age"] == 31536000 for r in http["responses"])
    ciphers = _endpoint(audited, c.port)["observations"]["ciphers"]
    assert [v["version"] for v in ciphers["versions"]] == ["TLSv1.0"]
    assert ciphers["chain"]["trust"] == "trusted" and ciphers["ocsp_stapled"] is False


def _s_client(port: int, version: str, cipher: str, starttls: str | None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    flag = {"TLSv1.0": "-tls1", "TLSv1.1": "-tls1_1", "TLSv1.2": "-tls1_2"}[version]
    cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", flag, "-cipher", f"{cipher}:@SECLEVEL=0"]  # fmt: skip
    if starttls:
        cmd += ["-starttls", starttls]
    return subprocess.run(cmd, input="", capture_output=True, text=True, timeout=20)


@pytest.mark.parametrize(
    "name",
    ["nginx-tls10-rsa-cbc", "postfix-tls10-rsa-cbc", "nginx-rsa-kx-only", "nginx-dhe1024",
     "postfix-dhe1024", "nginx-ecdhe-cbc-sha1", "dovecot-imap-legacy-cbc", "postfix-debian-default"],
)  # fmt: skip
def test_listed_suites_match_openssl_s_client(
    name: str, matrix: Matrix, audited: dict[str, Any]
) -> None:
    """Each suite pathsec lists negotiates with s_client at that version (with the DH size
    pathsec read); an OpenSSL suite it does not list is refused."""
    c = matrix.by_name(name)
    starttls = {"smtp": "smtp", "imap": "imap"}.get(c.protocol)
    ciphers = _endpoint(audited, c.port)["observations"]["ciphers"]
    checked = 0
    for v in ciphers["versions"]:
        if v["version"] == "TLSv1.3":
            continue
        listed = {s["name"] for s in v["suites"]}
        for s in v["suites"][:6]:
            got = _s_client(c.port, v["version"], s["name"], starttls)
            assert f"Cipher is {s['name']}" in got.stdout, (
                v["version"],
                s["name"],
                got.stdout[-400:],
            )
            if s["dh_bits"]:
                assert f"Server Temp Key: DH, {s['dh_bits']} bits" in got.stdout
            checked += 1
        absent = next(n for n in ("ECDHE-RSA-AES128-GCM-SHA256", "AES256-SHA", "CAMELLIA128-SHA", "DHE-RSA-AES256-SHA", "ECDHE-ECDSA-AES128-SHA") if n not in listed)  # fmt: skip
        refused = _s_client(c.port, v["version"], absent, starttls)
        assert f"Cipher is {absent}" not in refused.stdout
    assert checked


def test_versions_match_openssl_s_client(matrix: Matrix, audited: dict[str, Any]) -> None:
    for name in ("nginx-tls10-11-ecdhe-cbc", "nginx-tls11-12", "postfix-modern"):
        c = matrix.by_name(name)
        tls = _endpoint(audited, c.port)["observations"]["tls"]["versions"]
        starttls = "smtp" if c.protocol == "smtp" else None
        for version in ("TLSv1.0", "TLSv1.1", "TLSv1.2"):
            got = _s_client(c.port, version, "ALL", starttls)
            accepted = "Cipher is (NONE)" not in got.stdout and "Cipher is" in got.stdout
            assert accepted == (tls[version] == "accepted"), (name, version)


def test_rc4_and_3des_from_gnutls_are_listed_by_iana_id(
    matrix: Matrix, audited: dict[str, Any]
) -> None:
    c = matrix.by_name("gnutls-windows2003")
    ciphers = _endpoint(audited, c.port)["observations"]["ciphers"]
    (v,) = ciphers["versions"]
    ids = {s["id"] for s in v["suites"]}
    # TLS_RSA_WITH_RC4_128_SHA/MD5, 3DES_EDE_CBC_SHA, AES_128/256_CBC_SHA: what GnuTLS serves
    assert ids == {"0x0004", "0x0005", "0x000A", "0x002F", "0x0035"}
    assert v["server_order"] is True  # %SERVER_PRECEDENCE


def test_tls13_only_server_chain_from_a_verified_handshake(
    matrix: Matrix, audited: dict[str, Any]
) -> None:
    c = matrix.by_name("nginx-tls13-only")
    ciphers = _endpoint(audited, c.port)["observations"]["ciphers"]
    assert ciphers["chain"]["source"] == "verified_handshake"
    assert ciphers["chain"]["trust"] == "trusted"
    assert ciphers["tls13_groups"][:1] == ["x25519"]
