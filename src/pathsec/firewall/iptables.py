"""iptables: ``iptables-restore`` and ``ip6tables-restore`` files per enforcement point.

Same semantics as the nftables target: the filter table, FORWARD (network firewall) or
INPUT (host firewall) with policy DROP, conntrack ESTABLISHED,RELATED accepted, one
``-j ACCEPT`` per flow, protocol and family, commented with the catalog path and flow.
Both files are always written, so IPv6 is closed even where the plan has no IPv6 flow.
"""

from __future__ import annotations

from typing import Literal

from pathsec.firewall.interface import (
    Capabilities,
    FirewallError,
    Generator,
    GeneratorOptions,
    RenderedFile,
    Selection,
    Target,
)
from pathsec.firewall.rules import (
    EnforcementPoint,
    FlowRule,
    enforcement_points,
    header_lines,
)
from pathsec.plan.models import Plan
from pathsec.quoting import QuotingError, ipt_comment, ipt_comment_arg, ipt_ifname, ipt_token

ND_TYPES = ("neighbour-solicitation", "neighbour-advertisement", "router-advertisement")
#: iptables-restore reads lines into a 10,240-byte buffer and parses the rest of a longer
#: line as a line of its own: pathsec never writes one that long.
LINE_MAX = 10_000


def _token(rule: FlowRule, text: str, ifname: bool = False) -> str:
    try:
        return ipt_ifname(text) if ifname else ipt_token(text)
    except QuotingError as exc:
        raise FirewallError(f"flow {rule.flow.id}: {exc}; use --target aerleon") from None


def rule_lines(rule: FlowRule, chain: str, family: Literal[4, 6]) -> list[str]:
    """The ``-A`` lines of one rule for one family (none when the flow lacks that family).

    Every token is plain (:func:`~pathsec.quoting.ipt_token`, interface names Linux names)
    and the comment is quoted by :func:`~pathsec.quoting.ipt_comment_arg`.
    """
    fm = rule.family(family)
    if fm is None:
        return []
    parts = [f"-A {chain}"]
    if rule.in_interface:
        parts.append(f"-i {_token(rule, rule.in_interface, ifname=True)}")
    if rule.out_interface:
        parts.append(f"-o {_token(rule, rule.out_interface, ifname=True)}")
    parts.append("-s " + _token(rule, ",".join(fm.source_texts)))
    parts.append("-d " + _token(rule, ",".join(fm.destination_texts)))
    port = str(rule.ports.start)
    if rule.ports.end != rule.ports.start:
        port += f":{rule.ports.end}"
    parts.append(f"-p {rule.protocol} -m {rule.protocol} --dport {port}")
    parts.append(f"-m comment --comment {ipt_comment_arg(rule.comment)} -j ACCEPT")
    line = " ".join(parts)
    if len(line.encode("utf-8")) >= LINE_MAX:
        raise FirewallError(
            f"flow {rule.flow.id}: its rule is {len(line)} characters, longer than "
            f"iptables-restore reads as one line ({LINE_MAX}); give its hosts fewer addresses"
        )
    return [ipt_comment(rule.comment), line]


def render_point(plan: Plan, point: EnforcementPoint, family: Literal[4, 6]) -> str:
    """The restore file of one enforcement point for one family."""
    tool = "iptables-restore" if family == 4 else "ip6tables-restore"
    ext = "v4" if family == 4 else "v6"
    network = point.kind == "network"
    chain = "FORWARD" if network else "INPUT"
    out = [
        *header_lines(plan, point, ipt_comment),
        ipt_comment(f"Load: {tool} < {point.slug}.rules.{ext}"),
        ipt_comment("Replaces the whole filter table of this machine."),
    ]
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
    for rule in point.rules:
        out += rule_lines(rule, chain, family)
    out += ["COMMIT", ""]
    return "\n".join(out)


class IptablesGenerator(Generator):
    """iptables-restore / ip6tables-restore files."""

    target = Target.iptables
    capabilities = Capabilities(
        network_firewalls=True,
        host_firewalls=True,
        description="filter table; FORWARD per network firewall, INPUT per host; v4 and v6",
    )

    def render(
        self, plan: Plan, selection: Selection, options: GeneratorOptions
    ) -> tuple[RenderedFile, ...]:
        """Two files per enforcement point: ``.rules.v4`` and ``.rules.v6``."""
        files: list[RenderedFile] = []
        for p in enforcement_points(plan, selection, options):
            files.append(RenderedFile(f"{p.slug}.rules.v4", render_point(plan, p, 4)))
            files.append(RenderedFile(f"{p.slug}.rules.v6", render_point(plan, p, 6)))
        return tuple(files)
