"""The cipher, key-exchange, chain and HSTS checks, and who the reference's auth rows grade.

Each check runs on an observation built as the probes build them (``evaluate_check``); the
real-server matrix (``tests/servers/test_tls_matrix.py``) runs them against nginx, Postfix,
Dovecot and gnutls-serv.
"""

from __future__ import annotations

from pathsec.audit.checks.registry import evaluate_check
from pathsec.audit.models import Expectations
from pathsec.audit.profiles import load_profile
from pathsec.probes.chain import ChainFacts, ChainLink
from pathsec.probes.cipher_results import CipherObservation, SuiteSeen, VersionSuites
from pathsec.probes.http import HttpObservation, HttpResponse
from pathsec.probes.interface import AppProtocol
from pathsec.probes.smtp import EhloInfo, SmtpObservation
from pathsec.probes.suites import registry
from pathsec.probes.tls import TlsObservation


def suites(
    version: str, *codes: int, dh: int | None = None, curve: tuple[str, int] | None = None
) -> VersionSuites:
    table = registry()
    return VersionSuites(
        version=version,
        suites=tuple(
            SuiteSeen(
                id=f"0x{c:04X}",
                name=table[c].name,
                dh_bits=dh if table[c].dhe else None,
                curve=curve[0] if curve and table[c].ecdhe else None,
                curve_bits=curve[1] if curve and table[c].ecdhe else None,
            )
            for c in codes
        ),
    )


def cipher_obs(*versions: VersionSuites, chain: ChainFacts | None = None) -> CipherObservation:
    return CipherObservation(versions=versions, chain=chain)


def check(
    cid: str, *obs, profile: str = "hardened", protocol: AppProtocol = AppProtocol.https, **target
):  # type: ignore[no-untyped-def]
    return evaluate_check(cid, *obs, protocol=protocol, profile=load_profile(profile), **target)


# Windows 2003 SChannel as it answers: TLS 1.0, RSA key exchange, RC4, 3DES, DES, export
W2003 = cipher_obs(suites("TLSv1.0", 0x0004, 0x0005, 0x000A, 0x0009, 0x0064, 0x0062, 0x0003))


def test_suite_classes_of_a_windows_2003_server() -> None:
    assert check("PS-TLS-015", W2003)[0] == "4 RC4 suite(s) accepted"  # export RC4 too
    assert "TLSv1.0 DES-CBC3-SHA" in check("PS-TLS-016", W2003)
    assert "TLSv1.0 DES-CBC-SHA" in check("PS-TLS-016", W2003)  # single DES too
    assert check("PS-TLS-014", W2003)[0] == "3 export-grade suite(s) accepted"
    assert check("PS-TLS-018", W2003)[0].startswith("no ECDHE/DHE suite accepted")
    assert check("PS-TLS-017", W2003)[0].startswith("no AEAD suite accepted")
    assert check("PS-TLS-012", W2003) == () and check("PS-TLS-013", W2003) == ()
    # the reference grades what the reference says: none of these
    reference = load_profile("reference").checks
    assert not {"PS-TLS-014", "PS-TLS-015", "PS-TLS-016", "PS-TLS-017", "PS-TLS-018"} & set(
        reference
    )


def test_null_and_anonymous_are_flagged_under_every_profile() -> None:
    obs = cipher_obs(suites("TLSv1.2", 0xC02F, 0x0002, 0x00A6, 0xC018))
    for profile in ("reference", "hardened"):
        assert check("PS-TLS-012", obs, profile=profile)[1] == "TLSv1.2 NULL-SHA"
        assert check("PS-TLS-013", obs, profile=profile)[1:] == (
            "TLSv1.2 ADH-AES128-GCM-SHA256",
            "TLSv1.2 AECDH-AES128-SHA",
        )
    clean = cipher_obs(suites("TLSv1.2", 0xC02F, 0xC030), suites("TLSv1.3", 0x1301))
    assert all(
        check(c, clean) == ()
        for c in (
            "PS-TLS-012",
            "PS-TLS-013",
            "PS-TLS-014",
            "PS-TLS-015",
            "PS-TLS-016",
            "PS-TLS-017",
            "PS-TLS-018",
            "PS-TLS-019",
        )
    )


def test_weak_dh_and_curves_follow_the_profile() -> None:
    dhe = cipher_obs(
        suites("TLSv1.2", 0x009E, dh=1024), suites("TLSv1.2", 0xC013, curve=("secp224r1", 224))
    )
    assert check("PS-TLS-019", dhe) == (
        "DH group of 1024 bits (minimum 2048)",
        "curve secp224r1 (224 bits, minimum 256)",
    )
    assert check("PS-TLS-019", dhe, profile="reference") == ()  # not graded by the reference
    ok = cipher_obs(
        suites("TLSv1.2", 0x009E, dh=2048), suites("TLSv1.2", 0xC02F, curve=("x25519", 256))
    )
    assert check("PS-TLS-019", ok) == ()


