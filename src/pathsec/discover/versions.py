"""Estimates beside the roles: a server's name, Windows and Exchange release, the AD domain.

Each estimate comes from the tables below (after shared/reference/exchange-wire-fingerprints.md
and windows-platforms.md) and names its basis. Candidates are ranked by how directly they
tell the value (an NTLM challenge's OS version beats a functional level, which beats an IIS
banner, which beats the RPC port range); the best wins, the others that disagree are listed
as conflicts. Any server text that becomes a name passes the deployment's own name rule.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from pathsec.audit.models import EndpointResult
from pathsec.discover.models import Estimate, Evidence
from pathsec.discover.rules import says
from pathsec.inventory.exports import deployment_name
from pathsec.probes.http import HttpObservation
from pathsec.probes.imap import ImapObservation
from pathsec.probes.kerberos import KerberosObservation
from pathsec.probes.ldap import LdapObservation
from pathsec.probes.ntlm import NtlmObservation
from pathsec.probes.pop3 import Pop3Observation
from pathsec.probes.rpc import RpcObservation
from pathsec.probes.sip import SipObservation
from pathsec.probes.smb import SmbObservation
from pathsec.probes.smtp import SmtpObservation
from pathsec.topology.models import Server

#: Windows release by the OS version of an NTLM challenge (``--ntlm-info``).
NTLM_WINDOWS = {"5.2": "2003", "6.0": "2008", "6.1": "2008-r2"}
#: ... by a DC's domainControllerFunctionality (its own level is its OS's).
DC_LEVEL_WINDOWS = {"2": "2003", "3": "2008", "4": "2008-r2"}
#: ... by the newest LDAP capability OID of an AD DS or ADAM rootDSE.
LDAP_CAP_WINDOWS = (
    ("1.2.840.113556.1.4.2080", "2008-r2"),  # LDAP_CAP_ACTIVE_DIRECTORY_V61_R2
    ("1.2.840.113556.1.4.1935", "2008"),  # V60
    ("1.2.840.113556.1.4.1670", "2003"),  # V51
)
#: ... by the IIS version in the Server header.
IIS_WINDOWS = {"6.0": "2003", "7.0": "2008", "7.5": "2008-r2"}
#: ... by the newest SMB dialect accepted (SMB1 alone: 2003).
SMB_WINDOWS = {"2.1": "2008-r2", "2.0.2": "2008"}
#: ... by where the endpoint mapper's dynamic ports lie (KB 154596 defaults).
RPC_RANGES = (((1025, 5000), "2003"), ((49152, 65535), "2008"))
#: How directly each source tells the Windows release (higher wins).
WINDOWS_RANK = {"ntlm": 6, "dc-level": 5, "ldap-capability": 4, "iis": 4, "smb": 3, "rpc": 1}

#: Exchange release by the major.minor of a build (X-OWA-Version, MSExchangeUM/…).
EXCHANGE_BUILDS = {
    (8, 0): "2007-rtm",
    (8, 1): "2007-sp1",
    (8, 2): "2007-sp2",
    (8, 3): "2007-sp3",
    (6, 5): "2003",
}
#: When nothing on the wire tells the release: SP3 is the one every Windows of the reference
#: supports (RTM needs 2003, 2008 R2 needs SP3), so the draft raises no false error.
EXCHANGE_DEFAULT = "2007-sp3"

_DNS_NAME = re.compile(
    r"^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_BUILD = re.compile(r"(\d{1,2})\.(\d{1,2})\.\d{1,5}(?:\.\d{1,5})?")
_IIS = re.compile(r"Microsoft-IIS/(\d{1,2}\.\d)")
_UM = re.compile(r"MSExchangeUM/(\d{1,2})\.(\d{1,2})\.")


def label(r: EndpointResult) -> str:
    """``host:port/protocol`` of an endpoint result."""
    host = f"[{r.host}]" if ":" in r.host else r.host
    return f"{host}:{r.port}/{r.protocol.value}"


def _ev(rule: str, r: EndpointResult, text: str) -> Evidence:
    return Evidence(rule=rule, endpoint=label(r), says=says(text))


def dns_name(text: str | None) -> str | None:
    """``text`` when it is a DNS name of two or more labels (lower case), else None."""
    if not text:
        return None
    name = text.strip().rstrip(".").lower()
    return name if _DNS_NAME.match(name) else None


def _pick(candidates: Sequence[tuple[int, str, Evidence]]) -> Estimate | None:
    """The best-ranked candidate; candidates that disagree with it become conflicts."""
    if not candidates:
        return None
    top = max(rank for rank, _, _ in candidates)
    best = Counter(v for rank, v, _ in candidates if rank == top).most_common(1)[0][0]
    chosen = [e for rank, v, e in candidates if rank == top and v == best]
    others = tuple(f"{v}: {e.endpoint} {e.says}" for _, v, e in candidates if v != best)
    first = chosen[0]
    return Estimate(
        value=best,
        basis=f"{first.endpoint} {first.says}",
        evidence=tuple(chosen),
        conflicts=others,
    )


def _windows_candidates(results: Iterable[EndpointResult]) -> list[tuple[int, str, Evidence]]:
    out: list[tuple[int, str, Evidence]] = []

    def add(source: str, value: str | None, r: EndpointResult, text: str) -> None:
        if value is not None:
            out.append((WINDOWS_RANK[source], value, _ev(f"windows.{source}", r, text)))

    for r in results:
        obs = r.observations
        for n in _ntlm(r):
            if n.os_version:
                add("ntlm", NTLM_WINDOWS.get(n.os_version[:3]), r, f"NTLM OS {n.os_version}")
        ldap = obs.of(LdapObservation)
        dse = ldap.root_dse if ldap is not None else None
        if dse is not None:
            level = dse.dc_functionality
            if level is not None:
                add(
                    "dc-level",
                    DC_LEVEL_WINDOWS.get(level),
                    r,
                    f"domainControllerFunctionality {level}",
                )
            newest = next((w for oid, w in LDAP_CAP_WINDOWS if oid in dse.capabilities), None)
            add("ldap-capability", newest, r, f"newest supportedCapabilities: Windows {newest}")
        http = obs.of(HttpObservation)
        for x in http.responses if http else ():
            m = _IIS.search(x.headers.get("server", ""))
            if m:
                add("iis", IIS_WINDOWS.get(m.group(1)), r, f"Server: {x.headers['server']}")
                break
        smb = obs.of(SmbObservation)
        if smb is not None and smb.dialects:
            accepted = [d for d, ok in smb.dialects.items() if ok]
            newest_smb = next((w for d, w in SMB_WINDOWS.items() if d in accepted), None)
            if newest_smb is None and accepted == ["SMB1"]:
                newest_smb = "2003"
            add("smb", newest_smb, r, f"SMB dialects {' '.join(accepted)}")
        rpc = obs.of(RpcObservation)
        if rpc is not None and rpc.tcp_ports:
            for (low, high), w in RPC_RANGES:
                if all(low <= p <= high for p in rpc.tcp_ports):
                    ports = " ".join(map(str, rpc.tcp_ports[:4]))
                    add("rpc", w, r, f"RPC dynamic ports {ports} in {low}-{high}")
    return out


def _ntlm(r: EndpointResult) -> list[NtlmObservation]:
    found = []
    own = r.observations.of(NtlmObservation)
    if own is not None and own.status.value == "ok":
        found.append(own)
    http = r.observations.of(HttpObservation)
    found += [x.challenge for x in (http.ntlm if http else ()) if x.challenge is not None]
    return found


def windows_estimate(results: Sequence[EndpointResult], exchange: str | None) -> Estimate:
    """The Windows release of one server, from everything its endpoints said."""
    picked = _pick(_windows_candidates(results))
    if picked is not None:
        if picked.evidence[0].rule == "windows.rpc" and picked.value == "2008":
            return picked.model_copy(
                update={"basis": picked.basis + " (2008 or 2008 R2: the range tells no more)"}
            )
        return picked
    if exchange == "2007-rtm":
        return Estimate(value="2003", basis="Exchange 2007 RTM runs on Windows Server 2003 only")
    if exchange == "2003":
        return Estimate(
            value="2003", basis="Exchange 2003 runs on Windows 2000 or 2003; 2003 assumed"
        )
    return Estimate(value=None, basis="nothing on the wire tells the Windows release")


def _exchange_candidates(results: Iterable[EndpointResult]) -> list[tuple[int, str, Evidence]]:
    out: list[tuple[int, str, Evidence]] = []

    def build(major: str, minor: str) -> str | None:
        return EXCHANGE_BUILDS.get((int(major), int(minor)))

    for r in results:
        obs = r.observations
        http = obs.of(HttpObservation)
        for x in http.responses if http else ():
            m = _BUILD.match(x.headers.get("x-owa-version", "").strip())
            if m and (v := build(m.group(1), m.group(2))):
                text = f"X-OWA-Version: {x.headers['x-owa-version']}"
                out.append((3, v, _ev("exchange.owa-version", r, text)))
                break
        sip = obs.of(SipObservation)
        product = f"{sip.server or ''} {sip.user_agent or ''}" if sip else ""
        if (m := _UM.search(product)) and (v := build(m.group(1), m.group(2))):
            out.append((3, v, _ev("exchange.um-build", r, f"Server: {product.strip()}")))
        for banner in (_banner(obs.of(Pop3Observation)), _greeting(obs.of(ImapObservation))):
            if banner and "Microsoft Exchange Server 2007" in banner:
                out.append((2, "2007-rtm", _ev("exchange.rtm-banner", r, f"banner {banner}")))
            elif banner and "Microsoft Exchange Server 2003" in banner:
                out.append((2, "2003", _ev("exchange.2003-banner", r, f"banner {banner}")))
        smtp = obs.of(SmtpObservation)
        if smtp is not None and smtp.banner and "Version: 6.0." in smtp.banner:
            out.append((2, "2003", _ev("exchange.2003-smtp", r, f"banner {smtp.banner}")))
    return out


def _banner(o: Pop3Observation | None) -> str | None:
    return o.banner if o is not None else None


def _greeting(o: ImapObservation | None) -> str | None:
    return o.greeting if o is not None else None


def exchange_estimate(results: Sequence[EndpointResult]) -> Estimate | None:
    """The Exchange release of one server from its own endpoints (None: nothing says)."""
    return _pick(_exchange_candidates(results))


def exchange_fallback(others: Sequence[tuple[str, Estimate]]) -> Estimate:
    """The release for a server whose endpoints tell none: the one seen most on the other
    servers (``(name, estimate)``), else :data:`EXCHANGE_DEFAULT`."""
    seen = Counter(e.value for _, e in others if e.value)
    if seen:
        value = seen.most_common(1)[0][0]
        where = next(n for n, e in others if e.value == value)
        return Estimate(
            value=value,
            basis=f"TODO: no release on the wire; {value} as seen on {where} (same organisation)",
        )
    return Estimate(
        value=EXCHANGE_DEFAULT,
        basis=f"TODO: no release on the wire; {EXCHANGE_DEFAULT} assumed (it runs on every "
        "Windows of the reference)",
    )


def _name_candidates(results: Iterable[EndpointResult]) -> list[tuple[str, str, EndpointResult]]:
    """(source, text, endpoint) in order of preference."""
    ranked: dict[int, list[tuple[str, str, EndpointResult]]] = {}
    for r in results:
        obs = r.observations
        ldap = obs.of(LdapObservation)
        if ldap is not None and ldap.root_dse is not None and ldap.root_dse.dns_host_name:
            ranked.setdefault(0, []).append(("LDAP dnsHostName", ldap.root_dse.dns_host_name, r))
        for n in _ntlm(r):
            for text in (n.dns_computer, n.netbios_computer):
                if text:
                    ranked.setdefault(1, []).append(("NTLM computer name", text, r))
        smtp = obs.of(SmtpObservation)
        if smtp is not None and smtp.ehlo_before is not None and smtp.ehlo_before.greeting:
            ranked.setdefault(2, []).append(
                ("SMTP EHLO", smtp.ehlo_before.greeting.split(" ", 1)[0], r)
            )
        for o in (obs.get(k) for k, _ in obs.items()):
            session = o.tls_session() if o is not None else None
            cert = session.certificate if session is not None else None
            if cert is None:
                continue
            if cert.subject_cn:
                ranked.setdefault(3, []).append(("certificate CN", cert.subject_cn, r))
            for san in cert.sans[:4]:
                if san.startswith("DNS:"):
                    ranked.setdefault(4, []).append(("certificate SAN", san[4:], r))
    return [c for k in sorted(ranked) for c in ranked[k]]


def host_label(text: str) -> str | None:
    """The first DNS label of ``text`` in upper case (a NetBIOS-style server name), when it
    is one and the deployment accepts it as a server name; None otherwise."""
    first = text.strip().split(".", 1)[0]
    if not _LABEL.match(first) or first.isdigit():
        return None
    try:
        return deployment_name(first.upper(), Server)
    except ValueError:
        return None


def name_estimate(address: str, results: Sequence[EndpointResult]) -> Estimate:
    """A server name from what the server calls itself; else one made from its address."""
    refused: list[str] = []
    for source, text, r in _name_candidates(results):
        try:
            ipaddress.ip_address(text.strip("[]"))
            continue  # an address literal, not a name
        except ValueError:
            pass
        name = host_label(text)
        if name is None:
            refused.append(f"{source} {says(repr(text))} at {label(r)}: not usable as a name")
            continue
        ev = _ev("name", r, f"{source} {text}")
        return Estimate(
            value=name,
            basis=f"name from {source} {says(text)} at {label(r)}",
            evidence=(ev,),
            conflicts=tuple(refused),
        )
    made = "host-" + re.sub(r"[^A-Za-z0-9]+", "-", address).strip("-")
    return Estimate(
        value=made,
        basis="TODO: name made from the address (no usable name on the wire)",
        conflicts=tuple(refused),
    )


def domain_estimate(results: Sequence[EndpointResult]) -> Estimate:
    """The AD domain: a DC's default naming context, else a KDC's realm, else the suffix
    most names share."""
    candidates: list[tuple[int, str, Evidence]] = []
    for r in results:
        ldap = r.observations.of(LdapObservation)
        nc = ldap.root_dse.default_naming_context if ldap and ldap.root_dse else None
        if nc:
            parts = [
                p.split("=", 1)[1] for p in nc.split(",") if p.strip().upper().startswith("DC=")
            ]
            if (d := dns_name(".".join(parts))) is not None:
                candidates.append((3, d, _ev("domain.naming-context", r, nc)))
        krb = r.observations.of(KerberosObservation)
        if krb is not None and krb.kdc and (d := dns_name(krb.server_realm)) is not None:
            candidates.append((2, d, _ev("domain.kerberos-realm", r, f"realm {krb.server_realm}")))
        for _, text, at in _name_candidates([r]):
            fqdn = dns_name(text)
            if fqdn is not None and (d := dns_name(fqdn.split(".", 1)[1])) is not None:
                candidates.append((1, d, _ev("domain.name-suffix", at, text)))
    picked = _pick(candidates)
    return picked or Estimate(value=None, basis="TODO: no AD domain on the wire")
