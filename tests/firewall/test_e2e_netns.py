"""End to end on a real network: examples as network namespaces.

One namespace per host and per client population, one switch namespace (a bridge) per
zone, one router namespace per network firewall with the generated nftables forward
ruleset (or iptables-restore files); hosts with a host firewall load their input ruleset.
Listeners answer on every planned destination port (TCP and UDP; for ranges both ends and
the middle); from each source namespace every planned flow must connect, and unplanned
flows must be dropped (time out) although a listener is there. A publisher (reverse
proxy) runs a relay to its Client Access server, and a client reads the CAS's greeting
through it. Addresses: 10.213.x.x and fd00:213::/64 only, inside the namespaces this test
creates and deletes.
"""

from __future__ import annotations

import ipaddress
import json
import os
import select
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from firewall.conftest import REPO, example_plan, need, options_for
from pathsec.firewall import Selection, Target, generate
from pathsec.firewall import iptables as ipt_module
from pathsec.firewall import nftables as nft_module
from pathsec.plan.models import HostKind, Plan

pytestmark = pytest.mark.root

SMALL = REPO / "examples" / "small.yaml"
TIMEOUT = 1.5  # seconds an unplanned probe waits before it counts as dropped
PLANNED_TIMEOUT = 5.0  # a planned probe may need neighbour discovery on two routers first

LISTENER = r"""
import json, selectors, socket, sys, time
sel = selectors.DefaultSelector()
for proto, port in json.loads(sys.argv[1]):
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET6, kind)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
    if proto == "tcp":
        s.listen(64)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, proto)
print("ready", flush=True)
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    for key, _ in sel.select(timeout=1):
        try:
            if key.data == "tcp":
                conn, _ = key.fileobj.accept()
                conn.settimeout(1)
                try:
                    conn.sendall(b"hello from " + sys.argv[2].encode() + b"\n")
                finally:
                    conn.close()
            else:
                _, addr = key.fileobj.recvfrom(512)
                key.fileobj.sendto(b"pong", addr)
        except OSError:
            pass
"""

CLIENT = r"""
import json, socket, sys
from concurrent.futures import ThreadPoolExecutor
def probe(check):
    proto, addr, port, timeout = check
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    try:
        if proto == "tcp":
            with socket.socket(fam, socket.SOCK_STREAM) as s:
                s.settimeout(timeout)
                s.connect((addr, port))
            return "open"
        with socket.socket(fam, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.connect((addr, port))
            s.send(b"ping")
            return "open" if s.recv(512) == b"pong" else "garbled"
    except ConnectionRefusedError:
        return "refused"
    except (socket.timeout, TimeoutError):
        return "timeout"
    except OSError as exc:
        return f"error: {exc}"
checks = json.loads(sys.argv[1])
with ThreadPoolExecutor(max_workers=64) as pool:
    print(json.dumps(list(pool.map(probe, [tuple(c) for c in checks]))))
"""

RELAY = r"""
import json, socket, sys, threading, time
ports, target = json.loads(sys.argv[1]), sys.argv[2]
def relay(conn, port):
    try:
        with conn, socket.create_connection((target, port), timeout=5) as up:
            up.settimeout(5)
            conn.sendall(b"via proxy: " + up.recv(512))
    except OSError:
        pass
def serve(srv, port):
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=relay, args=(conn, port), daemon=True).start()
for port in ports:
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(64)
    threading.Thread(target=serve, args=(srv, port), daemon=True).start()
print("ready", flush=True)
time.sleep(120)
"""

FETCH = r"""
import socket, sys
with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) as s:
    s.settimeout(5)
    data = b""
    while chunk := s.recv(512):
        data += chunk
print(data.decode(errors="replace").strip())
"""


