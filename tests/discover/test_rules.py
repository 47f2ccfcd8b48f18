"""Fingerprint rules and estimates on recorded observations.

Two sources: the lab's endpoints as the audit's probes recorded them (``fixtures/``, see
``record.py``), and Exchange transcripts from shared/reference/exchange-wire-fingerprints.md
put through the probes' own parsers (Exchange 2003, 2007, 2010, 2013; IIS 6.0; a DC on
2008 R2). Each rule must match somewhere, and no server may be made from nothing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pytest

from discover.observed import result, smtp
from discover.record import load, record, save
from pathsec.audit.models import EndpointResult
from pathsec.discover.hosts import judge, matches
from pathsec.discover.models import Certainty, LeftOut, ServerVerdict
from pathsec.discover.rules import NOT_2007, RULES
from pathsec.discover.scope import DISCOVERY_PORTS, port_protocol
from pathsec.discover.versions import domain_estimate, host_label
from pathsec.lab.core import Lab
from pathsec.lab.profiles import load_profile
from pathsec.probes.http import HttpObservation, HttpResponse
from pathsec.probes.kerberos import KerberosObservation
from pathsec.probes.ldap import LdapObservation, RootDse
from pathsec.probes.ntlm import NtlmObservation
from pathsec.probes.pop3 import Pop3Observation
from pathsec.probes.rpc import RpcObservation
from pathsec.probes.smb import SmbObservation

PROFILES = ("default", "hardened")


# fingerprints §1: an Exchange 2003 server (forum copy, [V])
EX2003 = smtp(
    "MAIL.testdomain.com Microsoft ESMTP MAIL Service, Version: 6.0.3790.4675 ready at  Sat, "
    "3 Sep 2011 10:00:00 +0200",
    [
        "250-MAIL.testdomain.com Hello [192.168.1.5]",
        "250-TURN",
        "250-SIZE",
        "250-PIPELINING",
        "250-STARTTLS",
        "250-X-EXPS GSSAPI NTLM LOGIN",
        "250-X-LINK2STATE",
        "250-XEXCH50",
        "250 OK",
    ],
)
# §1a: an Exchange 2007 Hub's Default connector ([V])
EX2007_HUB = smtp(
    "SMTPServer.testdomain.local Microsoft ESMTP MAIL Service ready at Sat, 8 Jan 2010 06:03:15 -0600",
    [
        "250-SMTPServer.testdomain.local Hello [192.168.127.10]",
        "250-SIZE",
        "250-PIPELINING",
        "250-DSN",
        "250-ENHANCEDSTATUSCODES",
        "250-STARTTLS",
        "250-X-ANONYMOUSTLS",
        "250-AUTH NTLM LOGIN",
        "250-X-EXPS GSSAPI NTLM",
        "250-8BITMIME",
        "250-BINARYMIME",
        "250-CHUNKING",
        "250-XEXCH50",
        "250 XRDST",
    ],
)
# §1c: HTB Rabbit, Exchange 2010 ([V])
EX2010 = smtp(
    "Rabbit.htb.local Microsoft ESMTP MAIL Service ready at Mon, 1 Jan 2018 10:00:00 +0000",
    [
        "250-Rabbit.htb.local Hello [10.10.15.114]",
        "250-SIZE",
        "250-PIPELINING",
        "250-STARTTLS",
        "250-X-ANONYMOUSTLS",
        "250-AUTH NTLM",
        "250-X-EXPS GSSAPI NTLM",
        "250-XEXCH50",
        "250-XRDST",
        "250 XSHADOW",
    ],
)
POSTFIX = smtp(
    "mx.example.org ESMTP Postfix", ["250-mx.example.org", "250-STARTTLS", "250 AUTH PLAIN"]
)
# §4: the 2007 SP1 pre-release OWA dump ([V]): IIS 6.0 and X-OWA-Version 8.1.177.3
OWA_2007_IIS6 = HttpObservation(
    responses=(
        HttpResponse(
            path="/owa",
            status=200,
            headers={"server": "Microsoft-IIS/6.0", "x-owa-version": "8.1.177.3"},
        ),
    )
)
# §4, TryHackMe Lookback: Exchange 2019 (X-OWA-Version 15.2.858.2)
OWA_2019 = HttpObservation(
    responses=(HttpResponse(path="/owa", status=302, headers={"x-owa-version": "15.2.858.2"}),)
)
# §6: a Windows Server 2008 R2 DC's rootDSE (HTB "Active", [V])
DC_2008R2 = LdapObservation(
    root_dse=RootDse(
        capabilities=tuple(f"1.2.840.113556.1.4.{n}" for n in (800, 1670, 1791, 1935, 2080)),
        dns_host_name="DC.active.htb",
        default_naming_context="DC=active,DC=htb",
        dc_functionality="4",
        global_catalog_ready="TRUE",
    )
)
KDC = KerberosObservation(
    kdc=True, error_name="KDC_ERR_C_PRINCIPAL_UNKNOWN", server_realm="EXAMPLE.ORG"
)
NETLOGON_LOW_PORTS = RpcObservation(
    tcp_ports=(1026, 1029),
    interfaces=("12345678-1234-abcd-ef00-01234567cffb v1.0",),
)
EMSMDB = RpcObservation(
    tcp_ports=(49155,), interfaces=("a4f1db00-ca47-1067-b31f-00dd010662da v0.81",)
)
SMB_2008 = SmbObservation(dialects={"SMB1": True, "2.0.2": True, "2.1": False, "3.0": False})


def hosts(results: Sequence[EndpointResult]) -> dict[str, list[EndpointResult]]:
    out: dict[str, list[EndpointResult]] = {}
    for r in results:
        out.setdefault(r.host, []).append(r)
    return out


def verdict(*results: EndpointResult) -> ServerVerdict:
    v = judge(results[0].host, results)
    assert isinstance(v, ServerVerdict), v
    return v


def roles(v: ServerVerdict) -> dict[str, Certainty]:
    return {r.role.value: r.certainty for r in v.roles}


# --- the recorded lab ------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_recorded_lab_is_judged_as_the_lab_is(profile: str) -> None:
    servers = Lab(load_profile(profile)).deployment()["servers"]
    assert isinstance(servers, list)
    truth = {s["addresses"][0]: s for s in servers}
    got = {a: judge(a, rs) for a, rs in hosts(load(profile)).items()}
    assert set(got) == set(truth)
    for address, v in got.items():
        t = truth[address]
        assert isinstance(v, ServerVerdict)
        assert v.name.value == t["name"]
        assert set(roles(v)) == set(t["roles"])
        assert set(roles(v).values()) == {Certainty.certain}
        exchange = v.exchange.value if v.exchange else None
        # EDGE01 shows no build: the organisation's release is filled in by the run
        assert exchange == (None if t["name"] == "EDGE01" else t.get("exchange"))
        assert v.windows.value == (None if t["name"] == "UM01" else t["windows"])


@pytest.mark.parametrize("profile", PROFILES)
def test_recorded_fixtures_still_match_the_lab(profile: str) -> None:
    """Re-record (in-process lab, no root): the verdicts must not have drifted; with
    PATHSEC_UPDATE_GOLDEN=1 the fixture is rewritten."""
    live = record(profile)
    if os.environ.get("PATHSEC_UPDATE_GOLDEN"):
        save(profile, live)

    def summary(results: Sequence[EndpointResult]) -> dict[str, object]:
        out: dict[str, object] = {}
        for a, rs in hosts(results).items():
            v = judge(a, rs)
            assert isinstance(v, ServerVerdict)
            rules = sorted({e.rule for r in v.roles for e in r.evidence})
            out[a] = (v.name.value, sorted(roles(v)), rules, v.windows.value)
        return out

    assert summary(live) == summary(load(profile))


# --- transcripts of real servers -----------------------------------------------------------


def test_exchange_2007_hub_transcript_is_a_certain_hub() -> None:
    v = verdict(result("10.0.0.5", 25, EX2007_HUB))
    assert roles(v) == {"hub_transport": Certainty.certain}
    assert v.name.value == "SMTPSERVER"
    assert v.exchange is None  # nothing on the wire: the organisation's release fills it later


def test_exchange_2003_is_a_legacy_mailbox_server_on_windows_2003() -> None:
    v = verdict(result("10.0.0.6", 25, EX2003))
    assert roles(v) == {"mailbox": Certainty.certain}  # X-EXPS GSSAPI + XEXCH50, merged
    assert v.exchange is not None and v.exchange.value == "2003"
    assert v.windows.value == "2003" and "Exchange 2003" in v.windows.basis
    assert v.name.value == "MAIL"


def test_exchange_2010_and_2019_are_left_out_not_drafted() -> None:
    for r in (result("10.0.0.7", 25, EX2010), result("10.0.0.8", 443, OWA_2019)):
        v = judge(r.host, [r])
        assert isinstance(v, LeftOut) and "2010 or later" in v.reason


def test_owa_on_iis6_is_a_likely_cas_2007_sp1_on_windows_2003() -> None:
    v = verdict(result("10.0.0.9", 443, OWA_2007_IIS6))
    assert roles(v) == {"client_access": Certainty.likely}  # one likely rule
    assert v.exchange is not None and v.exchange.value == "2007-sp1"
    assert v.windows.value == "2003" and "Microsoft-IIS/6.0" in v.windows.basis


def test_pop3_rtm_banner_gives_rtm_and_so_windows_2003() -> None:
    pop = Pop3Observation(banner="+OK Microsoft Exchange Server 2007 POP3 service ready")
    v = verdict(result("10.0.0.10", 110, pop))
    assert roles(v) == {"client_access": Certainty.likely}
    assert v.exchange is not None and v.exchange.value == "2007-rtm"
    assert v.windows.value == "2003" and "RTM" in v.windows.basis


def test_dc_2008_r2_rootdse_ntlm_beats_iis_and_conflicts_are_kept() -> None:
    ntlm = NtlmObservation(os_version="6.0.6002", dns_computer="dc.active.htb")
    iis = HttpObservation(
        responses=(HttpResponse(path="/", status=200, headers={"server": "Microsoft-IIS/7.5"}),)
    )
    v = verdict(result("10.0.0.11", 389, DC_2008R2), result("10.0.0.11", 80, iis))
    assert roles(v) == {"domain_controller": Certainty.certain}
    assert v.windows.value == "2008-r2" and "domainControllerFunctionality 4" in v.windows.basis
    assert v.name.value == "DC" and v.facts["global_catalog"].value == "true"
    # an NTLM challenge outranks the functional level; the level then disagrees
    w = verdict(result("10.0.0.11", 389, DC_2008R2), result("10.0.0.11", 25, EX2007_HUB, ntlm))
    assert w.windows.value == "2008" and any("2008-r2" in c for c in w.windows.conflicts)
    assert domain_estimate([result("10.0.0.11", 389, DC_2008R2)]).value == "active.htb"


def test_low_rpc_ports_say_2003_and_smb_says_2008() -> None:
    dc = verdict(result("10.0.0.12", 88, KDC), result("10.0.0.12", 135, NETLOGON_LOW_PORTS))
    assert roles(dc) == {"domain_controller": Certainty.certain}  # two corroborating rules
    assert dc.windows.value == "2003" and "1025-5000" in dc.windows.basis
    mbx = verdict(result("10.0.0.13", 135, EMSMDB), result("10.0.0.13", 445, SMB_2008))
    assert roles(mbx) == {"mailbox": Certainty.certain}
    assert mbx.windows.value == "2008" and "SMB" in mbx.windows.basis


def test_nothing_is_invented_from_generic_answers() -> None:
    assert judge("10.0.0.14", []) is None  # silent
    for r in (result("10.0.0.15", 25, POSTFIX), result("10.0.0.16", 88, KDC)):
        v = judge(r.host, [r])  # a Postfix, a lone (MIT) KDC: open, but not Exchange or AD
        assert isinstance(v, LeftOut) and "no Exchange or AD evidence" in v.reason


def test_every_rule_matches_a_recorded_observation() -> None:
    recorded = [r for p in PROFILES for r in load(p)] + [
        result("10.0.0.6", 25, EX2003),
        result("10.0.0.7", 25, EX2010),
        result("10.0.0.8", 443, OWA_2019),
    ]
    matched = {rule.id for rule in RULES if matches(rule, recorded)}
    assert matched == {rule.id for rule in RULES}
    assert {rule_id for rule_id, test in NOT_2007 if any(test(r) for r in recorded)} == {
        rule_id for rule_id, _ in NOT_2007
    }


def test_rules_table_is_consistent() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    ports = {p for p, _ in DISCOVERY_PORTS}
    for rule in RULES:
        assert set(rule.ports) <= ports, rule.id
        assert rule.detects, f"{rule.id}: its test needs a docstring (what it detects)"
        assert rule.alone or rule.certainty is Certainty.likely, rule.id
    for port in ports:
        port_protocol(port)  # every discovery port has a probe


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("ex2007.contoso.local", "EX2007"),
        ("EDGE01", "EDGE01"),
        ("ex2007\x85servers: [pwned]", None),
        ("evil;rm -rf /.example", None),
        ("-dash.example", None),
        ("a" * 70 + ".example", None),
        ("'quoted'.example", None),
        ("x: y", None),
    ],
)
def test_host_label_passes_only_deployment_names(text: str, name: str | None) -> None:
    assert host_label(text) == name
