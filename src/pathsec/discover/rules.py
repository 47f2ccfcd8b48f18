"""Fingerprint rules: what an answer at one endpoint says about the server's roles.

Each rule is one row of :data:`RULES`: an id, the role it supports, how sure it is, the
ports it reads, one line saying what it detects, and a test of one endpoint result (the
observations the audit's probes recorded) that returns what the server said, or None.
The facts each test looks for (EHLO keywords, RPC interface UUIDs, LDAP capability OIDs,
header names) are the tables at the top, after shared/reference/exchange-wire-fingerprints.md.
:data:`NOT_2007` lists what marks a later Exchange, which the 2007 reference does not model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pathsec.audit.models import EndpointResult
from pathsec.discover.models import Certainty
from pathsec.probes.dns import DnsObservation
from pathsec.probes.http import HttpObservation
from pathsec.probes.imap import ImapObservation
from pathsec.probes.kerberos import KerberosObservation
from pathsec.probes.ldap import LdapObservation
from pathsec.probes.pop3 import Pop3Observation
from pathsec.probes.rpc import RpcObservation
from pathsec.probes.sip import SipObservation
from pathsec.probes.smtp import EXCHANGE_MARKERS, SmtpObservation
from pathsec.probes.text import clean_text
from pathsec.topology.models import ServerRole

SAYS_CHARS = 160

#: RPC interfaces (``uuid vMAJOR.MINOR`` without the version) and what registers them.
EMSMDB = "a4f1db00-ca47-1067-b31f-00dd010662da"  # Exchange store: MAPI (Mailbox)
NSPI = "f5cc5a18-4264-101a-8c59-08002b2f8426"  # System Attendant's directory proxy (Mailbox)
DC_INTERFACES = {
    "e3514235-4b06-11d1-ab04-00c04fc2dcd2": "drsuapi",
    "12345678-1234-abcd-ef00-01234567cffb": "netlogon",
    "12345778-1234-abcd-ef00-0123456789ab": "lsarpc",
}
#: LDAP capability OIDs: Active Directory (AD DS) and ADAM / AD LDS.
CAP_AD = "1.2.840.113556.1.4.800"
CAP_ADAM = "1.2.840.113556.1.4.1851"
#: Exchange web virtual directories that ask for credentials (401) on a Client Access server.
EXCHANGE_VDIRS = (
    "/Autodiscover/Autodiscover.xml",
    "/EWS/Exchange.asmx",
    "/Microsoft-Server-ActiveSync",
    "/OAB",
    "/Rpc/rpcproxy.dll",
)
#: EHLO keywords of Exchange 2010 and later (fingerprints §1, table).
LATER_EHLO = ("XSHADOW", "XSHADOWREQUEST", "X-EXCHANGEAUTH")

Test = Callable[[EndpointResult], str | None]


@dataclass(frozen=True)
class Rule:
    """One fingerprint: when ``test`` matches an endpoint, the server likely or certainly
    holds ``role`` (unless it holds ``unless``, which excludes it). A rule that is not
    ``alone`` only corroborates: what it sees is not specific to Windows or Exchange (any
    KDC answers an AS-REQ; any web server may ask for credentials everywhere)."""

    id: str
    role: ServerRole
    certainty: Certainty
    ports: tuple[int, ...]
    test: Test
    unless: ServerRole | None = None
    alone: bool = True

    @property
    def detects(self) -> str:
        """What the rule detects: its test's docstring."""
        return " ".join((self.test.__doc__ or "").split())


def says(text: str) -> str:
    """Server text as evidence: control characters escaped, cut."""
    return clean_text(text, SAYS_CHARS)


def _smtp(r: EndpointResult) -> SmtpObservation | None:
    o = r.observations.of(SmtpObservation)
    return o if o is not None and o.ehlo_before is not None else None


def _markers(o: SmtpObservation) -> list[str]:
    return [m for m in o.exchange_markers if m in EXCHANGE_MARKERS and m not in LATER_EHLO]


def smtp_exchange(r: EndpointResult) -> str | None:
    """Exchange's EHLO keywords (X-ANONYMOUSTLS, X-EXPS, XEXCH50, XRDST)."""
    o = _smtp(r)
    if o is None or not _markers(o):
        return None
    return says(f"EHLO lists {' '.join(_markers(o))}")


def smtp_exps_gssapi(r: EndpointResult) -> str | None:
    """X-EXPS with GSSAPI: Exchange server authentication by Kerberos, a domain member's."""
    o = _smtp(r)
    if o is None or o.ehlo_before is None:
        return None
    exps = [*o.ehlo_before.x_exps, *(o.ehlo_after.x_exps if o.ehlo_after else ())]
    if "GSSAPI" not in exps or not _markers(o):
        return None
    return says(f"EHLO X-EXPS {' '.join(dict.fromkeys(exps))}")


