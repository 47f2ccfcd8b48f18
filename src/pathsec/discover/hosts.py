"""One address's endpoint results -> a server of the draft (roles, versions, facts, name),
an address left out (open ports, no Exchange or AD evidence; or a later Exchange), or
nothing (it answered on no port probed).
"""

from __future__ import annotations

from collections.abc import Sequence

from pathsec.audit.models import EndpointResult
from pathsec.discover.models import (
    Certainty,
    Estimate,
    Evidence,
    LeftOut,
    RoleVerdict,
    ServerVerdict,
)
from pathsec.discover.rules import NOT_2007, RULES, Rule, sip_um
from pathsec.discover.versions import (
    exchange_estimate,
    label,
    name_estimate,
    windows_estimate,
)
from pathsec.probes.dns import DnsObservation
from pathsec.probes.interface import Status
from pathsec.probes.ldap import LdapObservation
from pathsec.probes.tcp import TcpObservation
from pathsec.topology.models import ServerRole

#: Roles in the order a deployment lists them.
ROLE_ORDER = (
    ServerRole.hub_transport,
    ServerRole.client_access,
    ServerRole.mailbox,
    ServerRole.unified_messaging,
    ServerRole.edge_transport,
    ServerRole.domain_controller,
)
EXCHANGE_ROLES = frozenset(ROLE_ORDER[:5])


def is_open(r: EndpointResult) -> bool:
    """The endpoint accepted a connection (whatever it said after)."""
    tcp = r.observations.of(TcpObservation)
    if tcp is not None:
        return tcp.state == "open"
    return r.status not in (Status.refused, Status.timeout, Status.skipped)


def matches(rule: Rule, results: Sequence[EndpointResult]) -> list[Evidence]:
    """Where ``rule`` matched among one address's endpoint results."""
    out = []
    for r in results:
        if r.port in rule.ports:
            text = rule.test(r)
            if text is not None:
                out.append(Evidence(rule=rule.id, endpoint=label(r), says=text))
    return out


def roles_of(results: Sequence[EndpointResult]) -> tuple[RoleVerdict, ...]:
    """The roles the rules support, each with its certainty and evidence.

    A role is ``certain`` when a certain rule matched, or likely rules of two different ids
    did; a rule whose ``unless`` role is found does not count (Edge's EHLO is no Hub's), and
    a rule that does not stand ``alone`` needs another one beside it.
    """
    found: dict[ServerRole, list[tuple[Rule, list[Evidence]]]] = {}
    for rule in RULES:
        ev = matches(rule, results)
        if ev:
            found.setdefault(rule.role, []).append((rule, ev))
    verdicts = []
    for role in ROLE_ORDER:
        hits = [(r, e) for r, e in found.get(role, []) if r.unless is None or r.unless not in found]
        if not hits or (len(hits) == 1 and not hits[0][0].alone):
            continue  # nothing, or one rule that only corroborates
        likely_ids = {r.id for r, _ in hits if r.certainty is Certainty.likely}
        certain = any(r.certainty is Certainty.certain for r, _ in hits) or len(likely_ids) > 1
        verdicts.append(
            RoleVerdict(
                role=role,
                certainty=Certainty.certain if certain else Certainty.likely,
                evidence=tuple(e for _, ev in hits for e in ev),
            )
        )
    return tuple(verdicts)


def _legacy(roles: tuple[RoleVerdict, ...]) -> tuple[RoleVerdict, ...]:
    """An Exchange 2003 server is a legacy mailbox server in a deployment: its Exchange
    roles' evidence becomes the mailbox role's (a 2003 SMTP answers as a Hub would)."""
    exchange = [v for v in roles if v.role in EXCHANGE_ROLES]
    mailbox = RoleVerdict(
        role=ServerRole.mailbox,
        certainty=max((v.certainty for v in exchange), key=lambda c: c.rank),
        evidence=tuple(e for v in exchange for e in v.evidence),
    )
    return (mailbox, *(v for v in roles if v.role not in EXCHANGE_ROLES))


def _facts(roles: set[ServerRole], results: Sequence[EndpointResult]) -> dict[str, Estimate]:
    facts: dict[str, Estimate] = {}
    by_port = {r.port: r for r in results}
    if ServerRole.domain_controller in roles:
        gc = [r for r in results if r.port in (3268, 3269) and _ad_root(r)]
        ready = next((r for r in results if _ad_root(r) and _gc_ready(r)), None)
        if gc:
            facts["global_catalog"] = Estimate(
                value="true", basis=f"{label(gc[0])} answers as a global catalog"
            )
        elif ready is not None:
            facts["global_catalog"] = Estimate(
                value="true", basis=f"{label(ready)} isGlobalCatalogReady TRUE"
            )
        else:
            facts["global_catalog"] = Estimate(value="false", basis="3268/3269 closed or not AD")
        dns = by_port.get(53)
        answered = dns is not None and _dns_answered(dns)
        facts["dns"] = Estimate(
            value="true" if answered else "false",
            basis=f"{label(dns)} answers DNS queries"
            if answered and dns
            else "53/tcp did not answer DNS",
        )
    if ServerRole.unified_messaging in roles:
        ports = sorted(r.port for r in results if r.port in (5060, 5061, 5062) and sip_um(r))
        tcp, tls = 5060 in ports, any(p in ports for p in (5061, 5062))
        mode = "both" if tcp and tls else "tls" if tls else "tcp"
        facts["um_sip_mode"] = Estimate(
            value=mode, basis=f"Exchange UM answered SIP on {', '.join(map(str, ports))}"
        )
    return facts


def _ad_root(r: EndpointResult) -> bool:
    o = r.observations.of(LdapObservation)
    return bool(o and o.root_dse and "1.2.840.113556.1.4.800" in o.root_dse.capabilities)


def _gc_ready(r: EndpointResult) -> bool:
    o = r.observations.of(LdapObservation)
    return bool(o and o.root_dse and (o.root_dse.global_catalog_ready or "").upper() == "TRUE")


def _dns_answered(r: EndpointResult) -> bool:
    o = r.observations.of(DnsObservation)
    return bool(o and o.queries)


def judge(address: str, results: Sequence[EndpointResult]) -> ServerVerdict | LeftOut | None:
    """What one address is: a server (with evidence), left out (and why), or silent."""
    opened = [r for r in results if is_open(r)]
    if not opened:
        return None
    ports = tuple(label(r).split(":")[-1] for r in opened)
    for rule_id, test in NOT_2007:
        for r in opened:
            text = test(r)
            if text is not None:
                ev = Evidence(rule=rule_id, endpoint=label(r), says=text)
                return LeftOut(
                    address=address,
                    reason=f"Exchange 2010 or later ({text} at {label(r)}): the 2007 reference "
                    "does not model it",
                    open_ports=ports,
                    evidence=(ev,),
                )
    roles = roles_of(opened)
    if not roles:
        return LeftOut(
            address=address, reason="open ports, no Exchange or AD evidence", open_ports=ports
        )
    names = {v.role for v in roles}
    exchange: Estimate | None = None
    if names & EXCHANGE_ROLES:
        exchange = exchange_estimate(opened)
        if exchange is not None and exchange.value == "2003":
            roles = _legacy(roles)
            names = {v.role for v in roles}
    windows = windows_estimate(opened, exchange.value if exchange else None)
    return ServerVerdict(
        address=address,
        name=name_estimate(address, opened),
        roles=roles,
        exchange=exchange,
        windows=windows,
        facts=_facts(names, opened),
        open_ports=ports,
    )
