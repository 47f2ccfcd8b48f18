"""iptables: ``iptables-restore`` and ``ip6tables-restore`` files per enforcement point.

Same semantics as the nftables target: the filter table, FORWARD (network firewall) or
INPUT (host firewall) with policy DROP, conntrack ESTABLISHED,RELATED accepted, and the
planned flows consolidated (:mod:`pathsec.firewall.consolidate`): one ``-j ACCEPT`` per
rule and family, ports with ``-m multiport`` (at most 15 ports a line, a range counting
two), address sides of more than :data:`IPSET_MIN` networks as ipsets (``-m set
--match-set``, written to ``<point>.ipset`` for ``ipset restore`` before the tables).
Both files are always written, so IPv6 is closed even where the plan has no IPv6 flow.
"""

from __future__ import annotations

from typing import Literal

from pathsec.firewall.consolidate import Consolidated, HostSet, Rule, consolidated_points
from pathsec.firewall.interface import (
    Capabilities,
    FirewallError,
    Generator,
    GeneratorOptions,
    RenderedFile,
    Rendering,
    Selection,
    Target,
)
from pathsec.firewall.rules import address_text, header_lines, skipped_hosts
from pathsec.plan.models import Plan
from pathsec.quoting import QuotingError, ipt_comment, ipt_comment_arg, ipt_ifname, ipt_token

ND_TYPES = ("neighbour-solicitation", "neighbour-advertisement", "router-advertisement")
#: An address side with more networks than this becomes an ipset (iptables-restore would
#: otherwise expand ``-s a,b,c`` into one kernel rule per source and destination pair).
IPSET_MIN = 8
MULTIPORT_SLOTS = 15  # xt_multiport: 15 ports, a range takes two
#: iptables-restore reads lines into a 10,240-byte buffer and parses the rest of a longer
#: line as a line of its own: pathsec never writes one that long.
LINE_MAX = 10_000


def _token(rule: Rule, text: str, ifname: bool = False) -> str:
    try:
        return ipt_ifname(text) if ifname else ipt_token(text)
    except QuotingError as exc:
        raise FirewallError(f"flow {rule.flows[0].flow.id}: {exc}; use --target aerleon") from None


def ipset_name(hs: HostSet, family: Literal[4, 6]) -> str:
    """The ipset of a host set: ``ps_<set>_v4`` (at most 31 characters)."""
    return f"ps_{hs.name}_v{family}"


class _Ipsets:
    """The ipsets of one enforcement point, in order of first use."""

    def __init__(self) -> None:
        self.used: dict[str, tuple[HostSet, Literal[4, 6]]] = {}

    def match(self, rule: Rule, hs: HostSet, family: Literal[4, 6], direction: str) -> str:
        nets = hs.family(family)
        if len(nets) <= IPSET_MIN:
            flag = "-s" if direction == "src" else "-d"
            return f"{flag} {_token(rule, ','.join(address_text(n) for n in nets))}"
        name = _token(rule, ipset_name(hs, family))
        self.used.setdefault(name, (hs, family))
        return f"-m set --match-set {name} {direction}"

    def text(self, point_name: str, slug: str) -> str:
        out = [
            ipt_comment(f"pathsec ipsets of {point_name}: load before the iptables files with"),
            ipt_comment(f"  ipset restore -exist < {slug}.ipset"),
        ]
        for name, (hs, family) in self.used.items():
            out.append(ipt_comment(f"{hs.name}: {', '.join(hs.hosts)}"))
            out.append(f"create {name} hash:net family {'inet' if family == 4 else 'inet6'}")
            out.append(f"flush {name}")
            out += [f"add {name} {ipt_token(t)}" for t in hs.texts(family)]
        return "\n".join(out) + "\n"


def _port_chunks(rule: Rule) -> list[str]:
    """``-m tcp --dport 25`` or ``-m multiport --dports …`` matches covering the rule's ports."""
    if len(rule.ports) == 1:
        a, b = rule.ports[0]
        return [f"-m {rule.protocol} --dport {a}" + (f":{b}" if b != a else "")]
    chunks: list[list[str]] = [[]]
    used = 0
    for a, b in rule.ports:
        cost = 1 if a == b else 2
        if used + cost > MULTIPORT_SLOTS:
            chunks.append([])
            used = 0
        chunks[-1].append(str(a) if a == b else f"{a}:{b}")
        used += cost
    return [f"-m multiport --dports {','.join(c)}" for c in chunks]


