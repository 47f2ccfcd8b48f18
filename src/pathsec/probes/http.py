"""HTTP(S) probe of Exchange virtual directories: status, authentication offered, redirects.

One GET per virtual directory of the endpoint's catalog path (every directory when the path
is unknown), without credentials and without following redirects; the body is streamed and
cut at ``max_reply_bytes``. With ``--ntlm-info`` two more requests per directory carry an
NTLMSSP NEGOTIATE, once as ``Authorization: NTLM`` and once SPNEGO-wrapped as
``Authorization: Negotiate``, and the server's CHALLENGE is decoded (names, OS version).
TLS versions and the certificate come from the ``tls`` probe (``https`` is implicit TLS).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from pathsec.probes.certs import tls_context
from pathsec.probes.interface import (
    AppProtocol,
    Attempt,
    Endpoint,
    Facts,
    Job,
    Observation,
    Prior,
    Probe,
    ProbeKind,
    ProbeSettings,
    ProtocolError,
    Speaks,
    Status,
    Twin,
)
from pathsec.probes.ntlm import NtlmObservation, decode_challenge, negotiate_message
from pathsec.probes.runtime import guarded
from pathsec.probes.text import Transcript, clean_text

if TYPE_CHECKING:  # imported where used: httpx and pyspnego cost ~0.2 s at startup
    import httpx

#: Every Exchange 2007 virtual directory pathsec knows.
ALL_VDIRS = (
    "/owa",
    "/Autodiscover/Autodiscover.xml",
    "/EWS/Exchange.asmx",
    "/Microsoft-Server-ActiveSync",
    "/Rpc/rpcproxy.dll",
    "/OAB",
    "/UnifiedMessaging/Service.asmx",
    "/Exchange",
    "/Public",
)

#: Catalog path -> the virtual directories that serve it.
PATH_VDIRS: dict[str, tuple[str, ...]] = {
    "client_access.owa": ("/owa",),
    "client_access.cas_to_cas_owa": ("/owa",),
    "client_access.autodiscover": ("/Autodiscover/Autodiscover.xml",),
    "client_access.availability_service": ("/EWS/Exchange.asmx",),
    "mailbox.availability_web_service": ("/EWS/Exchange.asmx",),
    "client_access.activesync": ("/Microsoft-Server-ActiveSync",),
    "client_access.cas_to_cas_activesync": ("/Microsoft-Server-ActiveSync",),
    "client_access.outlook_anywhere": ("/Rpc/rpcproxy.dll",),
    "client_access.outlook_oab_web": ("/OAB",),
    "unified_messaging.web_service": ("/UnifiedMessaging/Service.asmx",),
    "client_access.webdav": ("/Exchange", "/Public"),
    "mailbox.webdav": ("/Exchange", "/Public"),
    "client_access.cas_to_legacy_mailbox": ("/Exchange", "/Public"),
    "transport.edge_to_edge": ("/",),
}

FORMS_LOGON = "/owa/auth/logon.aspx"
#: The response headers that name a product and version: what ``HttpResponse.headers`` keeps.
VERSION_HEADERS = ("server", "x-owa-version", "x-aspnet-version", "x-powered-by", "x-feserver")


def vdirs_for(path_id: str | None) -> tuple[str, ...]:
    """The virtual directories to request for a catalog path."""
    return PATH_VDIRS.get(path_id or "", ALL_VDIRS)


class HttpResponse(BaseModel):
    """The answer to one unauthenticated GET."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    status: int
    auth_schemes: tuple[str, ...] = ()
    basic_realm: str | None = None
    location: str | None = None
    forms_logon: bool = False
    redirect_to_https: bool = False
    #: The version headers (:data:`VERSION_HEADERS`) only: PS-HTTP-003 reads them as product
    #: versions. Any other header a check needs gets a field of its own.
    headers: dict[str, str] = Field(default_factory=dict)
    body_bytes: int = 0
    body_truncated: bool = False
    #: The Strict-Transport-Security header (HTTPS), and its max-age in seconds.
    hsts: str | None = None
    hsts_max_age: int | None = None


class HttpNtlm(BaseModel):
    """The NTLM challenge one directory returned through one scheme (NTLM or Negotiate)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    scheme: str
    status: int | None = None
    challenge: NtlmObservation | None = None
    error: str | None = None


class HttpObservation(Observation):
    """What every requested virtual directory answered."""

    scheme: str = "https"
    responses: tuple[HttpResponse, ...] = ()
    failed: dict[str, str] = Field(default_factory=dict)
    ntlm: tuple[HttpNtlm, ...] = ()

    def identifies_microsoft(self) -> bool:
        """IIS or Exchange response headers (Server: Microsoft-IIS, X-OWA-Version,
        X-FEServer, X-AspNet-Version) or OWA's forms logon."""
        for r in self.responses:
            h = r.headers
            if "x-owa-version" in h or "x-feserver" in h or "x-aspnet-version" in h:
                return True
            if h.get("server", "").startswith("Microsoft-IIS") or r.forms_logon:
                return True
        return False

    @property
    def auth_schemes(self) -> tuple[str, ...]:
        """Every scheme offered by any directory, in first-seen order."""
        return tuple(dict.fromkeys(s for r in self.responses for s in r.auth_schemes))