def smtp_client_connector(r: EndpointResult) -> str | None:
    """587 offering AUTH GSSAPI and NTLM: the Hub's "Client <server>" connector."""
    o = _smtp(r)
    if o is None or o.ehlo_before is None or r.port != 587:
        return None
    auth = set(o.auth_before_tls()) | set(o.auth_after_tls())
    if not {"GSSAPI", "NTLM"} <= auth:
        return None
    return says(f"AUTH {' '.join(o.ehlo_before.auth)} on the submission port")


def smtp_edge(r: EndpointResult) -> str | None:
    """Exchange keywords, X-EXPS without GSSAPI and no AUTH: Edge's internal connector."""
    o = _smtp(r)
    if o is None or o.ehlo_before is None or not _markers(o):
        return None
    if not o.ehlo_before.x_exps or "GSSAPI" in o.ehlo_before.x_exps or o.ehlo_before.auth:
        return None
    return says(f"EHLO X-EXPS {' '.join(o.ehlo_before.x_exps)} and no AUTH")


def _root(r: EndpointResult) -> LdapObservation | None:
    o = r.observations.of(LdapObservation)
    return o if o is not None and o.root_dse is not None else None


def ldap_adam(r: EndpointResult) -> str | None:
    """An ADAM / AD LDS rootDSE (capability 1851) on Edge's ports 50389/50636."""
    o = _root(r)
    if o is None or o.root_dse is None or r.port not in (50389, 50636):
        return None
    if CAP_ADAM not in o.root_dse.capabilities:
        return None
    return says(f"rootDSE supportedCapabilities {CAP_ADAM} (ADAM)")


def ldap_ad(r: EndpointResult) -> str | None:
    """An AD DS rootDSE (capability 800) with a default naming context: a DC."""
    o = _root(r)
    if o is None or o.root_dse is None or r.port in (50389, 50636):
        return None
    dse = o.root_dse
    if CAP_AD not in dse.capabilities or not dse.default_naming_context:
        return None
    return says(f"rootDSE capability {CAP_AD} (AD DS), {dse.default_naming_context}")


def ldap_gc(r: EndpointResult) -> str | None:
    """The global catalog port answering an AD DS rootDSE."""
    o = _root(r)
    if o is None or o.root_dse is None or r.port not in (3268, 3269):
        return None
    if CAP_AD not in o.root_dse.capabilities:
        return None
    return says(f"global catalog rootDSE (isGlobalCatalogReady {o.root_dse.global_catalog_ready})")


def kerberos_kdc(r: EndpointResult) -> str | None:
    """A KDC: the AS-REQ for an unknown principal got a KRB-ERROR."""
    o = r.observations.of(KerberosObservation)
    if o is None or not o.kdc:
        return None
    return says(f"KRB-ERROR {o.error_name} realm {o.server_realm}")


def _interfaces(r: EndpointResult) -> set[str]:
    o = r.observations.of(RpcObservation)
    return {i.split(" ", 1)[0] for i in o.interfaces} if o is not None else set()


def rpc_emsmdb(r: EndpointResult) -> str | None:
    """The endpoint mapper lists the Exchange store's EMSMDB (MAPI) interface."""
    return "EMSMDB " + EMSMDB + " registered" if EMSMDB in _interfaces(r) else None


def rpc_nspi(r: EndpointResult) -> str | None:
    """The endpoint mapper lists the System Attendant's NSPI directory proxy."""
    return "NSPI proxy " + NSPI + " registered" if NSPI in _interfaces(r) else None


def rpc_dc(r: EndpointResult) -> str | None:
    """The endpoint mapper lists drsuapi or netlogon: a domain controller's lsass."""
    found = [name for uuid, name in DC_INTERFACES.items() if uuid in _interfaces(r)]
    return f"{', '.join(found)} registered" if found else None


def _http(r: EndpointResult) -> HttpObservation | None:
    return r.observations.of(HttpObservation)


def http_owa_forms(r: EndpointResult) -> str | None:
    """/owa redirects to OWA's forms logon page."""
    o = _http(r)
    hit = next((x for x in o.responses if x.forms_logon), None) if o else None
    return says(f"{hit.path} {hit.status} -> {hit.location}") if hit else None


def http_exchange_vdirs(r: EndpointResult) -> str | None:
    """Two or more Exchange virtual directories ask for credentials (plain IIS: 404)."""
    o = _http(r)
    if o is None:
        return None
    hits = [x for x in o.responses if x.path in EXCHANGE_VDIRS and x.status == 401]
    if len(hits) < 2:
        return None
    return says(" ".join(f"{x.path} 401 {','.join(x.auth_schemes)}" for x in hits))


def http_owa_version(r: EndpointResult) -> str | None:
    """An X-OWA-Version header: only Exchange's Client Access web applications send it."""
    o = _http(r)
    found = (x.headers.get("x-owa-version") for x in (o.responses if o else ()))
    version = next((v for v in found if v), None)
    return says(f"X-OWA-Version: {version}") if version else None


def pop3_exchange(r: EndpointResult) -> str | None:
    """A POP3 banner naming Microsoft Exchange."""
    o = r.observations.of(Pop3Observation)
    b = o.banner if o is not None else None
    return says(f"banner {b}") if b and "microsoft exchange" in b.lower() else None