def test_sslv2() -> None:
    tls = TlsObservation(
        versions={"SSLv2": "accepted", "TLSv1.0": "accepted"},
        version_reasons={"SSLv2": "7 SSL 2.0 cipher kinds"},
    )
    assert check("PS-TLS-020", tls, profile="reference")[0] == "SSLv2 accepted"
    assert tls.accepted == ("SSLv2", "TLSv1.0")
    # SSL 2.0 and 3.0 have checks of their own: the minimum-version check leaves them out
    assert check("PS-TLS-003", tls) == ("TLSv1.0 accepted (minimum TLSv1.2)",)


def _link(
    subject: str, issuer: str, sig: str = "sha256", expired: bool = False, self_signed: bool = False
) -> ChainLink:
    return ChainLink(
        subject=subject,
        issuer=issuer,
        not_after="2030-01-01",
        expired=expired,
        signature_algorithm=sig,
        self_signed=self_signed,
    )


def test_chain_checks() -> None:
    incomplete = ChainFacts(
        links=(_link("CN=mail", "CN=Issuing CA"),),
        trust="incomplete",
        missing_issuer="CN=Issuing CA",
        aia_issuer_url="http://pki.example/ca.crt",
    )
    ev = check("PS-TLS-021", cipher_obs(chain=incomplete))
    assert ev[0] == "issuer not sent and not a trusted root: CN=Issuing CA"
    assert "http://pki.example/ca.crt" in ev[1]
    untrusted = ChainFacts(
        links=(
            _link("CN=mail", "CN=Private CA"),
            _link("CN=Private CA", "CN=Private CA", self_signed=True),
        ),
        trust="untrusted_root",
    )
    assert (
        check("PS-TLS-022", cipher_obs(chain=untrusted))[0]
        == "chain ends in an untrusted root: CN=Private CA"
    )
    weak = ChainFacts(
        links=(
            _link("CN=mail", "CN=Old CA"),
            _link("CN=Old CA", "CN=Root", sig="sha1", expired=True),
        ),
        trust="trusted",
    )
    assert check("PS-TLS-023", cipher_obs(chain=weak)) == (
        "CN=Old CA: signed with sha1",
        "CN=Old CA: expired 2030-01-01",
    )
    out_of_order = ChainFacts(
        links=(_link("CN=mail", "CN=B"), _link("CN=A", "CN=Root"), _link("CN=B", "CN=A")),
        in_order=False,
        trust="trusted",
    )
    assert (
        check("PS-TLS-024", cipher_obs(chain=out_of_order))[0]
        == "certificates not sent in issuing order"
    )
    assert check("PS-TLS-024", cipher_obs(chain=weak)) == ()
    assert (
        check("PS-TLS-022", cipher_obs(chain=ChainFacts(trust="self_signed"))) == ()
    )  # PS-TLS-010's


def test_hsts() -> None:
    none = HttpObservation(responses=(HttpResponse(path="/owa", status=200),))
    assert check("PS-HTTP-008", none)[0].startswith("no Strict-Transport-Security header")
    short = HttpObservation(
        responses=(HttpResponse(path="/owa", status=200, hsts="max-age=300", hsts_max_age=300),)
    )
    assert check("PS-HTTP-008", short) == (
        "/owa: Strict-Transport-Security max-age=300 (below 15552000)",
    )
    year = HttpObservation(
        responses=(
            HttpResponse(path="/owa", status=200, hsts="max-age=31536000", hsts_max_age=31536000),
        )
    )
    assert check("PS-HTTP-008", year) == ()
    assert "PS-HTTP-008" not in load_profile("reference").checks  # hardened only
    assert check("PS-HTTP-008", none, protocol=AppProtocol.http) == ()  # HTTPS only


def _smtp(banner: str, markers: tuple[str, ...]) -> SmtpObservation:
    info = EhloInfo(
        greeting="mx",
        keywords=("STARTTLS", "AUTH"),
        auth=("PLAIN", "LOGIN"),
        starttls=True,
        size=None,
        size_advertised=False,
        exchange_markers=markers,
        x_exps=(),
    )
    return SmtpObservation(
        banner=banner, ehlo_before=info, starttls_offered=True, exchange_markers=markers
    )


def test_bare_targets_get_the_reference_auth_rows_only_when_identified() -> None:
    exp = Expectations(
        encryption_supported=True,
        encryption_by_default=True,
        default_auth=("ntlm",),
        supported_auth=("ntlm", "kerberos"),
        assumed=True,
    )
    postfix = _smtp("220 mx.example.org ESMTP Postfix (Debian/GNU)", ())
    exchange = _smtp("220 ex1 Microsoft ESMTP MAIL Service ready at Sat, 1 Jan 2011", ("XEXCH50",))
    for cid in ("PS-SMTP-002", "PS-SMTP-003"):
        assert (
            check(cid, postfix, protocol=AppProtocol.smtp, profile="reference", expectations=exp)
            == ()
        )
        assert check(
            cid, exchange, protocol=AppProtocol.smtp, profile="reference", expectations=exp
        )
        named = exp.model_copy(update={"assumed": False})  # --path, or a planned flow
        assert check(
            cid, postfix, protocol=AppProtocol.smtp, profile="reference", expectations=named
        )
    # generic checks still apply to the Postfix: plain-text login before TLS
    assert check(
        "PS-SMTP-001", postfix, protocol=AppProtocol.smtp, profile="reference", expectations=exp
    )
