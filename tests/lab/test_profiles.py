"""Profiles: every documented deviation shows on the wire, and nothing else changes."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from collections.abc import Callable

import httpx
import pytest
from cryptography import x509

from lab.labkit import Line, RunningLab, client_tls
from pathsec.errors import InputError
from pathsec.lab.core import Lab
from pathsec.lab.profiles import BUILTIN_PROFILES, load_profile
from pathsec.topology.loader import load_deployment_text


def _ehlo(lab: RunningLab, server: str, service: str) -> list[str]:
    c = Line(lab.ep(server, service))
    try:
        c.line()
        c.send("EHLO x")
        return c.smtp_reply()
    finally:
        c.close()


def _tls10(lab: RunningLab, server: str, service: str) -> str:
    e = lab.ep(server, service)
    with (
        socket.create_connection((e.address, e.port), timeout=5) as raw,
        client_tls(ssl.TLSVersion.TLSv1).wrap_socket(raw) as tls,
    ):
        return str(tls.version())


def _cert(lab: RunningLab, server: str) -> x509.Certificate:
    e = lab.ep(server, "https")
    with (
        socket.create_connection((e.address, e.port), timeout=5) as raw,
        client_tls().wrap_socket(raw) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def _pop3_capa(lab: RunningLab) -> list[str]:
    c = Line(lab.ep("EX2007", "pop3"))
    try:
        c.line()
        c.send("CAPA")
        return c.until(".")
    finally:
        c.close()


def _imap_caps(lab: RunningLab) -> str:
    c = Line(lab.ep("EX2007", "imap"))
    try:
        c.line()
        c.send("1 CAPABILITY")
        return c.line()
    finally:
        c.close()


def _get(lab: RunningLab, service: str, path: str) -> httpx.Response:
    e = lab.ep("EX2007", service)
    scheme = "https" if service == "https" else "http"
    with httpx.Client(verify=client_tls(), timeout=5) as c:
        return c.get(f"{scheme}://{e.address}:{e.port}{path}")


def _services(lab: RunningLab, server: str) -> set[str]:
    return {e.service for e in lab.lab.endpoints if e.server == server}


# --- misconfigured: one wire check per deviation id --------------------------------


def mis_001(lab: RunningLab) -> None:
    for path in (
        "/EWS/Exchange.asmx",
        "/Autodiscover/Autodiscover.xml",
        "/Microsoft-Server-ActiveSync",
    ):
        r = _get(lab, "http", path)
        assert r.status_code == 401
        assert any(v.startswith("Basic realm=") for v in r.headers.get_list("www-authenticate"))


def mis_002(lab: RunningLab) -> None:
    assert "250-AUTH GSSAPI NTLM LOGIN" in _ehlo(lab, "EX2007", "smtp_client")
    c = Line(lab.ep("EX2007", "smtp_client"))
    try:
        c.line()
        c.send("EHLO x")
        c.smtp_reply()
        c.send("AUTH LOGIN")
        assert c.line() == "334 VXNlcm5hbWU6"  # in clear, before STARTTLS
    finally:
        c.close()


def _negotiate(lab: RunningLab, server: str, service: str, cipher: str) -> str:
    """The suite a client offering ``cipher`` alone gets (SSLError: the server refuses it)."""
    e = lab.ep(server, service)
    ctx = client_tls()
    ctx.set_ciphers(f"{cipher}:@SECLEVEL=0")
    with (
        socket.create_connection((e.address, e.port), timeout=5) as raw,
        ctx.wrap_socket(raw) as tls,
    ):
        got = tls.cipher()
    assert got is not None
    return got[0]


def mis_003(lab: RunningLab) -> None:
    for server, service in (("EX2007", "https"), ("EX2007", "imaps"), ("UM01", "sips")):
        assert _negotiate(lab, server, service, "NULL-SHA") == "NULL-SHA"


def mis_008(lab: RunningLab) -> None:
    assert _negotiate(lab, "EX2007", "https", "DHE-RSA-AES128-SHA") == "DHE-RSA-AES128-SHA"


def mis_004(lab: RunningLab) -> None:
    cert = _cert(lab, "EX2007")
    assert cert.not_valid_after_utc < dt.datetime.now(dt.UTC)
    assert cert.subject == cert.issuer


def mis_005(lab: RunningLab) -> None:
    e = lab.ep("EDGE01", "rdp")
    assert e.real_port == 3389
    with socket.create_connection((e.address, e.port), timeout=5):
        pass


def mis_006(lab: RunningLab) -> None:
    assert _pop3_capa(lab) == ["+OK", "TOP", "UIDL", "SASL NTLM GSSAPI PLAIN", "USER", "STLS", "."]


def mis_007(lab: RunningLab) -> None:
    caps = _imap_caps(lab).split()
    assert "AUTH=PLAIN" in caps and "LOGINDISABLED" not in caps and "STARTTLS" in caps


MISCONFIGURED: dict[str, Callable[[RunningLab], None]] = {
    "LAB-MIS-001": mis_001,
    "LAB-MIS-002": mis_002,
    "LAB-MIS-003": mis_003,
    "LAB-MIS-004": mis_004,
    "LAB-MIS-005": mis_005,
    "LAB-MIS-006": mis_006,
    "LAB-MIS-007": mis_007,
    "LAB-MIS-008": mis_008,
}


def test_every_misconfiguration_has_a_wire_check() -> None:
    ids = [d.id for d in load_profile("misconfigured").deviations]
    assert sorted(ids) == sorted(MISCONFIGURED)


@pytest.mark.parametrize("dev_id", sorted(MISCONFIGURED))
def test_misconfigured_deviation_on_the_wire(lab_misconfigured: RunningLab, dev_id: str) -> None:
    MISCONFIGURED[dev_id](lab_misconfigured)


@pytest.mark.parametrize("dev_id", sorted(MISCONFIGURED))
def test_default_profile_does_not_deviate(lab_default: RunningLab, dev_id: str) -> None:
    """The same checks fail on the default profile: each deviation is the profile's doing."""
    with pytest.raises((AssertionError, KeyError, ssl.SSLError, OSError)):
        MISCONFIGURED[dev_id](lab_default)


