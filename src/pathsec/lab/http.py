"""IIS 7.0 with the Exchange 2007 virtual directories (HTTP 80, HTTPS 443).

A Client Access server serves every virtual directory, the UM web service
(``/UnifiedMessaging/Service.asmx``, 401 with the web-services methods) included: in
Exchange 2007 its virtual directory lives on the Client Access server (Get-UMVirtualDirectory).

A small HTTP/1.1 responder on asyncio streams: no HTTP server library is a dependency
(httpx is a client; aiohttp is not installed) and the lab answers fixed responses only.
NTLM NEGOTIATE tokens in ``Authorization: NTLM|Negotiate`` get a CHALLENGE (fingerprints §4, §5).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import ssl
from dataclasses import dataclass, field
from email.utils import formatdate

from pathsec.lab.common import Unit, is_ntlm_negotiate, ntlm_challenge
from pathsec.lab.profiles import Service

MAX_HEADER_BYTES = 16384
MAX_BODY_BYTES = 1 << 20
IDLE_SECONDS = 30.0
ASPNET_VERSION = "2.0.50727"
#: ActiveSync as an Exchange 2007 SP1+ CAS announces it (§4, OBM's 2007 SP1 emulation).
EAS_VERSIONS = "1.0,2.0,2.1,2.5,12.0,12.1"
EAS_COMMANDS = (
    "Sync,SendMail,SmartForward,SmartReply,GetAttachment,GetHierarchy,CreateCollection,"
    "DeleteCollection,MoveCollection,FolderSync,FolderCreate,FolderDelete,FolderUpdate,"
    "MoveItems,GetItemEstimate,MeetingResponse,Search,Settings,Ping,ItemOperations,Provision,"
    "ResolveRecipients,ValidateCert"
)
_REASONS = {200: "OK", 302: "Found", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
#: Virtual directories that answer 401 with the web-services authentication methods.
WEB_SERVICES = ("/autodiscover/", "/ews/", "/oab/", "/unifiedmessaging/")
#: Every Exchange virtual directory (plain HTTP: 403.4 SSL required unless misconfigured).
VDIRS = (
    *WEB_SERVICES,
    "/owa/",
    "/exchange/",
    "/public/",
    "/exchweb/",
    "/microsoft-server-activesync/",
    "/rpc/",
)


@dataclass
class Request:
    """One parsed request (header names in lower case)."""

    method: str
    target: str
    version: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The path without query, lower-cased, with a trailing slash for directories."""
        p = self.target.split("?", 1)[0].lower()
        return p if "." in p.rsplit("/", 1)[-1] or p.endswith("/") else p + "/"