def parse_auth_schemes(values: Sequence[str]) -> tuple[tuple[str, ...], str | None]:
    """Scheme names from WWW-Authenticate values (one header may list several) and the
    Basic realm."""
    schemes: list[str] = []
    realm = None
    for value in values:
        for part in re.split(r",\s*(?=[A-Za-z][\w-]*(?:\s|$|,))", value):
            part = part.strip()
            if not part:
                continue
            name = part.split(None, 1)[0]
            if "=" in name:  # a parameter of the previous scheme
                continue
            canon = {"basic": "Basic", "digest": "Digest", "ntlm": "NTLM", "negotiate": "Negotiate"}
            schemes.append(canon.get(name.lower(), name))
            m = re.search(r'realm="([^"]*)"', part, re.I)
            if name.lower() == "basic" and m:
                realm = m.group(1)
    return tuple(dict.fromkeys(schemes)), realm


def spnego_negotiate() -> bytes:
    """An SPNEGO NegTokenInit offering NTLM, carrying the NTLMSSP NEGOTIATE."""
    from spnego._context import GSSMech
    from spnego._spnego import NegTokenInit

    mech = GSSMech.ntlm.value
    return bytes(NegTokenInit(mech_types=[mech], mech_token=negotiate_message()).pack())


def _challenge_from(value: str, scheme: str) -> str:
    """The base64 NTLMSSP CHALLENGE inside a ``WWW-Authenticate`` value."""
    parts = value.split(None, 1)
    if len(parts) != 2 or parts[0].lower() != scheme.lower():
        raise ProtocolError(f"no {scheme} token in WWW-Authenticate")
    token = parts[1].strip()
    if scheme == "NTLM":
        return token
    from spnego._spnego import NegTokenResp, unpack_token

    try:
        raw = base64.b64decode(token, validate=True)
        resp = unpack_token(raw)
    except Exception:  # pyspnego raises assorted errors on malformed tokens
        raise ProtocolError("malformed SPNEGO token in WWW-Authenticate") from None
    if not isinstance(resp, NegTokenResp) or not resp.response_token:
        raise ProtocolError("SPNEGO answer carries no NTLM challenge")
    return base64.b64encode(resp.response_token).decode("ascii")


def _url(ep: Endpoint, path: str) -> str:
    scheme = "https" if ep.implicit_tls else "http"
    host = f"[{ep.host}]" if ":" in ep.host else ep.host
    return f"{scheme}://{host}:{ep.port}{path}"


