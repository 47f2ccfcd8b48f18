"""What every emulated service needs: the server's identity, TLS context, NTLM challenge."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import ssl
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from spnego._ntlm_raw import messages as ntlm

from pathsec.lab.certs import CertFiles
from pathsec.lab.profiles import LabProfile, LabServer, LabTls, Service

#: NEGOTIATE flags Windows Server 2008 answers with in a CHALLENGE (unicode, target
#: info, version, NTLM, extended session security, 128/56-bit, target type domain).
CHALLENGE_FLAGS = (
    ntlm.NegotiateFlags.unicode
    | ntlm.NegotiateFlags.request_target
    | ntlm.NegotiateFlags.ntlm
    | ntlm.NegotiateFlags.always_sign
    | ntlm.NegotiateFlags.target_type_domain
    | ntlm.NegotiateFlags.extended_session_security
    | ntlm.NegotiateFlags.target_info
    | ntlm.NegotiateFlags.version
    | ntlm.NegotiateFlags.key_128
    | ntlm.NegotiateFlags.key_exch
    | ntlm.NegotiateFlags.key_56
)


@dataclass(frozen=True)
class Identity:
    """Names and versions one emulated server shows on the wire."""

    netbios: str
    fqdn: str
    netbios_domain: str
    dns_domain: str
    os_version: str
    exchange_build: str

    @classmethod
    def of(cls, profile: LabProfile, server: LabServer) -> Identity:
        """The identity of ``server`` in ``profile``."""
        return cls(
            netbios=server.name,
            fqdn=profile.fqdn(server),
            netbios_domain=profile.netbios_domain if server.domain_joined else server.name,
            dns_domain=profile.dns_domain if server.domain_joined else "",
            os_version=profile.windows_version,
            exchange_build=profile.exchange_build,
        )

    def build_padded(self) -> str:
        """The build as UM and ActiveSync print it, e.g. ``08.03.0083.006``."""
        a, b, c, d = (int(x) for x in self.exchange_build.split("."))
        return f"{a:02d}.{b:02d}.{c:04d}.{d:03d}"


@dataclass(frozen=True)
class Unit:
    """One listener to start: which service of which server, where, with what TLS."""

    profile: LabProfile
    server: LabServer
    identity: Identity
    service: Service
    host: str
    port: int
    tls: ssl.SSLContext
    #: Open client connections, shared by the lab so that stopping it closes them all.
    conns: set[asyncio.BaseTransport] = field(default_factory=set)

    def track(self, writer: asyncio.StreamWriter) -> None:
        """Remember a client connection until :meth:`untrack`."""
        self.conns.add(writer.transport)

    def untrack(self, writer: asyncio.StreamWriter) -> None:
        """Forget a client connection."""
        self.conns.discard(writer.transport)


#: RFC 2409 group 2 (1024 bits) and RFC 3526 group 14 (2048 bits), generator 2: the DH
#: groups of DHE suites (Windows before 2016 used 1024-bit groups).
_MODP = {
    1024: "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0B"
    "FF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
    2048: "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0B"
    "FF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55"
    "D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C"
    "08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF",
}


def _dh_file(directory: Path, bits: int) -> Path:
    """A DH parameters file of the well-known group of ``bits`` (written once)."""
    path = directory / f"dh{bits}.pem"
    if not path.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import dh

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # cryptography deprecates finite-field DH
            params = dh.DHParameterNumbers(int(_MODP[bits], 16), 2).parameters()
        path.write_bytes(
            params.parameter_bytes(serialization.Encoding.PEM, serialization.ParameterFormat.PKCS3)
        )
    return path


_VERSIONS = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}


def server_tls_context(
    files: CertFiles, min_version: str, tls: LabTls | None = None
) -> ssl.SSLContext:
    """A server TLS context with the server's certificate, the profile's TLS floor and, when
    the profile says, its SChannel-like versions, suites and order."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if tls is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = _VERSIONS[min_version]
            ctx.maximum_version = _VERSIONS[tls.max_version]
        ctx.set_ciphers(f"{tls.ciphers}:@SECLEVEL=0")
        if tls.server_preference:
            ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
        if tls.dh_bits is not None:
            ctx.load_dh_params(str(_dh_file(files.cert.parent, tls.dh_bits)))
        ctx.set_ecdh_curve("prime256v1")  # SChannel's P-256 (no X25519 before 2016)
        ctx.load_cert_chain(files.cert, files.key)
        return ctx
    if min_version in ("TLSv1", "TLSv1.1"):
        # OpenSSL 3 refuses TLS 1.0/1.1 above security level 0; the profile asks for it.
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = (
            ssl.TLSVersion.TLSv1 if min_version == "TLSv1" else ssl.TLSVersion.TLSv1_1
        )
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(files.cert, files.key)
    return ctx


