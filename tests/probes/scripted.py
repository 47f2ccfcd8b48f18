"""Byte-scripted servers on 127.0.0.1 ephemeral ports, for parser and safety tests.

A server sends a greeting, answers each client line from a table (matched by prefix,
IMAP tags stripped), can upgrade to TLS on a STARTTLS verb, and records every line it
received so tests can prove what pathsec sent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import socketserver
import ssl
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


@dataclass
class Script:
    """What the server says: greeting, replies before and after TLS, the STARTTLS verbs."""

    greeting: bytes
    replies: dict[str, bytes]
    after_tls: dict[str, bytes] | None = None
    starttls: dict[str, bytes] = field(default_factory=dict)  # verb -> "go ahead" reply
    default: bytes = b"500 5.5.1 unknown\r\n"
    implicit_tls: bool = False
    close_after_greeting: bool = False
    silent: bool = False  # accept, then never speak


def make_server_context(directory: Path, cn: str = "scripted.test") -> ssl.SSLContext:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cp, kp = directory / "s.crt", directory / "s.key"
    cp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    kp.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cp, kp)
    return ctx


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, script: Script, ctx: ssl.SSLContext | None, address: tuple[str, int]
    ) -> None:
        super().__init__(address, _Handler)
        self.script = script
        self.ctx = ctx
        self.received: list[str] = []
        self.lock = threading.Lock()
        self.connections = 0


def _match(table: dict[str, bytes], line: str) -> bytes | None:
    candidates = [line]
    parts = line.split(" ", 1)
    if len(parts) == 2:
        candidates.append(parts[1])  # IMAP: strip the tag
    for cand in candidates:
        up = cand.upper()
        for key, reply in table.items():
            if up.startswith(key.upper()):
                tag = parts[0] if cand is not line else ""
                return reply.replace(b"{tag}", tag.encode())
    return None


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        srv = self.server
        s = srv.script
        with srv.lock:
            srv.connections += 1
        sock: socket.socket = self.request
        sock.settimeout(5)
        if s.silent:
            with contextlib.suppress(OSError):
                sock.recv(1)
            return
        if s.implicit_tls:
            assert srv.ctx is not None
            try:
                sock = srv.ctx.wrap_socket(sock, server_side=True)
            except (OSError, ssl.SSLError):
                return
        f = sock.makefile("rwb")
        try:
            f.write(s.greeting)
            f.flush()
            if s.close_after_greeting:
                return
            table = s.replies
            tls = s.implicit_tls
            while True:
                raw = f.readline(65536)
                if not raw:
                    return
                line = raw.rstrip(b"\r\n").decode("latin-1")
                with srv.lock:
                    srv.received.append(line)
                go = _match(s.starttls, line) if not tls else None
                if go is not None and srv.ctx is not None:
                    f.write(go)
                    f.flush()
                    sock = srv.ctx.wrap_socket(sock, server_side=True)
                    f = sock.makefile("rwb")
                    tls = True
                    table = s.after_tls if s.after_tls is not None else s.replies
                    continue
                reply = _match(table, line)
                if reply is None:
                    tag = line.split(" ", 1)[0].encode()
                    reply = s.default.replace(b"{tag}", tag)
                f.write(reply)
                f.flush()
                if line.upper() in ("QUIT",) or line.upper().endswith(" LOGOUT"):
                    return
        except (OSError, ssl.SSLError, ValueError):
            return


@contextlib.contextmanager
def serve(script: Script, host: str = "127.0.0.1", port: int = 0) -> Iterator[_Server]:
    """Run ``script`` on ``host:port`` (default: an ephemeral port) in a thread; stop it after."""
    with tempfile.TemporaryDirectory() as tmp:
        ctx = make_server_context(Path(tmp))
        srv = _Server(script, ctx, (host, port))
        t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        t.start()
        try:
            yield srv
        finally:
            srv.shutdown()
            srv.server_close()
            t.join(timeout=5)


def port_of(srv: _Server) -> int:
    return int(srv.server_address[1])


# --- Transcripts from ../shared/reference/exchange-wire-fingerprints.md ----------------------

EX2007_HUB_BANNER = (
    b"220 SMTPServer.testdomain.local Microsoft ESMTP MAIL Service ready at "
    b"Sat, 8 Jan 2010 16:03:15 -0600\r\n"
)
EX2007_HUB_EHLO = (
    b"250-SMTPServer.testdomain.local Hello [192.168.127.10]\r\n"
    b"250-SIZE\r\n250-PIPELINING\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n"
    b"250-X-ANONYMOUSTLS\r\n250-AUTH NTLM LOGIN\r\n250-X-EXPS GSSAPI NTLM\r\n250-8BITMIME\r\n"
    b"250-BINARYMIME\r\n250-CHUNKING\r\n250-XEXCH50\r\n250 XRDST\r\n"
)
# 1d: after TLS, STARTTLS and X-ANONYMOUSTLS disappear.
EX_EHLO_AFTER_TLS = (
    b"250-MailServer.my.domain.com Hello [1.2.3.4]\r\n250-SIZE 37748736\r\n250-PIPELINING\r\n"
    b"250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n250-AUTH NTLM LOGIN\r\n250-X-EXPS GSSAPI NTLM\r\n"
    b"250-8BITMIME\r\n250-BINARYMIME\r\n250-CHUNKING\r\n250 XRDST\r\n"
)
# 1c, 587: Client connector.
EX2010_CLIENT_EHLO = (
    b"250-Rabbit.htb.local Hello [10.10.15.114]\r\n250-SIZE 10485760\r\n250-PIPELINING\r\n"
    b"250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n250-AUTH GSSAPI NTLM\r\n"
    b"250-8BITMIME\r\n250-BINARYMIME\r\n250-CHUNKING\r\n"
)
EX2016_FRONTEND_EHLO = (
    b"250-mail1.fabrikam.com Hello [172.16.0.5]\r\n250-SIZE 37748736\r\n250-PIPELINING\r\n"
    b"250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n250-X-ANONYMOUSTLS\r\n"
    b"250-AUTH NTLM\r\n250-X-EXPS GSSAPI NTLM\r\n250-8BITMIME\r\n250-BINARYMIME\r\n"
    b"250-CHUNKING\r\n250 XRDST\r\n"
)
EX_IMAP_GREETING = b"* OK The Microsoft Exchange IMAP4 service is ready.\r\n"
EX_IMAP_CAPS_BEFORE = (
    b"* CAPABILITY IMAP4 IMAP4rev1 AUTH=NTLM AUTH=GSSAPI LOGINDISABLED STARTTLS IDLE "
    b"NAMESPACE LITERAL+\r\n{tag} OK CAPABILITY completed.\r\n"
)
EX_IMAP_CAPS_AFTER = (
    b"* CAPABILITY IMAP4 IMAP4rev1 AUTH=NTLM AUTH=GSSAPI AUTH=PLAIN IDLE NAMESPACE LITERAL+\r\n"
    b"{tag} OK CAPABILITY completed.\r\n"
)
EX_POP3_BANNER = b"+OK The Microsoft Exchange POP3 service is ready.\r\n"
EX_POP3_CAPA_BEFORE = b"+OK\r\nTOP\r\nUIDL\r\nSTLS\r\n.\r\n"
EX_POP3_CAPA_AFTER = b"+OK\r\nTOP\r\nUIDL\r\nSASL PLAIN\r\nUSER\r\n.\r\n"
