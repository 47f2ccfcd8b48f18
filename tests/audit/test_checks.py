"""The checks package: the registry, the texts data and its schema, and checks one by one."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from pathsec.audit.checks.model import Check, DuplicateCheck, collect, only
from pathsec.audit.checks.registry import CHECKS, evaluate_check
from pathsec.audit.checks.texts import (
    FindingTexts,
    finding_texts,
    texts_schema,
    texts_schema_text,
    texts_yaml,
)
from pathsec.audit.models import Expectations
from pathsec.audit.profiles import load_profile
from pathsec.errors import InputError
from pathsec.probes.certs import CertificateFacts, TlsSession
from pathsec.probes.http import HttpObservation, HttpResponse
from pathsec.probes.imap import ImapCaps, ImapObservation
from pathsec.probes.interface import AppProtocol, ProbeKind, Status
from pathsec.probes.pop3 import Pop3Capa, Pop3Observation
from pathsec.probes.smb import SmbObservation
from pathsec.probes.smtp import EhloInfo, SmtpObservation
from pathsec.probes.tcp import TcpObservation
from pathsec.probes.tls import TlsObservation
from pathsec.yamlfile import load_yaml_text, validate_located

CHECKS_DIR = Path(__file__).resolve().parents[2] / "src/pathsec/audit/checks"
DRIFT = {"PS-DRIFT-001", "PS-DRIFT-002", "PS-DRIFT-003"}
ENCRYPTABLE = Expectations(
    encryption_supported=True,
    encryption_by_default=False,
    default_auth=("ntlm",),
    supported_auth=("ntlm", "basic"),
)


def test_a_duplicate_check_id_raises() -> None:
    first = Check("PS-TEST-001", lambda ctx: [])
    with pytest.raises(DuplicateCheck, match="PS-TEST-001"):
        collect([first, Check("PS-TEST-001", lambda ctx: ["other"])])


def test_every_check_has_texts_and_every_text_a_check() -> None:
    texts = finding_texts()
    assert set(CHECKS) <= set(texts), set(CHECKS) - set(texts)
    assert set(texts) - set(CHECKS) == DRIFT, "texts of no check (drift findings aside)"
    for t in texts.values():
        assert t.title.en and t.title.zh and t.remediation.en and t.remediation.zh


def test_the_committed_texts_schema_matches_the_model_and_the_data() -> None:
    committed = (CHECKS_DIR / "texts.schema.json").read_text(encoding="utf-8")
    assert committed == texts_schema_text(), (
        "regenerate: python -c 'from pathsec.audit.checks.texts import texts_schema_text as t;"
        ' print(t(), end="")\' > src/pathsec/audit/checks/texts.schema.json'
    )
    doc = load_yaml_text(texts_yaml(), "texts.yaml").data
    jsonschema.validate(doc, texts_schema())


def test_a_bad_texts_entry_names_line_and_field() -> None:
    text = "findings:\n  PS-TCP-001:\n    title: {en: a, zh: b}\n    remediation: {en: a}\n"
    with pytest.raises(InputError, match=r"t.yaml:4: findings.PS-TCP-001.remediation.zh: required"):
        validate_located(FindingTexts, load_yaml_text(text, "t.yaml"))
    bad_id = "findings:\n  TCP-1:\n    title: {en: a, zh: b}\n    remediation: {en: a, zh: b}\n"
    with pytest.raises(
        InputError, match=r"t.yaml:\d: findings.TCP-1.*a finding id looks like PS-SMTP-001"
    ):
        validate_located(FindingTexts, load_yaml_text(bad_id, "t.yaml"))


def test_applies_to_and_when_are_what_decides_where_a_check_runs() -> None:
    smtp = SmtpObservation(banner="220 mx", ehlo_before=_ehlo(("LOGIN",)), starttls_offered=True)
    # PS-SMTP-001 grades SMTP endpoints only: the same observation on an IMAP target is not read
    assert CHECKS["PS-SMTP-001"].applies_to == only(ProbeKind.smtp)
    assert evaluate_check("PS-SMTP-001", smtp, protocol=AppProtocol.smtp)
    assert evaluate_check("PS-SMTP-001", smtp, protocol=AppProtocol.imap) == ()
    # PS-ZONE-001 grades only ports the plan keeps closed; every other check only open ones
    tcp = TcpObservation(state="open")
    assert evaluate_check("PS-ZONE-001", tcp, protocol=AppProtocol.tcp, expect="closed")
    assert evaluate_check("PS-ZONE-001", tcp, protocol=AppProtocol.tcp) == ()
    closed = TcpObservation(status=Status.refused, reason="connection refused", state="closed")
    assert evaluate_check("PS-TCP-001", closed, protocol=AppProtocol.tcp)
    assert evaluate_check("PS-TCP-001", closed, protocol=AppProtocol.tcp, expect="closed") == ()
    assert {c.when for c in CHECKS.values()} == {"open", "closed"}


def test_version_headers_only_count_the_version_headers() -> None:
    r = HttpResponse(path="/owa", status=200, headers={"x-aspnet-version": "2.0.50727"})
    evidence = evaluate_check(
        "PS-HTTP-003", HttpObservation(responses=(r,)), protocol=AppProtocol.https
    )
    assert evidence == ("x-aspnet-version: 2.0.50727",)
    # a header other than the version headers, with digits in it, is no version leak
    other = r.model_copy(update={"headers": {"strict-transport-security": "max-age=31536000"}})
    quiet = HttpObservation(responses=(other,))
    assert evaluate_check("PS-HTTP-003", quiet, protocol=AppProtocol.https) == ()


def test_no_tls_reads_any_in_band_tls_protocol() -> None:
    capa = Pop3Capa(capabilities=("USER", "TOP"), user=True, stls=False, sasl=())
    pop3 = Pop3Observation(banner="+OK", capa_before=capa)
    evidence = evaluate_check(
        "PS-TLS-001", pop3, protocol=AppProtocol.pop3, expectations=ENCRYPTABLE
    )
    assert evidence == ("capabilities before TLS: USER TOP", "STARTTLS/STLS not offered")
    offered = pop3.model_copy(update={"stls_offered": True})
    assert (
        evaluate_check("PS-TLS-001", offered, protocol=AppProtocol.pop3, expectations=ENCRYPTABLE)
        == ()
    )
    # implicit TLS: nothing to upgrade
    assert (
        evaluate_check("PS-TLS-001", pop3, protocol=AppProtocol.pop3s, expectations=ENCRYPTABLE)
        == ()
    )


def test_plaintext_login_before_tls_uses_the_profile() -> None:
    smtp = SmtpObservation(
        banner="220 mx", ehlo_before=_ehlo(("NTLM", "LOGIN")), starttls_offered=True
    )
    evidence = evaluate_check("PS-SMTP-001", smtp, protocol=AppProtocol.smtp)
    assert evidence[0] == "offered before TLS: NTLM LOGIN"
    reference = load_profile("reference")
    # plain-text credentials before TLS are flagged under every profile (issue 17)
    assert reference.checks["PS-SMTP-001"] == "medium"


def _ehlo(auth: tuple[str, ...]) -> EhloInfo:
    keywords = ("PIPELINING", "STARTTLS", "AUTH")
    return EhloInfo(
        greeting="mx",
        keywords=keywords,
        auth=auth,
        starttls=True,
        size=None,
        size_advertised=False,
        exchange_markers=(),
        x_exps=(),
    )


def test_texts_file_is_json_schema_valid_json_too() -> None:
    # the schema is self-consistent: it validates as a JSON Schema
    jsonschema.Draft202012Validator.check_schema(json.loads(texts_schema_text()))


# --- checks the lab and the server tests do not reach, one by one -----------------------------

CERT = CertificateFacts(
    subject="CN=mx.example.test",
    issuer="CN=Example CA",
    subject_cn="mx.example.test",
    sans=("mx.example.test",),
    not_before="2030-01-01T00:00:00+00:00",
    not_after="2031-01-01T00:00:00+00:00",
    expired=False,
    not_yet_valid=True,
    self_signed=False,
    key_type="RSA",
    key_bits=1024,
    signature_algorithm="sha1",
    hostname="mx.example.test",
    hostname_match=True,
    sha256="ab" * 32,
)


def _tls(**versions: str) -> TlsObservation:
    session = TlsSession(version="TLSv1.0", cipher="AES128-SHA", cipher_bits=128, certificate=CERT)
    return TlsObservation(
        versions={k.replace("_", "."): v for k, v in versions.items()},  # type: ignore[misc]
        session=session,
    )


def test_tls_version_and_certificate_checks() -> None:
    tls = _tls(SSLv3="accepted", TLSv1_0="accepted", TLSv1_2="rejected")
    https = AppProtocol.https
    assert evaluate_check("PS-TLS-004", tls, protocol=https) == ("SSLv3 accepted",)
    assert evaluate_check("PS-TLS-005", tls, protocol=https) == (
        "accepted: SSLv3, TLSv1.0; none at or above TLSv1.2",
    )
    assert evaluate_check("PS-TLS-007", tls, protocol=https)[0] == (
        "not before 2030-01-01T00:00:00+00:00"
    )
    assert evaluate_check("PS-TLS-008", tls, protocol=https)[0] == "RSA 1024 bits (minimum 2048)"
    assert evaluate_check("PS-TLS-009", tls, protocol=https)[0] == "signature hash sha1"
    reference = load_profile("reference")  # 1024-bit RSA and SHA-1 pass the reference
    assert evaluate_check("PS-TLS-008", tls, protocol=https, profile=reference) == ()
    assert evaluate_check("PS-TLS-009", tls, protocol=https, profile=reference) == ()
    modern = _tls(TLSv1_2="accepted")
    assert evaluate_check("PS-TLS-005", modern, protocol=https) == ()


@pytest.mark.parametrize(
    ("area", "outside_id", "missing_id"),
    [("POP3", "PS-POP3-002", "PS-POP3-003"), ("IMAP", "PS-IMAP-002", "PS-IMAP-003")],
)
def test_logins_against_the_reference(area: str, outside_id: str, missing_id: str) -> None:
    only_ntlm = ENCRYPTABLE.model_copy(update={"supported_auth": ("ntlm",)})
    if area == "POP3":
        capa = Pop3Capa(capabilities=("USER", "SASL PLAIN"), user=True, stls=True, sasl=("PLAIN",))
        obs: Pop3Observation | ImapObservation = Pop3Observation(
            capa_before=capa, stls_offered=True
        )
        proto = AppProtocol.pop3
    else:
        caps = ImapCaps(
            capabilities=("IMAP4REV1", "AUTH=PLAIN"),
            starttls=True,
            logindisabled=False,
            auth=("PLAIN",),
        )
        obs = ImapObservation(caps_before=caps, starttls_offered=True)
        proto = AppProtocol.imap
    outside = evaluate_check(outside_id, obs, protocol=proto, expectations=only_ntlm)
    assert outside[0].startswith("offered outside the supported set:")
    assert "PLAIN (basic)" in outside[0]
    missing = evaluate_check(missing_id, obs, protocol=proto, expectations=only_ntlm)
    assert missing[0] == "none of the default methods offered: ntlm"


def test_smb_without_encryption() -> None:
    smb = SmbObservation(
        dialects={"2.1": True, "3.0": True}, signing_required=True, encryption=False
    )
    assert evaluate_check("PS-SMB-003", smb, protocol=AppProtocol.smb) == (
        "no SMB3 encryption capability (dialects: 2.1, 3.0)",
    )
    assert (
        evaluate_check(
            "PS-SMB-003", smb.model_copy(update={"encryption": True}), protocol=AppProtocol.smb
        )
        == ()
    )


def test_every_check_is_exercised_by_a_test() -> None:
    """A new check comes with a test (here, or a lab profile's expected findings)."""
    root = Path(__file__).resolve().parents[2]
    corpus = "\n".join(
        p.read_text(encoding="utf-8")
        for p in [*root.glob("tests/**/*.py"), *root.glob("src/pathsec/lab/profiles/*.yaml")]
        if p.name != "test_readme_findings.py"
    )
    untested = [cid for cid in CHECKS if cid not in corpus]
    assert untested == [], f"checks without a test: {untested}"