@dataclass(frozen=True)
class Case:
    """An example and what the test asserts on it."""

    #: Servers that run their host firewall in the test.
    host_firewalls: frozenset[str]
    #: Unplanned flows that must be dropped: (source, destination, protocol, port, why).
    blocked: tuple[tuple[str, str, str, int, str], ...]
    #: Planned flows the test must have checked: (source, destination, protocol, port).
    must_check: tuple[tuple[str, str, str, int], ...] = ()
    #: Publisher -> Client Access server it relays to, and the clients that read through it.
    relays: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    min_planned: int = 20
    budget: float = 60.0


CASES = {
    # Only the DC runs its host firewall: EX1 and EDGE1 are then protected by the network
    # firewalls alone, so the router rulesets are proven on their own (internet -> EX1,
    # internet -> EDGE1, EX1 -> EDGE1) and the host ruleset on its own (EX1 -> DC1 within
    # the internal zone).
    "small": Case(
        host_firewalls=frozenset({"DC1"}),
        blocked=(
            ("internet-users", "EX1", "tcp", 25, "internet -> Hub 25"),
            ("internet-users", "EX1", "tcp", 135, "internet -> Mailbox 135"),
            ("internet-users", "EDGE1", "tcp", 50636, "internet -> Edge 50636 (EdgeSync)"),
            ("EDGE1", "DC1", "tcp", 3268, "perimeter -> domain controller 3268"),
            ("EDGE1", "DC1", "tcp", 389, "perimeter -> domain controller 389"),
            ("phones", "EX1", "tcp", 25, "internet phones -> Hub 25"),
            ("EX1", "DC1", "udp", 3268, "UDP where the reference says TCP only"),
            ("EX1", "DC1", "tcp", 5001, "just above the DC's RPC range 1025-5000"),
            ("EX1", "DC1", "tcp", 1024, "just below the DC's RPC range"),
            ("EX1", "DC1", "tcp", 25, "same zone, no planned flow: host firewall of DC1"),
            ("EX1", "EDGE1", "tcp", 443, "internal -> Edge 443"),
        ),
    ),
    # The two-site organisation published to the internet: internet mail through the
    # Edge, Client Access through rp1, certificate checks outbound only, the branch CAS
    # served by CAS-to-CAS proxying; BR-EX1 runs its host firewall (KB 154596 range).
    "internet-facing": Case(
        host_firewalls=frozenset({"BR-EX1"}),
        blocked=(
            ("fabrikam", "EDGE1", "tcp", 80, "partner -> Edge 80: CRL checks go out only"),
            ("fabrikam", "EDGE1", "tcp", 389, "partner -> Edge 389: CRL checks go out only"),
            ("fabrikam", "EDGE1", "udp", 389, "partner -> Edge 389/udp"),
            ("internet-mail", "EDGE1", "tcp", 80, "internet -> Edge 80"),
            ("internet-mail", "EDGE1", "tcp", 50636, "internet -> Edge EdgeSync"),
            ("internet-users", "HQ-UM1", "tcp", 443, "internet -> UM server (web service: CAS)"),
            ("internet-users", "HQ-UM1", "tcp", 80, "internet -> UM server 80"),
            ("internet-users", "BR-EX1", "tcp", 443, "internet -> CAS of non-facing Branch"),
            ("phones", "BR-EX1", "tcp", 443, "phones -> CAS of non-facing Branch"),
            ("internet-users", "HQ-HC1", "tcp", 443, "internet -> CAS directly, not via rp1"),
            ("internet-users", "HQ-HC1", "tcp", 25, "internet -> Hub 25 (mail: via the Edge)"),
            ("phones", "rp1", "tcp", 80, "ActiveSync over HTTP 80: exception, unpublished"),
            ("HQ-HC1", "EDGE1", "tcp", 50389, "EdgeSync without SSL: exception"),
            ("EDGE1", "HQ-DC1", "tcp", 389, "perimeter -> domain controller"),
            ("rp1", "HQ-MBX1", "tcp", 135, "reverse proxy -> Mailbox"),
            ("rp1", "BR-EX1", "tcp", 443, "reverse proxy -> CAS it does not publish"),
            ("HQ-EX2003", "BR-EX1", "tcp", 7000, "above BR-EX1's RPC range (host firewall)"),
            ("PBX1", "HQ-UM1", "tcp", 5060, "SIP without TLS to a TLS-only UM server"),
        ),
        must_check=(
            ("internet-mail", "EDGE1", "tcp", 25),  # mail in
            ("EDGE1", "internet-mail", "tcp", 25),  # mail out
            ("EDGE1", "dns-resolvers", "udp", 53),  # MX lookups
            ("EDGE1", "crl-endpoints", "tcp", 80),  # certificate revocation, outbound
            ("internet-users", "rp1", "tcp", 443),  # publishing
            ("rp1", "HQ-HC1", "tcp", 443),
            ("HQ-HC1", "BR-EX1", "tcp", 443),  # CAS-to-CAS proxying to the branch
        ),
        relays=(("rp1", "HQ-HC1", ("internet-users", "phones")),),
        min_planned=150,
        budget=150.0,
    ),
}


