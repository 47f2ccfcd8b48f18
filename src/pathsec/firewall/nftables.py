"""nftables: one ``table inet pathsec`` per enforcement point, with consolidated rules.

Network firewalls get a ``forward`` chain, host firewalls an ``input`` chain; both drop by
default, accept established/related traffic and accept the planned flows, consolidated
(:mod:`pathsec.firewall.consolidate`): one rule per address family for each product of
sources, destinations, protocol and ports. An address side of two or more networks is a
named set (``@hub_transport_HQ_v4``, declared once per table, named after roles and hosts),
ports an anonymous set (``tcp dport { 25, 587 }``). The file replaces only the ``pathsec``
table.
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
from pathsec.quoting import QuotingError, nft_comment, nft_ifname, nft_string

ELEMENTS_PER_LINE = 8
#: An address side of at least this many networks is a named set; fewer stand inline.
NAMED_SET_MIN = 2


def _ifname(rule: Rule, name: str) -> str:
    try:
        return nft_ifname(name)
    except QuotingError as exc:
        raise FirewallError(f"flow {rule.flows[0].flow.id}: {exc}; use --target aerleon") from None


class _Sets:
    """The named sets of one table: declared once, in order of first use."""

    def __init__(self) -> None:
        self.decl: dict[str, tuple[HostSet, Literal[4, 6]]] = {}

    def ref(self, hs: HostSet, family: Literal[4, 6]) -> str:
        nets = hs.family(family)
        if len(nets) < NAMED_SET_MIN:
            return address_text(nets[0])
        name = f"{hs.name}_v{family}"
        self.decl.setdefault(name, (hs, family))
        return f"@{name}"

    def lines(self) -> list[str]:
        out: list[str] = []
        for name, (hs, family) in self.decl.items():
            texts = hs.texts(family)
            shown = ", ".join(hs.hosts[:ELEMENTS_PER_LINE])
            more = f" and {len(hs.hosts) - ELEMENTS_PER_LINE} more" if len(hs.hosts) > 8 else ""
            out.append("\t" + nft_comment(f"{hs.name}: {shown}{more}"))
            out.append(f"\tset {name} {{")
            out.append(f"\t\ttype {'ipv4_addr' if family == 4 else 'ipv6_addr'}")
            out.append("\t\tflags interval")
            chunks = [
                ", ".join(texts[i : i + ELEMENTS_PER_LINE])
                for i in range(0, len(texts), ELEMENTS_PER_LINE)
            ]
            out.append("\t\telements = { " + ",\n\t\t\t     ".join(chunks) + " }")
            out.append("\t}")
        return out


def rule_lines(c: Consolidated, rule: Rule, sets: _Sets) -> list[str]:
    """The nft statements of one consolidated rule: one line per address family.

    Addresses, protocols and ports come from validated types and set names are
    identifiers; interface names must be Linux names (:func:`~pathsec.quoting.nft_ifname`);
    comments go through :func:`~pathsec.quoting.nft_string` and
    :func:`~pathsec.quoting.nft_comment`.
    """
    lines = [nft_comment(line) for line in c.flow_lines(rule)]
    ports = rule.port_texts()
    dport = ports[0] if len(ports) == 1 else "{ " + ", ".join(ports) + " }"
    for family, _, _ in rule.families():
        ip = "ip" if family == 4 else "ip6"
        parts: list[str] = []
        if rule.in_interface:
            parts.append(f"iifname {_ifname(rule, rule.in_interface)}")
        if rule.out_interface:
            parts.append(f"oifname {_ifname(rule, rule.out_interface)}")
        parts.append(f"{ip} saddr {sets.ref(rule.sources, family)}")
        parts.append(f"{ip} daddr {sets.ref(rule.destinations, family)}")
        parts.append(f"{rule.protocol} dport {dport}")
        parts.append(f"accept comment {nft_string(c.comment(rule))}")
        lines.append(" ".join(parts))
    return lines


def render_point(plan: Plan, c: Consolidated) -> str:
    """The nft file of one enforcement point."""
    point = c.point
    chain, hook = ("forward", "forward") if point.kind == "network" else ("input", "input")
    out = [*header_lines(plan, point, nft_comment), nft_comment(c.headline())]
    out += [nft_comment(f"Load: nft -f {point.slug}.nft"), ""]
    out += ["table inet pathsec", "delete table inet pathsec", "", "table inet pathsec {"]
    sets = _Sets()
    body: list[str] = []
    for rule in c.rules:
        body += [f"\t\t{line}" for line in rule_lines(c, rule, sets)]
    out += sets.lines()
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
    out += body
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

    def render(self, plan: Plan, selection: Selection, options: GeneratorOptions) -> Rendering:
        """One ``.nft`` file per enforcement point (and its ``.flows`` side file)."""
        files: list[RenderedFile] = []
        summaries = []
        for c in consolidated_points(plan, selection, options, "other"):
            files.append(RenderedFile(f"{c.point.slug}.nft", render_point(plan, c)))
            files += c.files()
            summaries.append(c.summary("nftables"))
        return Rendering(
            tuple(files), tuple(summaries), skipped_hosts(plan, selection, options, "other")
        )