def is_ntlm_negotiate(raw: bytes) -> bool:
    """Whether ``raw`` is an NTLMSSP NEGOTIATE (type 1) message."""
    return len(raw) >= 16 and raw[:8] == b"NTLMSSP\x00" and raw[8:12] == b"\x01\x00\x00\x00"


def ntlm_challenge(ident: Identity, now: dt.datetime | None = None) -> bytes:
    """An NTLMSSP CHALLENGE with Windows-like target information for ``ident``."""
    info = ntlm.TargetInfo()
    info[ntlm.AvId.nb_domain_name] = ident.netbios_domain
    info[ntlm.AvId.nb_computer_name] = ident.netbios
    if ident.dns_domain:
        info[ntlm.AvId.dns_domain_name] = ident.dns_domain
        info[ntlm.AvId.dns_computer_name] = ident.fqdn
        info[ntlm.AvId.dns_tree_name] = ident.dns_domain
    else:  # a workgroup server (Edge) names only itself
        info[ntlm.AvId.dns_domain_name] = ident.netbios.lower()
        info[ntlm.AvId.dns_computer_name] = ident.netbios.lower()
    info[ntlm.AvId.timestamp] = ntlm.FileTime.from_datetime(now or dt.datetime.now(dt.UTC))
    major, minor, build = (int(x) for x in ident.os_version.split("."))
    msg = ntlm.Challenge(
        flags=CHALLENGE_FLAGS,
        server_challenge=os.urandom(8),
        target_name=ident.netbios_domain,
        target_info=info,
        version=ntlm.Version(major, minor, build, 15),
    )
    return bytes(msg.pack())


def rfc2822ish(now: dt.datetime | None = None) -> str:
    """Date as Exchange prints it in SMTP banners: ``Fri, 5 Aug 2016 16:24:41 +0000``."""
    d = now or dt.datetime.now(dt.UTC)
    return f"{d:%a}, {d.day} {d:%b %Y} {d.hour}:{d:%M:%S} {d:%z}"


class TcpAndUdp:
    """A TCP server plus a UDP endpoint on the same port number, closed together (Kerberos,
    LDAP/CLDAP, DNS: the deployment's ``listen_ports`` maps one real port to one port)."""

    def __init__(self, tcp: asyncio.Server, udp: asyncio.BaseTransport) -> None:
        self.tcp = tcp
        self.udp = udp

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        """The TCP listening sockets."""
        return self.tcp.sockets

    def close(self) -> None:
        """Stop listening on TCP and UDP."""
        self.tcp.close()
        self.udp.close()

    async def wait_closed(self) -> None:
        """Wait until the TCP server is closed."""
        await self.tcp.wait_closed()


class DatagramResponder(asyncio.DatagramProtocol):
    """Answers each datagram with ``respond(data)``; ``None`` sends nothing."""

    def __init__(self, respond: Callable[[bytes], bytes | None]) -> None:
        self.respond = respond
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport to answer on."""
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        """Answer one datagram (a request the responder cannot parse gets no answer)."""
        try:
            reply = self.respond(data)
        except Exception:  # a malformed datagram is dropped, as a server does
            return
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


async def with_udp(
    tcp: asyncio.Server, host: str, respond: Callable[[bytes], bytes | None]
) -> TcpAndUdp:
    """Add a UDP endpoint answering with ``respond`` on the TCP server's port."""
    port = int(tcp.sockets[0].getsockname()[1])
    loop = asyncio.get_running_loop()
    try:
        udp, _ = await loop.create_datagram_endpoint(
            lambda: DatagramResponder(respond), local_addr=(host, port)
        )
    except OSError:
        tcp.close()
        raise
    return TcpAndUdp(tcp, udp)
