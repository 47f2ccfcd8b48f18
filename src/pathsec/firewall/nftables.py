"""nftables: one ``table inet pathsec`` per enforcement point.

Network firewalls get a ``forward`` chain, host firewalls an ``input`` chain; both drop by
default, accept established/related traffic and accept each planned flow with one rule
per address family and protocol. The file replaces only the ``pathsec`` table.
"""

from __future__ import annotations

from collections.abc import Sequence

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
from pathsec.quoting import QuotingError, nft_comment, nft_ifname, nft_string


def _set(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else "{ " + ", ".join(items) + " }"


def _ifname(rule: FlowRule, name: str) -> str:
    try:
        return nft_ifname(name)
    except QuotingError as exc:
        raise FirewallError(f"flow {rule.flow.id}: {exc}; use --target aerleon") from None


def rule_lines(rule: FlowRule) -> list[str]:
    """The nft statements of one rule: one line per address family.

    Addresses, protocols and ports come from validated types; interface names must be
    Linux names (:func:`~pathsec.quoting.nft_ifname`); comments are quoted by
    :func:`~pathsec.quoting.nft_string` and :func:`~pathsec.quoting.nft_comment`.
    """
    lines = [nft_comment(rule.comment)]
    for fm in rule.families:
        ip = "ip" if fm.family == 4 else "ip6"
        parts: list[str] = []
        if rule.in_interface:
            parts.append(f"iifname {_ifname(rule, rule.in_interface)}")
        if rule.out_interface:
            parts.append(f"oifname {_ifname(rule, rule.out_interface)}")
        parts.append(f"{ip} saddr {_set(fm.source_texts)}")
        parts.append(f"{ip} daddr {_set(fm.destination_texts)}")
        parts.append(f"{rule.protocol} dport {rule.ports}")
        parts.append(f"accept comment {nft_string(rule.comment)}")
        lines.append(" ".join(parts))
    return lines


def render_point(plan: Plan, point: EnforcementPoint) -> str:
    """The nft file of one enforcement point."""
    chain, hook = ("forward", "forward") if point.kind == "network" else ("input", "input")
    out = [*header_lines(plan, point, nft_comment), nft_comment(f"Load: nft -f {point.slug}.nft")]
    out.append("")
    out += ["table inet pathsec", "delete table inet pathsec", "", "table inet pathsec {"]
    out.append(f"\tchain {chain} {{")
    out.append(f"\t\ttype filter hook {hook} priority filter; policy drop;")
    out.append("\t\tct state established,related accept")
    out.append("\t\tct state invalid drop")
    if point.kind == "host":
        out.append('\t\tiifname "lo" accept')
        out.append(
            "\t\t"
            + nft_comment("IPv6 neighbour discovery (RFC 4890); without it IPv6 stops working")
        )
        out.append(
            "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert }"
            " ip6 hoplimit 255 accept"
        )
    for rule in point.rules:
        out += [f"\t\t{line}" for line in rule_lines(rule)]
    out += ["\t}", "}", ""]
    return "\n".join(out)


class NftablesGenerator(Generator):
    """nftables rulesets for network firewalls (forward) and host firewalls (input)."""

    target = Target.nftables
    capabilities = Capabilities(
        network_firewalls=True,
        host_firewalls=True,
        description="inet table; forward chain per network firewall, input chain per host",
    )

    def render(
        self, plan: Plan, selection: Selection, options: GeneratorOptions
    ) -> tuple[RenderedFile, ...]:
        """One ``.nft`` file per enforcement point."""
        return tuple(
            RenderedFile(f"{p.slug}.nft", render_point(plan, p))
            for p in enforcement_points(plan, selection, options)
        )