# --- hardened -----------------------------------------------------------------------


def hard_001(lab: RunningLab) -> None:
    s = _services(lab, "EX2007")
    assert {"pop3s", "imaps"} <= s and not {"pop3", "imap"} & s


def hard_002(lab: RunningLab) -> None:
    assert "http" not in _services(lab, "EX2007") and "https" in _services(lab, "EX2007")
    assert not {"http", "https"} & _services(lab, "UM01")  # UM web service: on the CAS


def hard_003(lab: RunningLab) -> None:
    r = _get(lab, "https", "/EWS/Exchange.asmx")
    assert r.headers.get_list("www-authenticate") == ["Negotiate", "NTLM"]


def hard_004(lab: RunningLab) -> None:
    sip = {s for s in _services(lab, "UM01") if s.startswith("sip")}
    assert sip == {"sips", "sips_5062"}


def hard_005(lab: RunningLab) -> None:
    assert "adam" not in _services(lab, "EDGE01") and "adams" in _services(lab, "EDGE01")


HARDENED: dict[str, Callable[[RunningLab], None]] = {
    "LAB-HARD-001": hard_001,
    "LAB-HARD-002": hard_002,
    "LAB-HARD-003": hard_003,
    "LAB-HARD-004": hard_004,
    "LAB-HARD-005": hard_005,
}


def test_every_hardening_has_a_check() -> None:
    assert sorted(d.id for d in load_profile("hardened").deviations) == sorted(HARDENED)


@pytest.mark.parametrize("dev_id", sorted(HARDENED))
def test_hardened_deviation(lab_hardened: RunningLab, dev_id: str) -> None:
    HARDENED[dev_id](lab_hardened)


def test_hardened_refuses_tls10(lab_hardened: RunningLab) -> None:
    with pytest.raises(ssl.SSLError):
        _tls10(lab_hardened, "EX2007", "https")


def test_default_speaks_like_windows_2008_schannel(lab_default: RunningLab) -> None:
    """TLS 1.0 only, AES-CBC with RSA and ECDHE key exchange, the server's order (RSA first)."""
    assert _tls10(lab_default, "EX2007", "https") == "TLSv1"
    e = lab_default.ep("EX2007", "https")
    with (
        socket.create_connection((e.address, e.port), timeout=5) as raw,
        client_tls().wrap_socket(raw) as tls,
    ):
        assert tls.version() == "TLSv1" and tls.cipher()[0] == "AES128-SHA"  # type: ignore[index]
    assert _negotiate(lab_default, "EX2007", "https", "ECDHE-RSA-AES256-SHA")
    with pytest.raises(ssl.SSLError):
        _negotiate(lab_default, "EX2007", "https", "ECDHE-RSA-AES128-GCM-SHA256")


def test_default_smtp_unchanged_in_other_profiles(
    lab_default: RunningLab, lab_misconfigured: RunningLab, lab_hardened: RunningLab
) -> None:
    for other in (lab_misconfigured, lab_hardened):
        assert _ehlo(other, "EX2007", "smtp_default") == _ehlo(
            lab_default, "EX2007", "smtp_default"
        )
        assert _ehlo(other, "EDGE01", "smtp_edge") == _ehlo(lab_default, "EDGE01", "smtp_edge")


# --- files and loading ---------------------------------------------------------------


@pytest.mark.parametrize("name", BUILTIN_PROFILES)
def test_deployment_file_is_valid(name: str) -> None:
    lab = Lab(name)
    dep = load_deployment_text(__import__("yaml").safe_dump(lab.deployment()), f"{name}.yaml")
    assert {s.name for s in dep.servers} == {s.name for s in lab.profile.servers}
    edge = next(s for s in dep.servers if s.name == "EDGE01")
    assert edge.site is None and edge.domain_joined is False
    assert next(s for s in dep.servers if s.name == "EX2007").exchange == "2007-sp3"


def test_unknown_profile_is_input_error() -> None:
    with pytest.raises(
        InputError, match="not default, hardened, misconfigured, windows2003 nor a file"
    ):
        load_profile("nonesuch")


def test_bad_profile_file_names_its_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "p.yaml"
    text = (
        __import__("importlib.resources", fromlist=["x"]).files("pathsec.lab")
        / "profiles"
        / "default.yaml"
    ).read_text()
    bad.write_text(text.replace("tls_min_version: TLSv1\n", "tls_min_version: SSLv3\n"))
    with pytest.raises(InputError) as exc:
        load_profile(str(bad))
    line = next(i for i, x in enumerate(bad.read_text().splitlines(), 1) if "SSLv3" in x)
    assert str(exc.value).startswith(f"{bad}:{line}: tls_min_version:")