@dataclass
class Response:
    """A response to write; ``headers`` keeps order and repeated names."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def _logon_page(build: str) -> bytes:
    return (
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">\r\n'
        "<!-- OwaPage = ASP.auth_logon_aspx -->\r\n<html><head>"
        "<title>Microsoft Exchange - Outlook Web Access</title>"
        f'<link type="text/css" rel="stylesheet" href="/owa/{build}/themes/base/logon.css">'
        '</head><body><form action="/owa/auth/owaauth.dll" method="POST" name="logonForm">'
        '<input type="hidden" name="destination" value=""><input type="hidden" name="flags" '
        'value="0"><input type="radio" name="trusted" value="0">'
        '<input name="username" id="username"><input type="password" name="password" '
        'id="password"></form></body></html>\r\n'
    ).encode()


_IIS_WELCOME = b'<html><head><title>IIS7</title></head><body><img src="welcome.png"></body></html>'


class Site:
    """The Default Web Site of one emulated Client Access server."""

    def __init__(self, unit: Unit) -> None:
        self.unit = unit
        self.secure = unit.service is Service.https
        self.http = unit.profile.http
        cas = "client_access" in unit.server.roles
        self.vdirs = VDIRS if cas else ()
        # The profile's plain-HTTP setting is the Client Access vdirs' (LAB-MIS-001).
        self.basic_over_http = self.http.basic_over_http and cas

    def _base(self, status: int, aspnet: bool = True) -> Response:
        r = Response(status, [("Cache-Control", "private")])
        # IIS 6.0 on Windows Server 2003 (5.2), IIS 7.0 on 2008 (windows-platforms.md)
        iis = "6.0" if self.unit.profile.windows_version.startswith("5.") else "7.0"
        r.headers.append(("Server", f"Microsoft-IIS/{iis}"))
        if aspnet:
            r.headers.append(("X-AspNet-Version", ASPNET_VERSION))
            r.headers.append(("X-OWA-Version", self.unit.identity.exchange_build))
        r.headers.append(("X-Powered-By", "ASP.NET"))
        return r

    def _host(self, req: Request) -> str:
        # An empty Host leaks the server address, as IIS does (§4, internal-IP leak).
        return req.headers.get("host", "").strip() or self.unit.server.address

    def _challenge(self, req: Request, methods: tuple[str, ...]) -> Response:
        r = self._base(401)
        token = _ntlm_token(req.headers.get("authorization", ""))
        if token is not None and token[0] in methods:
            scheme = token[0]
            blob = base64.b64encode(ntlm_challenge(self.unit.identity)).decode("ascii")
            r.headers.append(("WWW-Authenticate", f"{scheme} {blob}"))
            return r
        realm = self._host(req).split(":")[0] if self._host(req)[:1] != "[" else self._host(req)
        for m in methods:
            value = f'Basic realm="{realm}"' if m == "Basic" else m
            r.headers.append(("WWW-Authenticate", value))
        return r

    def _redirect(self, req: Request, location: str) -> Response:
        r = self._base(302)
        r.headers.append(("Location", location))
        r.body = (
            "<html><head><title>Object moved</title></head><body><h2>Object moved to "
            f'<a href="{location}">here</a>.</h2></body></html>'
        ).encode()
        return r

    def respond(self, req: Request) -> Response:
        """The response of this site to ``req``."""
        path = req.path
        scheme = "https" if self.secure else "http"
        host = self._host(req)
        vdir = next((v for v in self.vdirs if path.startswith(v)), None)
        if vdir is None:
            if path == "/":
                r = self._base(200, aspnet=False)
                r.headers.append(("Content-Type", "text/html"))
                r.body = _IIS_WELCOME
                return r
            r = self._base(404, aspnet=False)
            r.headers.append(("Content-Type", "text/html"))
            r.body = b"<h2>404 - File or directory not found.</h2>"
            return r
        if not self.secure and not self.basic_over_http:
            r = self._base(403, aspnet=False)
            r.headers.append(("Content-Type", "text/html"))
            r.body = b"<h2>403.4 - SSL is required to view this resource.</h2>"
            return r
        basic_ntlm: tuple[str, ...] = ("Basic", "NTLM")
        if vdir in WEB_SERVICES:
            return self._challenge(req, tuple(self.http.web_services_auth))
        if vdir == "/rpc/":
            return self._challenge(req, basic_ntlm)
        if vdir == "/microsoft-server-activesync/":
            if req.method == "OPTIONS":
                r = self._base(200)
                r.headers += [
                    ("Allow", "OPTIONS,POST"),
                    ("MS-Server-ActiveSync", self.unit.identity.exchange_build[:3]),
                    ("MS-ASProtocolVersions", EAS_VERSIONS),
                    ("MS-ASProtocolCommands", EAS_COMMANDS),
                    ("Public", "OPTIONS,POST"),
                ]
                return r
            return self._challenge(req, ("Basic",))
        if vdir in ("/exchange/", "/public/", "/exchweb/"):
            return self._redirect(req, f"{scheme}://{host}/owa/")
        # /owa/: forms-based authentication.
        if path == "/owa/auth/logon.aspx":
            r = self._base(200)
            r.headers.append(("Content-Type", "text/html; charset=utf-8"))
            r.body = _logon_page(self.unit.identity.exchange_build)
            return r
        reason = 2 if path == "/owa/auth/owaauth.dll" and req.method == "POST" else 0
        url = f"{scheme}://{host}/owa/"
        return self._redirect(
            req, f"{scheme}://{host}/owa/auth/logon.aspx?url={url}&reason={reason}"
        )


def _ntlm_token(header: str) -> tuple[str, bytes] | None:
    """``(scheme, token)`` when the header carries a raw NTLMSSP NEGOTIATE."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() not in ("ntlm", "negotiate"):
        return None
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    if not is_ntlm_negotiate(raw):
        return None
    return ("NTLM" if scheme.lower() == "ntlm" else "Negotiate"), raw


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_SECONDS)
    except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None
    if len(head) > MAX_HEADER_BYTES:
        return None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return None
    req = Request(parts[0].upper(), parts[1], parts[2])
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            req.headers[name.strip().lower()] = value.strip()
    length = req.headers.get("content-length", "0")
    n = int(length) if length.isdigit() else 0
    if n > MAX_BODY_BYTES:
        return None
    if n:
        with contextlib.suppress(asyncio.IncompleteReadError, TimeoutError):
            await asyncio.wait_for(reader.readexactly(n), IDLE_SECONDS)
    return req


def _serialize(resp: Response, req: Request, keep: bool) -> bytes:
    head = [f"HTTP/1.1 {resp.status} {_REASONS.get(resp.status, 'Error')}"]
    head += [f"{k}: {v}" for k, v in resp.headers]
    head.append(f"Date: {formatdate(usegmt=True)}")
    head.append(f"Content-Length: {len(resp.body)}")
    if not keep:
        head.append("Connection: close")
    body = b"" if req.method == "HEAD" else resp.body
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


async def start(unit: Unit) -> asyncio.Server:
    """Listen for HTTP (``http``) or HTTPS (``https``)."""
    site = Site(unit)

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        unit.track(writer)
        try:
            while (req := await _read_request(reader)) is not None:
                keep = req.version == "HTTP/1.1" and (
                    req.headers.get("connection", "").lower() != "close"
                )
                writer.write(_serialize(site.respond(req), req, keep))
                await writer.drain()
                if not keep:
                    break
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            unit.untrack(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 2.0)

    tls = unit.tls if unit.service is Service.https else None
    return await asyncio.start_server(
        on_client, unit.host, unit.port, ssl=tls, limit=MAX_HEADER_BYTES
    )
