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
from pathsec.probes.http import HttpObservation, HttpResponse
from pathsec.probes.interface import AppProtocol, ProbeKind, Status
from pathsec.probes.pop3 import Pop3Capa, Pop3Observation
from pathsec.probes.smtp import EhloInfo, SmtpObservation
from pathsec.probes.tcp import TcpObservation
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
    with pytest.raises(InputError, match=r"t.yaml:\d: findings.TCP-1.*should match pattern"):
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
    assert "PS-SMTP-001" not in reference.checks  # graded by the hardened profile only


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