def rule_lines(
    c: Consolidated, rule: Rule, chain: str, family: Literal[4, 6], sets: _Ipsets
) -> list[str]:
    """The ``-A`` lines of one rule for one family (none when a side lacks that family).

    Every token is plain (:func:`~pathsec.quoting.ipt_token`, interface names Linux names)
    and the comment is quoted by :func:`~pathsec.quoting.ipt_comment_arg`; an address list
    too long for iptables-restore's line buffer goes to an ipset.
    """
    fam = [f for f in rule.families() if f[0] == family]
    if not fam:
        return []
    head = [f"-A {chain}"]
    if rule.in_interface:
        head.append(f"-i {_token(rule, rule.in_interface, ifname=True)}")
    if rule.out_interface:
        head.append(f"-o {_token(rule, rule.out_interface, ifname=True)}")
    head.append(f"-p {rule.protocol}")
    head.append(sets.match(rule, rule.sources, family, "src"))
    head.append(sets.match(rule, rule.destinations, family, "dst"))
    tail = f"-m comment --comment {ipt_comment_arg(c.comment(rule))} -j ACCEPT"
    lines = [ipt_comment(line) for line in c.flow_lines(rule)]
    for ports in _port_chunks(rule):
        line = " ".join([*head, ports, tail])
        if len(line.encode("utf-8")) >= LINE_MAX:
            raise FirewallError(
                f"flow {rule.flows[0].flow.id}: rule {rule.tag} is {len(line)} characters, "
                f"longer than iptables-restore reads as one line ({LINE_MAX})"
            )
        lines.append(line)
    return lines


def render_point(plan: Plan, c: Consolidated, family: Literal[4, 6], sets: _Ipsets) -> str:
    """The restore file of one enforcement point for one family."""
    point = c.point
    tool = "iptables-restore" if family == 4 else "ip6tables-restore"
    ext = "v4" if family == 4 else "v6"
    network = point.kind == "network"
    chain = "FORWARD" if network else "INPUT"
    out = [*header_lines(plan, point, ipt_comment), ipt_comment(c.headline())]
    body: list[str] = []
    for rule in c.rules:
        body += rule_lines(c, rule, chain, family, sets)
    if any(name.endswith(f"_v{family}") for name in sets.used):
        out.append(ipt_comment(f"First: ipset restore -exist < {point.slug}.ipset"))
    out.append(ipt_comment(f"Load: {tool} < {point.slug}.rules.{ext}"))
    out.append(ipt_comment("Replaces the whole filter table of this machine."))
    out += ["*filter", f":INPUT {'ACCEPT' if network else 'DROP'} [0:0]"]
    out += [":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]"]
    out.append(f"-A {chain} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT")
    out.append(f"-A {chain} -m conntrack --ctstate INVALID -j DROP")
    if not network:
        out.append("-A INPUT -i lo -j ACCEPT")
        if family == 6:
            out.append(ipt_comment("IPv6 neighbour discovery (RFC 4890)"))
            for kind in ND_TYPES:
                out.append(
                    f"-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type {kind}"
                    " -m hl --hl-eq 255 -j ACCEPT"
                )
    out += body
    out += ["COMMIT", ""]
    return "\n".join(out)


class IptablesGenerator(Generator):
    """iptables-restore / ip6tables-restore files (and ipsets for large address sides)."""

    target = Target.iptables
    capabilities = Capabilities(
        network_firewalls=True,
        host_firewalls=True,
        description="filter table; FORWARD per network firewall, INPUT per host; v4 and v6",
    )

    def render(self, plan: Plan, selection: Selection, options: GeneratorOptions) -> Rendering:
        """``.rules.v4`` and ``.rules.v6`` per enforcement point; ``.ipset`` and ``.flows``
        when needed."""
        files: list[RenderedFile] = []
        summaries = []
        for c in consolidated_points(plan, selection, options, "other"):
            slug = c.point.slug
            sets = _Ipsets()
            files.append(RenderedFile(f"{slug}.rules.v4", render_point(plan, c, 4, sets)))
            files.append(RenderedFile(f"{slug}.rules.v6", render_point(plan, c, 6, sets)))
            if sets.used:
                files.append(RenderedFile(f"{slug}.ipset", sets.text(c.point.name, slug)))
            files += c.files()
            summaries.append(c.summary("iptables"))
        return Rendering(
            tuple(files), tuple(summaries), skipped_hosts(plan, selection, options, "other")
        )
