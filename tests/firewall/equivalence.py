"""The accepted packet space of firewall rules, by interval arithmetic, to prove consolidation.

A rule accepts a box: source address interval x destination address interval x port
interval, for one (address family, protocol, in-interface, out-interface). A ruleset
accepts the union of its boxes. :func:`canonical` reduces a union of boxes to a normal
form (source segments, each with its destination segments, each with its merged port
intervals; equal neighbours joined), so two rulesets accept the same packets exactly when
their normal forms are equal, whatever their rules look like.

The per-flow side comes from ``rules.py``'s :class:`FlowRule` (one rule per flow and
protocol, as pathsec wrote before consolidation); the consolidated side is parsed back
from the nftables and iptables text pathsec writes (sets and ipsets resolved), so the
proof covers the renderers too. A statement the parsers do not know fails the proof.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
import shlex
from collections.abc import Iterable, Sequence

from pathsec.firewall.consolidate import Rule
from pathsec.firewall.rules import FlowRule

Box = tuple[int, int, int, int, int, int]  # s0, s1, d0, d1, p0, p1 (inclusive)
Key = tuple[int, str, str | None, str | None]  # family, protocol, in-, out-interface
Space = dict[Key, list[Box]]


class ProofError(AssertionError):
    """A statement the proof cannot account for, or two spaces that differ."""


def interval(text: str) -> tuple[int, int, int]:
    """(family, first, last) of an address or network written in a rule."""
    net = ipaddress.ip_network(text, strict=True)
    return net.version, int(net.network_address), int(net.broadcast_address)


def port_interval(text: str, sep: str = "-") -> tuple[int, int]:
    """``25`` or ``6000-6999`` as an inclusive interval."""
    a, _, b = text.partition(sep)
    return int(a), int(b or a)


def _add(
    space: Space,
    key: Key,
    srcs: Iterable[tuple[int, int]],
    dsts: Sequence[tuple[int, int]],
    ports: Sequence[tuple[int, int]],
) -> None:
    boxes = space.setdefault(key, [])
    for s0, s1 in srcs:
        for d0, d1 in dsts:
            for p0, p1 in ports:
                boxes.append((s0, s1, d0, d1, p0, p1))


def flow_rule_space(rules: Iterable[FlowRule]) -> Space:
    """What the per-flow rules accept."""
    space: Space = {}
    for r in rules:
        for fm in r.families:
            key: Key = (fm.family, r.protocol, r.in_interface, r.out_interface)
            srcs = [interval(t)[1:] for t in fm.source_texts]
            dsts = [interval(t)[1:] for t in fm.destination_texts]
            _add(space, key, srcs, dsts, [(r.ports.start, r.ports.end)])
    return space


def model_space(rules: Iterable[Rule]) -> Space:
    """What the consolidated rules (the model, before rendering) accept."""
    space: Space = {}
    for r in rules:
        for fam, srcs, dsts in r.families():
            key: Key = (fam, r.protocol, r.in_interface, r.out_interface)
            s = [(int(n.network_address), int(n.broadcast_address)) for n in srcs]
            d = [(int(n.network_address), int(n.broadcast_address)) for n in dsts]
            _add(space, key, s, d, list(r.ports))
    return space


# --- nftables ------------------------------------------------------------------------------

_NFT_RULE = re.compile(
    r'^(?:iifname "(?P<iif>[^"]+)" )?(?:oifname "(?P<oif>[^"]+)" )?'
    r"(?P<ip>ip6?) saddr (?P<src>\S+) (?P=ip) daddr (?P<dst>\S+|\{ [^}]* \}) "
    r"(?P<proto>tcp|udp) dport (?P<ports>\{ [^}]* \}|\S+) accept comment \"[^\"]*\"$"
)
_NFT_FIXED = (
    re.compile(r"^type filter hook (input|forward) priority filter; policy drop;$"),
    re.compile(r"^ct state established,related accept$"),
    re.compile(r"^ct state invalid drop$"),
    re.compile(r'^iifname "lo" accept$'),
    re.compile(
        r"^icmpv6 type \{ nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert \} "
        r"ip6 hoplimit 255 accept$"
    ),
)


def _items(text: str) -> list[str]:
    text = text.strip()
    if text.startswith("{"):
        text = text.strip("{} ")
    return [t.strip() for t in text.split(",") if t.strip()]


def nft_space(text: str) -> Space:
    """What the accept rules of one pathsec nft file accept (named sets resolved)."""
    sets: dict[str, list[tuple[int, int]]] = {}
    space: Space = {}
    lines = [ln.strip() for ln in text.splitlines()]
    i = 0
    in_chain = False
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^set (\S+) \{$", line)
        if m:
            body = []
            while lines[i] != "}":
                body.append(lines[i])
                i += 1
            i += 1
            joined = " ".join(body)
            em = re.search(r"elements = \{(.*)\}", joined)
            if em is None:
                raise ProofError(f"set {m.group(1)} without elements")
            sets[m.group(1)] = [interval(t)[1:] for t in _items(em.group(1))]
            continue
        if re.match(r"^chain (input|forward) \{$", line):
            in_chain = True
            continue
        if not in_chain or line == "}":
            continue
        if any(p.match(line) for p in _NFT_FIXED):
            continue
        rm = _NFT_RULE.match(line)
        if rm is None:
            raise ProofError(f"nft statement the proof does not know: {line!r}")
        fam = 4 if rm["ip"] == "ip" else 6

        def side(token: str) -> list[tuple[int, int]]:
            if token.startswith("@"):
                return sets[token[1:]]
            return [interval(t)[1:] for t in _items(token)]

        ports = [port_interval(t) for t in _items(rm["ports"])]
        _add(
            space, (fam, rm["proto"], rm["iif"], rm["oif"]), side(rm["src"]), side(rm["dst"]), ports
        )
    return space


# --- iptables ------------------------------------------------------------------------------


def ipset_contents(text: str) -> dict[str, list[tuple[int, int]]]:
    """The ``add`` lines of an ``ipset restore`` file, by set."""
    sets: dict[str, list[tuple[int, int]]] = {}
    for line in text.splitlines():
        parts = line.split()
        if parts[:1] == ["create"]:
            sets[parts[1]] = []
        elif parts[:1] == ["add"]:
            sets[parts[1]].append(interval(parts[2])[1:])
    return sets


def ipt_space(text: str, family: int, ipsets: dict[str, list[tuple[int, int]]]) -> Space:
    """What the ``-j ACCEPT`` rules of one restore file accept (ipsets resolved)."""
    space: Space = {}
    for line in text.splitlines():
        if not line.startswith("-A "):
            continue
        if "--ctstate" in line or line.endswith("-i lo -j ACCEPT") or "ipv6-icmp" in line:
            continue
        tok = shlex.split(line)
        opts: dict[str, str] = {}
        srcs: list[tuple[int, int]] | None = None
        dsts: list[tuple[int, int]] | None = None
        k = 2
        while k < len(tok):
            t = tok[k]
            if t == "--match-set":
                members = ipsets[tok[k + 1]]
                if tok[k + 2] == "src":
                    srcs = members
                else:
                    dsts = members
                k += 3
            elif t in ("-i", "-o", "-p", "-m", "--dport", "--dports", "--comment", "-j"):
                if t == "-m":
                    k += 2
                    continue
                opts[t] = tok[k + 1]
                k += 2
            elif t in ("-s", "-d"):
                ivs = [interval(a)[1:] for a in tok[k + 1].split(",")]
                if t == "-s":
                    srcs = ivs
                else:
                    dsts = ivs
                k += 2
            else:
                raise ProofError(f"iptables option the proof does not know: {t!r} in {line!r}")
        if opts.get("-j") != "ACCEPT" or srcs is None or dsts is None:
            raise ProofError(f"iptables rule the proof does not know: {line!r}")
        if "--dports" in opts:
            ports = [port_interval(p, ":") for p in opts["--dports"].split(",")]
        else:
            ports = [port_interval(opts["--dport"], ":")]
        key: Key = (family, opts["-p"], opts.get("-i"), opts.get("-o"))
        _add(space, key, srcs, dsts, ports)
    return space


# --- normal form ---------------------------------------------------------------------------


def _merge1(ivs: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(ivs):
        if out and a <= out[-1][1] + 1:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return tuple(out)


def _segments(
    items: list[tuple[int, int, object]],
) -> tuple[list[int], list[list[object]]]:
    bounds = sorted({a for a, _, _ in items} | {b + 1 for _, b, _ in items})
    cells: list[list[object]] = [[] for _ in range(len(bounds) - 1)]
    for a, b, payload in items:
        for i in range(bisect.bisect_left(bounds, a), bisect.bisect_left(bounds, b + 1)):
            cells[i].append(payload)
    return bounds, cells


def _join(bounds: list[int], forms: list[object]) -> tuple[tuple[int, int, object], ...]:
    out: list[tuple[int, int, object]] = []
    for i, form in enumerate(forms):
        if not form:
            continue
        a, b = bounds[i], bounds[i + 1] - 1
        if out and out[-1][2] == form and out[-1][1] + 1 == a:
            out[-1] = (out[-1][0], b, form)
        else:
            out.append((a, b, form))
    return tuple(out)


def _canonical2(rects: list[object]) -> object:
    items = [(r[0], r[1], (r[2], r[3])) for r in rects]  # type: ignore[index]
    bounds, cells = _segments(items)  # type: ignore[arg-type]
    return _join(bounds, [_merge1(c) for c in cells])  # type: ignore[arg-type]


def canonical(boxes: list[Box]) -> object:
    """The normal form of a union of boxes (equal for equal unions)."""
    if not boxes:
        return ()
    items = [(b[0], b[1], (b[2], b[3], b[4], b[5])) for b in boxes]
    bounds, cells = _segments(items)  # type: ignore[arg-type]
    memo: dict[tuple[object, ...], object] = {}
    forms = []
    for cell in cells:
        key = tuple(sorted(cell))  # type: ignore[type-var]
        form = memo.get(key)
        if form is None:
            form = memo[key] = _canonical2(list(key))
        forms.append(form)
    return _join(bounds, forms)


def assert_same(expected: Space, got: Space, where: str) -> None:
    """Raise :class:`ProofError` naming the first (family, protocol, interfaces) that differs."""
    for key in sorted(set(expected) | set(got), key=str):
        a = canonical(expected.get(key, []))
        b = canonical(got.get(key, []))
        if a != b:
            raise ProofError(
                f"{where}: family {key[0]} {key[1]} iif={key[2]} oif={key[3]}: the consolidated "
                f"rules accept a different set\n per-flow:     {str(a)[:400]}\n consolidated: "
                f"{str(b)[:400]}"
            )
