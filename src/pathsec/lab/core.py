"""The lab: every emulated server's listeners in one asyncio process, and its files.

:class:`Lab` is an async context manager for tests and the demo; ``pathsec lab up`` runs
it in a detached process (:mod:`pathsec.lab.daemon`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import shutil
import socket
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Protocol

import yaml

from pathsec.atomic import write_atomic
from pathsec.errors import PathsecError
from pathsec.lab import dns, http, imap, kerberos, ldap, pop3, rpc, sip, smtp, tcp
from pathsec.lab.certs import CertFiles, write_certificate
from pathsec.lab.common import Identity, Unit, server_tls_context
from pathsec.lab.profiles import (
    IMPLICIT_TLS,
    SERVICE_PORTS,
    LabProfile,
    LabServer,
    Service,
    load_profile,
)


class Listener(Protocol):
    """What a service module's ``start`` returns (an :class:`asyncio.Server` or alike)."""

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        """The listening sockets."""
        ...

    def close(self) -> None:
        """Stop listening."""

    async def wait_closed(self) -> None:
        """Wait until closed."""


Starter = Callable[[Unit], Awaitable[Listener]]

#: One module per protocol; every service of a profile must be listed here.
STARTERS: dict[Service, Starter] = {
    Service.smtp_default: smtp.start,
    Service.smtp_client: smtp.start,
    Service.smtp_edge: smtp.start,
    Service.pop3: pop3.start,
    Service.pop3s: pop3.start,
    Service.imap: imap.start,
    Service.imaps: imap.start,
    Service.http: http.start,
    Service.https: http.start,
    Service.sip: sip.start,
    Service.sips: sip.start,
    Service.sips_5062: sip.start,
    Service.rdp: tcp.start,
    Service.ldap: ldap.start,
    Service.gc: ldap.start,
    Service.adam: ldap.start,
    Service.adams: ldap.start,
    Service.kerberos: kerberos.start,
    Service.dns: dns.start,
    Service.epmap: rpc.start,
}

#: Services that offer an in-band upgrade to TLS.
STARTTLS = frozenset(
    {
        Service.smtp_default,
        Service.smtp_client,
        Service.smtp_edge,
        Service.pop3,
        Service.imap,
        Service.ldap,
        Service.gc,
        Service.adam,
    }
)

# aiosmtpd logs every unknown command at WARNING; the lab is a target, keep it quiet.
# A failed STARTTLS handshake (an auditor trying TLS 1.0) is logged with a traceback at
# ERROR; that is the lab working as intended, not an error of the lab.
logging.getLogger("mail.log").setLevel(logging.CRITICAL)

ENDPOINTS_FILE = "lab-endpoints.json"
DEPLOYMENT_FILE = "deployment.yaml"
#: Added to a real port in ``high`` mode; ports that would pass 65535 are lowered by it.
HIGH_PORT_OFFSET = 20000


class PortMode(StrEnum):
    """How real ports map to listening ports."""

    real = "real"  # the real port (needs root below 1024)
    high = "high"  # port + 20000, or port - 20000 above 45535 (50389 -> 30389)
    ephemeral = "ephemeral"  # whatever the kernel hands out (tests)


def high_port(port: int) -> int:
    """The documented high-port mapping: ``port + 20000``, or ``port - 20000`` above 45535."""
    return port + HIGH_PORT_OFFSET if port + HIGH_PORT_OFFSET <= 65535 else port - HIGH_PORT_OFFSET


class LabError(PathsecError):
    """The lab could not start (address in use, bad address …)."""


@dataclass(frozen=True)
class Endpoint:
    """One listener of the running lab."""

    server: str
    fqdn: str
    address: str
    service: str
    real_port: int
    port: int
    tls: str  # "implicit", "starttls" or "none"


def _exchange_release(build: str) -> str:
    return {"8.0": "2007-rtm", "8.1": "2007-sp1", "8.2": "2007-sp2"}.get(build[:3], "2007-sp3")


def _windows_release(version: str) -> str:
    return {"5.2": "2003", "6.0": "2008", "6.1": "2008-r2"}.get(version[:3], "2008")


