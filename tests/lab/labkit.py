"""Helpers of the lab tests: a lab in a background loop, blocking clients, NTLM decoding."""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
import threading
import warnings

from spnego._ntlm_raw import messages as ntlm

from pathsec.lab.core import Endpoint, Lab

TIMEOUT = 5.0


class RunningLab:
    """A :class:`Lab` started in its own thread's event loop, so tests use blocking clients."""

    def __init__(self, profile: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.lab = Lab(profile)
        asyncio.run_coroutine_threadsafe(self.lab.start(), self.loop).result(30)

    def ep(self, server: str, service: str) -> Endpoint:
        return self.lab.endpoint(server, service)

    def close(self) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.lab.stop(), self.loop).result(10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.loop.close()


def client_tls(version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    """A client context that accepts the lab's self-signed certificates."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    # the lab speaks as Windows 2008 does: TLS 1.0, AES-CBC-SHA (security level 0)
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = version or ssl.TLSVersion.TLSv1
        if version is not None:
            ctx.maximum_version = version
    return ctx


class Line:
    """A blocking line client (CRLF) with in-place TLS upgrade."""

    def __init__(self, ep: Endpoint, tls: bool = False) -> None:
        raw = socket.create_connection((ep.address, ep.port), timeout=TIMEOUT)
        self.sock: socket.socket = client_tls().wrap_socket(raw) if tls else raw
        self.file = self.sock.makefile("rb")

    def line(self) -> str:
        data = self.file.readline()
        assert data.endswith(b"\r\n"), data
        return data[:-2].decode()

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode() + b"\r\n")

    def until(self, last: str) -> list[str]:
        """Lines up to and including the first one that starts with ``last``."""
        out = []
        for _ in range(100):
            out.append(self.line())
            if out[-1].startswith(last):
                return out
        raise AssertionError(out)

    def smtp_reply(self) -> list[str]:
        out = []
        for _ in range(100):
            out.append(self.line())
            if out[-1][3:4] == " ":
                return out
        raise AssertionError(out)

    def starttls(self) -> None:
        self.file.close()
        self.sock = client_tls().wrap_socket(self.sock)
        self.file = self.sock.makefile("rb")

    def close(self) -> None:
        self.file.close()
        self.sock.close()


NEGOTIATE = base64.b64encode(ntlm.Negotiate(flags=0xE2088297).pack()).decode()


def decode_challenge(b64: str) -> dict[str, object]:
    """Names and OS version in a base64 CHALLENGE, decoded with pyspnego."""
    msg = ntlm.Challenge.unpack(base64.b64decode(b64))
    info = msg.target_info
    assert info is not None
    v = msg.version
    return {
        "target": msg.target_name,
        "nb_domain": info[ntlm.AvId.nb_domain_name],
        "nb_computer": info[ntlm.AvId.nb_computer_name],
        "dns_domain": info[ntlm.AvId.dns_domain_name],
        "dns_computer": info[ntlm.AvId.dns_computer_name],
        "dns_tree": info.get(ntlm.AvId.dns_tree_name),
        "timestamp": info[ntlm.AvId.timestamp],
        "os": f"{v.major}.{v.minor}.{v.build}" if v else None,
    }


EX2007_NTLM = {
    "target": "CONTOSO",
    "nb_domain": "CONTOSO",
    "nb_computer": "EX2007",
    "dns_domain": "contoso.local",
    "dns_computer": "ex2007.contoso.local",
    "dns_tree": "contoso.local",
    "os": "6.0.6002",
}