def imap_exchange(r: EndpointResult) -> str | None:
    """An IMAP4 greeting naming Microsoft Exchange."""
    o = r.observations.of(ImapObservation)
    g = o.greeting if o is not None else None
    return says(f"greeting {g}") if g and "microsoft exchange" in g.lower() else None


def sip_um(r: EndpointResult) -> str | None:
    """SIP OPTIONS answered by Exchange Unified Messaging (Server/User-Agent MSExchangeUM)."""
    o = r.observations.of(SipObservation)
    if o is None or not o.exchange_um:
        return None
    return says(f"{o.status_code} Server: {o.server or o.user_agent}")


def dns_ad_zone(r: EndpointResult) -> str | None:
    """DNS answers the AD domain's _ldap._tcp SRV records: the DC's AD-integrated DNS."""
    o = r.observations.of(DnsObservation)
    if o is None:
        return None
    srvs = (q for q in o.queries if q.rdtype == "SRV" and q.name.startswith("_ldap._tcp."))
    srv = next(srvs, None)
    if srv is None or srv.rcode != "NOERROR" or not srv.answers:
        return None
    return says(f"{srv.name} SRV {srv.answers[0]}")


def exchange2003_smtp(r: EndpointResult) -> str | None:
    """Exchange 2003 on Windows' SMTP service: ``Version: 6.0.…`` banner and XEXCH50."""
    o = _smtp(r)
    if o is None or o.ehlo_before is None or not o.banner:
        return None
    if "Version: 6.0." not in o.banner or "XEXCH50" not in o.ehlo_before.keywords:
        return None
    return says(f"banner {o.banner}")


_H, _E, _C = ServerRole.hub_transport, ServerRole.edge_transport, ServerRole.client_access
_M, _U, _D = ServerRole.mailbox, ServerRole.unified_messaging, ServerRole.domain_controller
_CERTAIN, _LIKELY = Certainty.certain, Certainty.likely

#: Every fingerprint rule (ids are stable: tests and evidence files name them).
RULES: tuple[Rule, ...] = (
    Rule("smtp.exps-gssapi", _H, _CERTAIN, (25, 587), smtp_exps_gssapi, unless=_E),
    Rule("smtp.exchange-keywords", _H, _LIKELY, (25, 587), smtp_exchange, unless=_E),
    Rule("smtp.client-connector", _H, _LIKELY, (587,), smtp_client_connector, _E, alone=False),
    Rule("smtp.edge-connector", _E, _LIKELY, (25,), smtp_edge),
    Rule("ldap.adam", _E, _LIKELY, (50389, 50636), ldap_adam),
    Rule("http.owa-forms", _C, _CERTAIN, (80, 443), http_owa_forms),
    Rule("http.owa-version", _C, _LIKELY, (80, 443), http_owa_version),
    Rule("http.exchange-vdirs", _C, _LIKELY, (80, 443), http_exchange_vdirs, alone=False),
    Rule("pop3.exchange", _C, _LIKELY, (110, 995), pop3_exchange),
    Rule("imap.exchange", _C, _LIKELY, (143, 993), imap_exchange),
    Rule("rpc.emsmdb", _M, _CERTAIN, (135,), rpc_emsmdb),
    Rule("rpc.nspi", _M, _LIKELY, (135,), rpc_nspi),
    Rule("smtp.exchange2003", _M, _LIKELY, (25,), exchange2003_smtp),
    Rule("sip.exchange-um", _U, _CERTAIN, (5060, 5061, 5062), sip_um),
    Rule("ldap.ad-ds", _D, _CERTAIN, (389, 636), ldap_ad),
    Rule("ldap.global-catalog", _D, _LIKELY, (3268, 3269), ldap_gc),
    Rule("kerberos.kdc", _D, _LIKELY, (88,), kerberos_kdc, alone=False),
    Rule("rpc.dc-interfaces", _D, _LIKELY, (135,), rpc_dc, alone=False),
    Rule("dns.ad-zone", _D, _LIKELY, (53,), dns_ad_zone, alone=False),
)

_BUILD = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\.")


def later_smtp(r: EndpointResult) -> str | None:
    """EHLO keywords of Exchange 2010 and later (XSHADOW, X-EXCHANGEAUTH)."""
    o = _smtp(r)
    if o is None:
        return None
    later = [m for m in o.exchange_markers if m in LATER_EHLO]
    return says(f"EHLO lists {' '.join(later)}") if later else None


def later_owa(r: EndpointResult) -> str | None:
    """An X-OWA-Version of 14 (2010) or later."""
    o = _http(r)
    for x in o.responses if o else ():
        m = _BUILD.match(x.headers.get("x-owa-version", ""))
        if m and int(m.group(1)) >= 14:
            return says(f"X-OWA-Version: {x.headers['x-owa-version']}")
    return None


#: Marks of an Exchange after 2007: such a server is left out (the reference is 2007's).
NOT_2007: tuple[tuple[str, Test], ...] = (
    ("smtp.exchange-2010+", later_smtp),
    ("http.owa-2010+", later_owa),
)