def sh(*args: str) -> None:
    res = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, f"{' '.join(args)}: {res.stderr.strip()}"


@dataclass
class Lab:
    """Namespaces of one test run and what runs in them."""

    prefix: str
    namespaces: list[str] = field(default_factory=list)
    pids: list[subprocess.Popen[str]] = field(default_factory=list)
    host_ns: dict[str, str] = field(default_factory=dict)

    def add_ns(self, tag: str) -> str:
        name = f"{self.prefix}-{tag}"
        sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        sh("ip", "-n", name, "link", "set", "lo", "up")
        return name

    def close(self) -> None:
        for proc in self.pids:
            proc.kill()
            proc.wait(timeout=10)
        for name in self.namespaces:
            subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


def _v4(zone: int, host: int) -> str:
    return f"10.213.{zone}.{host}"


def _v6(zone: int, host: int) -> str:
    return f"fd00:213::{zone:x}:{host:x}"


def relocate(
    plan: Plan, host_firewalls: frozenset[str] = frozenset({"DC1"})
) -> tuple[Plan, dict[str, tuple[str, ...]]]:
    """The plan with namespace addresses and host firewalls on ``host_firewalls``; and each
    host's interface addresses (one per family it has)."""
    zone_idx = {z.name: i for i, z in enumerate(plan.zones, start=1)}
    zones = tuple(
        z.model_copy(
            update={
                "cidrs": (
                    f"10.213.{zone_idx[z.name]}.0/24",
                    f"fd00:213::{zone_idx[z.name]:x}:0/112",
                )
            }
        )
        for z in plan.zones
    )
    hosts, ifaddrs, counter = [], {}, dict.fromkeys(zone_idx, 0)
    for h in plan.hosts:
        zi = zone_idx[h.zone]
        k = counter[h.zone]
        counter[h.zone] += 1
        has_v6 = any(":" in a for a in h.addresses)
        if h.kind is HostKind.server:
            addrs = (_v4(zi, 10 + k), _v6(zi, 10 + k))
            ifaddrs[h.name] = addrs
            update = {"addresses": addrs, "host_firewall": h.name in host_firewalls}
        else:  # a population: its own /28 (/124), the namespace uses its first address
            base = 128 + 16 * k
            addrs = (f"{_v4(zi, base)}/28",) + ((f"{_v6(zi, base)}/124",) if has_v6 else ())
            ifaddrs[h.name] = (_v4(zi, base + 1),) + ((_v6(zi, base + 1),) if has_v6 else ())
            update = {"addresses": addrs}
        hosts.append(h.model_copy(update=update))
    return plan.model_copy(update={"zones": zones, "hosts": tuple(hosts)}), ifaddrs


def _next_hops(plan: Plan) -> dict[tuple[str, str], tuple[str, str]]:
    """(from zone, to zone) -> (firewall, the zone of that firewall facing from zone)."""
    hops = {}
    for start in (z.name for z in plan.zones):
        seen = {start: None}
        queue = deque([start])
        while queue:
            z = queue.popleft()
            for fw in plan.firewalls:
                if z not in fw.zones:
                    continue
                for nxt in fw.zones:
                    if nxt not in seen:
                        seen[nxt] = fw.name if z == start else seen[z]
                        queue.append(nxt)
        for target, fw in seen.items():
            if fw is not None:
                hops[(start, target)] = (fw, start)
    return hops