class Lab:
    """An emulated Exchange 2007 organisation on loopback addresses.

    ``async with Lab("misconfigured") as lab:`` starts every listener of the profile and
    stops them on exit; ``lab.endpoint("EX2007", "smtp_default")`` tells where one is.
    """

    def __init__(
        self,
        profile: LabProfile | str = "default",
        *,
        state_dir: Path | None = None,
        ports: PortMode = PortMode.ephemeral,
        addresses: Mapping[str, str] | None = None,
    ) -> None:
        self.profile = load_profile(profile) if isinstance(profile, str) else profile
        if addresses:
            unknown = set(addresses) - {s.name for s in self.profile.servers}
            if unknown:
                raise LabError(f"addresses for unknown servers: {sorted(unknown)}")
            for name, addr in addresses.items():
                try:
                    loopback = ipaddress.ip_address(addr).is_loopback
                except ValueError:
                    loopback = False
                if not loopback or ":" in addr:
                    raise LabError(f"{name}: {addr!r} is not an IPv4 loopback address (127.x)")
            servers = tuple(
                s.model_copy(update={"address": addresses.get(s.name, s.address)})
                for s in self.profile.servers
            )
            self.profile = self.profile.model_copy(update={"servers": servers})
        self.ports = ports
        self._own_state = state_dir is None
        self._state_dir = state_dir
        self.certs: dict[str, CertFiles] = {}
        self.endpoints: tuple[Endpoint, ...] = ()
        self._servers: list[Listener] = []
        self._conns: set[asyncio.BaseTransport] = set()

    @property
    def state_dir(self) -> Path:
        """Where certificates (and by default the lab's files) go; a temporary folder unless
        given, made on first use and removed by :meth:`stop`."""
        if self._state_dir is None:
            self._state_dir = Path(tempfile.mkdtemp(prefix="pathsec-lab-"))
        return self._state_dir

    def _port(self, service: Service) -> int:
        real = SERVICE_PORTS[service]
        if self.ports is PortMode.real:
            return real
        if self.ports is PortMode.high:
            return high_port(real)
        return 0

    def _make_certificates(self) -> None:
        cert_dir = self.state_dir / "certs"
        for s in self.profile.servers:
            self.certs[s.name] = write_certificate(
                cert_dir, s.name, self.profile.fqdn(s), expired=s.expired_certificate
            )

    async def _start_unit(self, server: LabServer, service: Service) -> Endpoint:
        ident = Identity.of(self.profile, server)
        tls = server_tls_context(
            self.certs[server.name], self.profile.tls_min_version, self.profile.tls
        )
        unit = Unit(
            self.profile,
            server,
            ident,
            service,
            server.address,
            self._port(service),
            tls,
            self._conns,
        )
        try:
            listener = await STARTERS[service](unit)
        except OSError as exc:
            raise LabError(
                f"{server.name} {service.value}: cannot listen on "
                f"{server.address}:{unit.port}: {exc.strerror or exc}"
            ) from None
        self._servers.append(listener)
        port = int(listener.sockets[0].getsockname()[1])
        mode = (
            "implicit" if service in IMPLICIT_TLS else "starttls" if service in STARTTLS else "none"
        )
        return Endpoint(
            server.name,
            ident.fqdn,
            server.address,
            service.value,
            SERVICE_PORTS[service],
            port,
            mode,
        )

    async def start(self) -> None:
        """Make the certificates and start every listener (all or none)."""
        missing = {svc for s in self.profile.servers for svc in s.services if svc not in STARTERS}
        if missing:
            raise LabError(f"no emulation for: {', '.join(sorted(m.value for m in missing))}")
        self._make_certificates()
        started: list[Endpoint] = []
        try:
            for server in self.profile.servers:
                for service in server.services:
                    started.append(await self._start_unit(server, service))
        except BaseException:
            await self.stop()
            raise
        self.endpoints = tuple(started)

    async def stop(self) -> None:
        """Close every listener; remove the state directory when the lab made it."""
        servers, self._servers = self._servers, []
        for s in servers:
            s.close()
        for t in list(self._conns):
            # Open client sessions end now, not at their idle timeout.
            if isinstance(t, asyncio.WriteTransport):
                t.abort()
            else:
                t.close()
        self._conns.clear()
        await asyncio.sleep(0)
        for s in servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(s.wait_closed(), 2.0)
        if self._own_state and self._state_dir is not None:
            shutil.rmtree(self._state_dir, ignore_errors=True)
            self._state_dir = None

    async def __aenter__(self) -> Lab:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def endpoint(self, server: str, service: str | Service) -> Endpoint:
        """The endpoint of ``service`` on ``server`` (KeyError when the lab has none)."""
        for e in self.endpoints:
            if e.server == server and e.service == str(service):
                return e
        raise KeyError(f"{server}/{service}")

    def deployment(self) -> dict[str, object]:
        """The lab as a deployment file (see :mod:`pathsec.topology.models`).

        Where the lab listens on mapped ports, each server's ``listen_ports`` maps the real
        port to the listening one, so ``pathsec audit deployment.yaml`` dials the lab.
        """
        p = self.profile
        zones: dict[str, list[str]] = {"internal": [], "perimeter": []}
        servers: list[dict[str, object]] = []
        for s in p.servers:
            zones[s.zone].append(f"{s.address}/32")
            entry: dict[str, object] = {
                "name": s.name,
                "addresses": [s.address],
                "zone": s.zone,
                "roles": list(s.roles),
                "windows": _windows_release(p.windows_version),
            }
            if s.domain_joined:
                entry["site"] = "HQ"
            else:
                entry["domain_joined"] = False
            if set(s.roles) - {"domain_controller"}:
                entry["exchange"] = _exchange_release(p.exchange_build)
            if "domain_controller" in s.roles:
                entry["global_catalog"] = Service.gc in s.services
                entry["dns"] = Service.dns in s.services
            if "unified_messaging" in s.roles:
                tcp_, tls_ = Service.sip in s.services, Service.sips in s.services
                entry["um_sip_mode"] = "both" if tcp_ and tls_ else "tls" if tls_ else "tcp"
            moved = {
                e.real_port: e.port
                for e in self.endpoints
                if e.server == s.name and e.port != e.real_port
            }
            if moved:
                entry["listen_ports"] = dict(sorted(moved.items()))
            servers.append(entry)
        edges = [s.name for s in p.servers if "edge_transport" in s.roles]
        return {
            "schema_version": 1,
            "organization": {
                "name": p.organization,
                "forest": p.dns_domain,
                "domain": p.dns_domain,
            },
            "sites": [{"name": "HQ"}],
            "zones": [
                {"name": "internet", "kind": "internet", "cidrs": ["127.0.20.0/24"]},
                *({"name": z, "kind": z, "cidrs": sorted(set(c))} for z, c in zones.items() if c),
            ],
            "servers": servers,
            "edge_subscriptions": [{"edge": e, "site": "HQ"} for e in edges],
            "client_populations": [
                {"name": "internet-users", "kind": "internet_users", "zone": "internet"},
                {"name": "phones", "kind": "mobile_devices", "zone": "internet"},
                {"name": "pop-imap", "kind": "pop_imap_clients", "zone": "internet"},
                {"name": "submission", "kind": "smtp_clients", "zone": "internet"},
            ],
            "firewalls": [
                {"name": "fw-outer", "zones": ["internet", "perimeter"]},
                {"name": "fw-inner", "zones": ["perimeter", "internal"]},
            ],
        }

    def write_files(self, directory: Path | None = None) -> tuple[Path, Path]:
        """Write ``deployment.yaml`` and ``lab-endpoints.json``; return their paths."""
        out = directory or self.state_dir
        header = (
            f"# Deployment of the pathsec lab, profile {self.profile.name!r}.\n"
            f"# Ports ({self.ports.value} mode): listen_ports maps real to listening ports;\n"
            f"# {ENDPOINTS_FILE} lists every listener.\n"
        )
        dep = write_atomic(
            out / DEPLOYMENT_FILE, header + yaml.safe_dump(self.deployment(), sort_keys=False)
        )
        doc = {
            "profile": self.profile.name,
            "port_mode": self.ports.value,
            "deviations": [d.model_dump(mode="json") for d in self.profile.deviations],
            "certificates": {k: str(v.cert) for k, v in self.certs.items()},
            "endpoints": [asdict(e) for e in self.endpoints],
        }
        ends = write_atomic(out / ENDPOINTS_FILE, json.dumps(doc, indent=2) + "\n")
        return dep, ends