class HttpProbe(Probe[HttpObservation]):
    """The HTTP probe: one request (one connection) per directory and variant."""

    kind = ProbeKind.http
    observation = HttpObservation
    speaks = (Speaks(AppProtocol.http, (80,), twin=Twin(AppProtocol.https, (443,))),)

    def plan(self, endpoint: Endpoint, settings: ProbeSettings, prior: Prior) -> Sequence[Job]:
        """A GET per directory; with ``ntlm_info`` also an NTLM and a Negotiate request."""
        jobs = [Job(self.kind, endpoint, f"GET {p}") for p in vdirs_for(endpoint.path_id)]
        if settings.ntlm_info:
            for p in vdirs_for(endpoint.path_id):
                jobs += [
                    Job(self.kind, endpoint, f"NTLM {p}"),
                    Job(self.kind, endpoint, f"Negotiate {p}"),
                ]
        return jobs

    async def run(self, job: Job, settings: ProbeSettings) -> Attempt:
        """Send one request, stream at most ``max_reply_bytes`` of the body, close."""
        import httpx

        ep = job.endpoint
        mode, path = job.variant.split(" ", 1)

        async def body(transcript: Transcript) -> BaseModel:
            headers = {"User-Agent": "pathsec", "Accept": "*/*"}
            if ep.server_name:
                headers["Host"] = ep.server_name
            if mode == "NTLM":
                headers["Authorization"] = "NTLM " + base64.b64encode(negotiate_message()).decode()
            elif mode == "Negotiate":
                headers["Authorization"] = (
                    "Negotiate " + base64.b64encode(spnego_negotiate()).decode()
                )
            # The permissive context: HTTP checks run whatever TLS the server speaks.
            transport = httpx.AsyncHTTPTransport(
                verify=tls_context(), retries=0, local_address=settings.source_address
            )
            timeout = httpx.Timeout(settings.timeout)
            url = _url(ep, path)
            transcript.add(
                "C", f"GET {path} HTTP/1.1" + (f" ({mode} NEGOTIATE)" if mode != "GET" else "")
            )
            async with (
                httpx.AsyncClient(
                    transport=transport, timeout=timeout, follow_redirects=False
                ) as client,
                client.stream("GET", url, headers=headers) as resp,
            ):
                transcript.add(
                    "S", f"HTTP/{resp.http_version[5:]} {resp.status_code} {resp.reason_phrase}"
                )
                for k, v in resp.headers.multi_items():
                    if k.lower() in (
                        "www-authenticate",
                        "location",
                        "strict-transport-security",
                        *VERSION_HEADERS,
                    ):
                        transcript.add("S", f"{k}: {v}")
                got, truncated = 0, False
                async for chunk in resp.aiter_raw():
                    got += len(chunk)
                    if got >= settings.max_reply_bytes:
                        truncated = True
                        break
                auth_values = resp.headers.get_list("www-authenticate")
            if mode != "GET":
                value = next(
                    (v for v in auth_values if v.lower().startswith(mode.lower() + " ")), None
                )
                if value is None:
                    return HttpNtlm(
                        path=path,
                        scheme=mode,
                        status=resp.status_code,
                        error="no challenge returned",
                    )
                try:
                    challenge = decode_challenge(_challenge_from(value, mode))
                except ProtocolError as exc:
                    return HttpNtlm(path=path, scheme=mode, status=resp.status_code, error=str(exc))
                return HttpNtlm(
                    path=path, scheme=mode, status=resp.status_code, challenge=challenge
                )
            schemes, realm = parse_auth_schemes(auth_values)
            location = resp.headers.get("location")
            return HttpResponse(
                path=path,
                status=resp.status_code,
                auth_schemes=schemes,
                basic_realm=clean_text(realm, 120) if realm is not None else None,
                location=clean_text(location, 240) if location else None,
                forms_logon=bool(location and FORMS_LOGON in location.lower()),
                redirect_to_https=bool(
                    300 <= resp.status_code < 400
                    and location
                    and location.lower().startswith("https://")
                ),
                headers={
                    k: clean_text(resp.headers[k], 120)
                    for k in VERSION_HEADERS
                    if k in resp.headers
                },
                body_bytes=got,
                body_truncated=truncated,
                **_hsts(resp.headers.get("strict-transport-security")),
            )

        try:
            return await guarded(job, body, settings)
        except httpx.HTTPError as exc:
            return Attempt(
                job, *_http_failure(exc), (f"*: {clean_text(str(exc) or type(exc).__name__)}",)
            )

    def fold(self, endpoint: Endpoint, attempts: Sequence[Attempt]) -> HttpObservation:
        """All responses; ok when at least one directory answered."""
        responses = [a.value for a in attempts if isinstance(a.value, HttpResponse)]
        ntlm = [a.value for a in attempts if isinstance(a.value, HttpNtlm)]
        failed = {
            a.job.variant: f"{a.status.value}: {a.reason}"
            for a in attempts
            if a.status is not Status.ok
        }
        transcript = [line for a in attempts for line in a.transcript][:60]
        ok = bool(responses)
        first_bad = next((a for a in attempts if a.status is not Status.ok), None)
        return HttpObservation(
            status=Status.ok if ok else (first_bad.status if first_bad else Status.error),
            reason=None if ok else (first_bad.reason if first_bad else "no response"),
            transcript=tuple(transcript),
            scheme="https" if endpoint.implicit_tls else "http",
            responses=tuple(responses),
            failed=failed,
            ntlm=tuple(ntlm),
        )

    def summary(self, obs: HttpObservation) -> str:
        """Each directory's status and authentication schemes."""
        return " ".join(
            f"{r.path} {r.status}{' ' + ','.join(r.auth_schemes) if r.auth_schemes else ''}"
            for r in obs.responses
        )

    def facts(self, obs: HttpObservation) -> Facts:
        """Per directory: status, schemes, and whether a redirect goes to HTTPS."""
        facts: Facts = {}
        for r in obs.responses:
            facts[f"http{r.path}.status"] = r.status
            facts[f"http{r.path}.auth"] = list(r.auth_schemes)
            if r.location is not None:
                facts[f"http{r.path}.redirect_https"] = r.redirect_to_https
        return facts


def _hsts(value: str | None) -> dict[str, str | int | None]:
    """The HSTS header as kept (cleaned) and its max-age (None when absent or malformed)."""
    if value is None:
        return {}
    m = re.search(r"(?:^|;)\s*max-age\s*=\s*\"?(\d{1,12})\"?", value, re.I)
    return {"hsts": clean_text(value, 160), "hsts_max_age": int(m.group(1)) if m else None}


def _http_failure(exc: httpx.HTTPError) -> tuple[Status, str]:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return Status.timeout, "no answer within the timeout"
    if isinstance(exc, httpx.ConnectError):
        text = str(exc)
        if "refused" in text.lower():
            return Status.refused, "connection refused"
        if "ssl" in text.lower() or "certificate" in text.lower():
            return Status.tls_error, f"TLS error: {clean_text(text, 160)}"
        return Status.error, clean_text(text, 160) or "connect failed"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.DecodingError)):
        return Status.protocol_error, clean_text(str(exc), 160) or "malformed HTTP answer"
    return Status.error, f"{type(exc).__name__}: {clean_text(str(exc), 160)}"