def build(
    lab: Lab, plan: Plan, ifaddrs: dict[str, tuple[str, ...]], rules: Path, target: Target
) -> None:
    zone_idx = {z.name: i for i, z in enumerate(plan.zones, start=1)}
    fw_idx = {f.name: n for n, f in enumerate(plan.firewalls, start=1)}
    switch = {}
    for z, i in zone_idx.items():
        sw = switch[z] = lab.add_ns(f"sw{i}")
        sh("ip", "-n", sw, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", sw, "link", "set", "br0", "up")
    for j, h in enumerate(plan.hosts, start=1):
        ns = lab.host_ns[h.name] = lab.add_ns(f"h{j}")
        sw = switch[h.zone]
        sh(
            "ip",
            "link",
            "add",
            "eth0",
            "netns",
            ns,
            "type",
            "veth",
            "peer",
            "name",
            f"p{j}",
            "netns",
            sw,
        )
        sh("ip", "-n", sw, "link", "set", f"p{j}", "master", "br0", "up")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        for a in ifaddrs[h.name]:
            plen = "112" if ":" in a else "24"
            extra = ["nodad"] if ":" in a else []
            sh("ip", "-n", ns, "addr", "add", f"{a}/{plen}", "dev", "eth0", *extra)
    routers = {}
    for fw in plan.firewalls:
        n = fw_idx[fw.name]
        r = routers[fw.name] = lab.add_ns(f"r{n}")
        sh("ip", "netns", "exec", r, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        sh("ip", "netns", "exec", r, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
        for z in fw.zones:
            i, itf, sw = zone_idx[z], fw.interfaces.get(z, f"z{zone_idx[z]}"), switch[z]
            sh(
                "ip",
                "link",
                "add",
                itf,
                "netns",
                r,
                "type",
                "veth",
                "peer",
                "name",
                f"r{n}",
                "netns",
                sw,
            )
            sh("ip", "-n", sw, "link", "set", f"r{n}", "master", "br0", "up")
            sh("ip", "-n", r, "link", "set", itf, "up")
            sh("ip", "-n", r, "addr", "add", f"{_v4(i, n)}/24", "dev", itf)
            sh("ip", "-n", r, "addr", "add", f"{_v6(i, n)}/112", "dev", itf, "nodad")
    hops = _next_hops(plan)

    def route(ns: str, own_zones: list[str], target: str, v6: bool = True, me: str = "") -> None:
        candidates = [
            (z, hops[(z, target)])
            for z in own_zones
            if (z, target) in hops and hops[(z, target)][0] != me
        ]
        if not candidates:
            return
        _, (fw, via_zone) = candidates[0]
        n, i, t = fw_idx[fw], zone_idx[via_zone], zone_idx[target]
        sh("ip", "-n", ns, "route", "add", f"10.213.{t}.0/24", "via", _v4(i, n))
        if v6:
            sh("ip", "-n", ns, "-6", "route", "add", f"fd00:213::{t:x}:0/112", "via", _v6(i, n))

    for h in plan.hosts:
        for other in zone_idx:
            if other != h.zone:
                route(lab.host_ns[h.name], [h.zone], other, any(":" in a for a in ifaddrs[h.name]))
    for fw in plan.firewalls:
        for other in zone_idx:
            if other not in fw.zones:
                route(routers[fw.name], list(fw.zones), other, me=fw.name)
        load(routers[fw.name], rules, f"firewall-{fw.name}", target)
    for h in plan.hosts:
        if h.host_firewall:
            load(lab.host_ns[h.name], rules, f"host-{h.name}", target)


def load(ns: str, rules: Path, stem: str, target: Target) -> None:
    """Load the generated ruleset ``stem`` of ``target`` inside namespace ``ns``."""
    if target is Target.nftables:
        sh("ip", "netns", "exec", ns, "nft", "-f", str(rules / f"{stem}.nft"))
        return
    ipsets = rules / f"{stem}.ipset"
    if ipsets.exists():
        sh("ip", "netns", "exec", ns, "ipset", "restore", "-exist", "-file", str(ipsets))
    for tool, ext in (("iptables-restore", "v4"), ("ip6tables-restore", "v6")):
        sh("ip", "netns", "exec", ns, tool, str(rules / f"{stem}.rules.{ext}"))


def _samples(start: int, end: int) -> list[int]:
    return sorted({start, (start + end) // 2, end})


def _start(lab: Lab, name: str, script: str, *args: str) -> None:
    proc = subprocess.Popen(
        ["ip", "netns", "exec", lab.host_ns[name], sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    lab.pids.append(proc)
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 10)
    assert ready and proc.stdout.readline().strip() == "ready", f"{name}: did not start"


def start_listeners(lab: Lab, ports: dict[str, set[tuple[str, int]]]) -> None:
    for name, wanted in ports.items():
        if wanted:
            _start(lab, name, LISTENER, json.dumps(sorted(wanted)), name)


def fetch(lab: Lab, source: str, address: str, port: int) -> str:
    """What a TCP client in ``source`` reads from ``address:port`` until the server closes."""
    res = subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            lab.host_ns[source],
            sys.executable,
            "-c",
            FETCH,
            address,
            str(port),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return res.stdout.strip() or res.stderr.strip().splitlines()[-1]


def run_checks(
    lab: Lab, checks: dict[str, list[tuple[str, str, int, float]]]
) -> dict[str, list[str]]:
    procs = {
        src: subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                lab.host_ns[src],
                sys.executable,
                "-c",
                CLIENT,
                json.dumps(items),
                str(TIMEOUT),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for src, items in checks.items()
    }
    out = {}
    for src, proc in procs.items():
        stdout, _ = proc.communicate(timeout=60)
        out[src] = json.loads(stdout)
    return out


@pytest.fixture
def lab() -> Iterator[Lab]:
    need("ip")
    need("nft")
    the_lab = Lab(prefix=f"ps{os.getpid()}e2e")
    try:
        yield the_lab
    finally:
        the_lab.close()
        leftover = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        assert the_lab.prefix not in leftover


#: (example, variant): every example with consolidated nftables and iptables rules; the
#: small one also with a named set (nftables) or an ipset (iptables) for every address side.
VARIANTS = [
    *((example, variant) for example in sorted(CASES) for variant in ("nftables", "iptables")),
    ("small", "nftables-sets"),
    ("small", "iptables-ipset"),
]


@pytest.mark.parametrize(("example", "variant"), VARIANTS)
def test_example_on_namespaces(
    lab: Lab, tmp_path: Path, example: str, variant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The consolidated rules (port sets, multiport; named sets or ipsets) carry exactly
    the planned flows through real kernels."""
    case = CASES[example]
    target = Target.iptables if variant.startswith("iptables") else Target.nftables
    if target is Target.iptables:
        need("iptables-restore")
        need("ip6tables-restore")
    if variant == "nftables-sets":
        monkeypatch.setattr(nft_module, "NAMED_SET_MIN", 1)
    if variant == "iptables-ipset":
        need("ipset")
        monkeypatch.setattr(ipt_module, "IPSET_MIN", 0)
    started = time.monotonic()
    plan, ifaddrs = relocate(
        example_plan(REPO / "examples" / f"{example}.yaml"), case.host_firewalls
    )
    # the hosts' rules in the Linux format too (--host-format any): namespaces load them
    files = generate(plan, target, Selection(), options_for(plan, "any"))
    if variant == "iptables-ipset":
        assert any(f.name.endswith(".ipset") for f in files)
    if variant == "nftables-sets":
        assert any("@" in f.content for f in files if f.name.endswith(".nft"))
    for f in files:
        (tmp_path / f.name).write_text(f.content)
    build(lab, plan, ifaddrs, tmp_path, target)

    def addr_of(name: str, family: int) -> str | None:
        return next((a for a in ifaddrs[name] if ipaddress.ip_address(a).version == family), None)

    ports: dict[str, set[tuple[str, int]]] = {}
    planned: dict[str, set[tuple[str, str, int]]] = {}
    checked: set[tuple[str, str, str, int]] = set()
    for fl in plan.flows:
        if fl.local:
            continue
        span = (
            (fl.port, fl.port) if fl.port is not None else (fl.port_range.start, fl.port_range.end)
        )
        for proto in (fl.protocol,) if fl.protocol else ("tcp", "udp"):  # null: opened for both
            for port in _samples(*span):
                ports.setdefault(fl.destination, set()).add((proto, port))
                checked.add((fl.source, fl.destination, proto, port))
                for fam in (4, 6):
                    src_a, dst_a = addr_of(fl.source, fam), addr_of(fl.destination, fam)
                    if src_a and dst_a:
                        planned.setdefault(fl.source, set()).add((proto, dst_a, port))
    assert set(case.must_check) <= checked, set(case.must_check) - checked
    blocked: dict[str, set[tuple[str, str, int]]] = {}
    for src, dst, proto, port, why in case.blocked:
        assert (src, dst, proto, port) not in checked, f"{why}: planned after all"
        ports.setdefault(dst, set()).add((proto, port))
        for fam in (4, 6):
            src_a, dst_a = addr_of(src, fam), addr_of(dst, fam)
            if src_a and dst_a:
                blocked.setdefault(src, set()).add((proto, dst_a, port))
    relayed = {}
    for proxy, cas, _clients in case.relays:
        relayed[proxy] = sorted(p for proto, p in ports.get(proxy, set()) if proto == "tcp")
        ports[proxy] = {(proto, p) for proto, p in ports[proxy] if proto != "tcp"}
        addr = addr_of(cas, 4)
        assert addr is not None
        _start(lab, proxy, RELAY, json.dumps(relayed[proxy]), addr)
    # every listener answers its own host (loopback is accepted): the ports are really open
    control = {h: sorted((p, addr_of(h, 4), n) for p, n in ps) for h, ps in ports.items()}
    start_listeners(lab, ports)

    sources = sorted(set(planned) | set(blocked) | set(control))
    checks = {
        s: [(*c, PLANNED_TIMEOUT) for c in sorted(planned.get(s, ()))]
        + [(*c, TIMEOUT) for c in sorted(blocked.get(s, ()))]
        + [(*c, PLANNED_TIMEOUT) for c in control.get(s, [])]
        for s in sources
    }
    results = run_checks(lab, checks)

    failures = []
    n_planned = n_blocked = 0
    for src in sources:
        res = {tuple(c[:3]): r for c, r in zip(checks[src], results[src], strict=True)}
        for check in planned.get(src, ()):
            n_planned += 1
            if res[check] != "open":
                failures.append(f"planned {src} -> {check}: {res[check]}")
        for check in blocked.get(src, ()):
            n_blocked += 1
            if res[check] != "timeout":
                failures.append(f"unplanned {src} -> {check}: {res[check]} (want dropped)")
        for check in control.get(src, []):
            if res[check] != "open":
                failures.append(f"listener {src} {check}: {res[check]}")
    # publishing: a client reads the Client Access server's greeting through the proxy
    for proxy, cas, clients in case.relays:
        proxy_addr = addr_of(proxy, 4)
        assert proxy_addr is not None and 443 in relayed[proxy]
        for client in clients:
            got = fetch(lab, client, proxy_addr, 443)
            if got != f"via proxy: hello from {cas}":
                failures.append(f"{client} -> {proxy}:443 -> {cas}: read {got!r}")
    assert not failures, "\n".join(failures)
    assert n_planned >= case.min_planned and n_blocked >= len(case.blocked)
    assert time.monotonic() - started < case.budget
