"""LDAP probe (389, 3268, 50389; ldaps 636, 3269, 50636): the anonymous rootDSE, and StartTLS.

One connection: an anonymous base search of the rootDSE (the only thing a directory must
answer without a bind); on a plain port StartTLS (1.3.6.1.4.1.1466.20037) is then performed,
whether or not ``supportedExtension`` advertises it (Samba lists no extensions yet accepts
it), and the SASL mechanisms are read again (servers often add PLAIN/LOGIN only after TLS).
No bind is ever sent. ldap3 is synchronous, so the job runs in a thread of the run's pool
(:mod:`pathsec.probes.blocking`) with ldap3's own connect and receive timeouts.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel, ConfigDict

from pathsec.probes.blocking import run_blocking
from pathsec.probes.certs import TlsSession, describe_session, tls_context
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
    Twin,
)
from pathsec.probes.runtime import guarded
from pathsec.probes.text import Transcript, clean_text

if TYPE_CHECKING:  # imported where used: ldap3 costs ~60 ms at startup
    import ldap3

STARTTLS_OID = "1.3.6.1.4.1.1466.20037"
ROOTDSE_ATTRS = (
    "supportedSASLMechanisms",
    "supportedExtension",
    "supportedCapabilities",
    "supportedLDAPVersion",
    "dnsHostName",
    "defaultNamingContext",
    "domainFunctionality",
    "forestFunctionality",
    "domainControllerFunctionality",
    "isGlobalCatalogReady",
    "vendorName",
    "namingContexts",
)
MAX_VALUES = 64


class RootDse(BaseModel):
    """The rootDSE attributes pathsec reads."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sasl_mechanisms: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    ldap_versions: tuple[str, ...] = ()
    dns_host_name: str | None = None
    default_naming_context: str | None = None
    naming_contexts: tuple[str, ...] = ()
    domain_functionality: str | None = None
    forest_functionality: str | None = None
    dc_functionality: str | None = None
    global_catalog_ready: str | None = None
    vendor_name: str | None = None


class LdapObservation(Observation):
    """rootDSE before (and after) StartTLS."""

    root_dse: RootDse | None = None
    starttls_advertised: bool = False
    starttls_performed: bool = False
    starttls_error: str | None = None
    sasl_after_tls: tuple[str, ...] | None = None
    tls: TlsSession | None = None

    def tls_session(self) -> TlsSession | None:
        """The session of the LDAPS or StartTLS handshake."""
        return self.tls

    def tls_failure(self) -> str | None:
        """Why StartTLS failed."""
        return self.starttls_error

    @property
    def active_directory(self) -> bool:
        """True when the capabilities name Active Directory (800) or AD LDS/ADAM (1851)."""
        caps = self.root_dse.capabilities if self.root_dse else ()
        return any(c.endswith((".800", ".1851")) for c in caps)

    def identifies_microsoft(self) -> bool:
        """Active Directory or AD LDS/ADAM (the directory of the reference's paths)."""
        return self.active_directory


def _values(entry: Mapping[str, Any], name: str) -> tuple[str, ...]:
    for key, vals in entry.items():
        if key.lower() == name.lower():
            items = vals if isinstance(vals, (list, tuple)) else [vals]
            return tuple(clean_text(str(v), 200) for v in items[:MAX_VALUES])
    return ()


def _one(entry: Mapping[str, Any], name: str) -> str | None:
    vals = _values(entry, name)
    return vals[0] if vals else None


def parse_root_dse(entry: Mapping[str, Any]) -> RootDse:
    """Turn raw rootDSE attributes (name -> values) into :class:`RootDse`."""
    return RootDse(
        sasl_mechanisms=_values(entry, "supportedSASLMechanisms"),
        extensions=_values(entry, "supportedExtension"),
        capabilities=_values(entry, "supportedCapabilities"),
        ldap_versions=_values(entry, "supportedLDAPVersion"),
        dns_host_name=_one(entry, "dnsHostName"),
        default_naming_context=_one(entry, "defaultNamingContext"),
        naming_contexts=_values(entry, "namingContexts"),
        domain_functionality=_one(entry, "domainFunctionality"),
        forest_functionality=_one(entry, "forestFunctionality"),
        dc_functionality=_one(entry, "domainControllerFunctionality"),
        global_catalog_ready=_one(entry, "isGlobalCatalogReady"),
        vendor_name=_one(entry, "vendorName"),
    )


def _read(conn: ldap3.Connection, transcript: Transcript) -> dict[str, Any]:
    import ldap3

    transcript.add("C", "search base='' scope=base (objectClass=*) [rootDSE]")
    ok = conn.search("", "(objectClass=*)", ldap3.BASE, attributes=list(ROOTDSE_ATTRS))
    if not ok or not conn.response:
        result = conn.result or {}
        why = f"{result.get('description')} {result.get('message', '')}".strip()
        raise ProtocolError(f"rootDSE search failed: {why}")
    entry = next((r for r in conn.response if r.get("type") == "searchResEntry"), None)
    if entry is None:
        raise ProtocolError("rootDSE search returned no entry")
    attrs = dict(entry.get("raw_attributes") or {})
    decoded = {
        k: [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in vals]
        for k, vals in attrs.items()
    }
    transcript.add("S", f"rootDSE: {len(decoded)} attributes")
    for k in ("supportedSASLMechanisms", "dnsHostName"):
        if k in decoded:
            transcript.add("S", f"{k}: {' '.join(decoded[k][:12])}")
    return decoded


def _permissive_tls(ldap3: Any) -> Any:
    """An ``ldap3.Tls`` that wraps sockets with pathsec's permissive context (LDAPS and
    StartTLS complete whatever TLS the server speaks; ldap3's own context would stop at
    Python's defaults: TLS 1.2, no RSA key exchange, no CBC-SHA1)."""

    class PermissiveTls(ldap3.Tls):  # type: ignore[misc]
        def wrap_socket(self, connection: Any, do_handshake: bool = False) -> None:
            connection.socket = tls_context().wrap_socket(
                connection.socket,
                server_side=False,
                do_handshake_on_connect=do_handshake,
                server_hostname=self.sni,
            )

    return PermissiveTls(validate=ssl.CERT_NONE)


def _probe_sync(ep: Endpoint, settings: ProbeSettings, transcript: Transcript) -> LdapObservation:
    import ldap3
    from ldap3.core.exceptions import LDAPException

    tls = _permissive_tls(ldap3)
    server = ldap3.Server(
        ep.host,
        port=ep.port,
        use_ssl=ep.implicit_tls,
        tls=tls,
        get_info=ldap3.NONE,
        connect_timeout=settings.timeout,
    )
    conn = ldap3.Connection(
        server,
        auto_bind=ldap3.AUTO_BIND_NONE,
        receive_timeout=int(max(1, settings.timeout)),
        source_address=settings.source_address,
        raise_exceptions=False,
        read_only=True,
    )
    try:
        conn.open()
        sock = conn.socket
        session = (
            describe_session(cast(ssl.SSLObject, sock), ep.server_name or ep.host)
            if isinstance(sock, ssl.SSLSocket)
            else None
        )
        if session is not None:
            transcript.note(f"TLS handshake done ({session.version})")
        root = parse_root_dse(_read(conn, transcript))
        advertised = STARTTLS_OID in root.extensions
        performed, error, after = False, None, None
        if not ep.implicit_tls:  # tried also when not advertised (Samba lists none)
            transcript.add("C", f"extended request {STARTTLS_OID} (StartTLS)")
            try:
                performed = bool(conn.start_tls(read_server_info=False))
            except (LDAPException, OSError, ssl.SSLError) as exc:
                error = clean_text(f"{type(exc).__name__}: {exc}", 200)
            if performed and isinstance(conn.socket, ssl.SSLSocket):
                session = describe_session(
                    cast(ssl.SSLObject, conn.socket), ep.server_name or ep.host
                )
                transcript.note(f"TLS handshake done ({session.version if session else '?'})")
                after = parse_root_dse(_read(conn, transcript)).sasl_mechanisms
            elif error is None:
                error = clean_text(
                    str((conn.result or {}).get("description", "StartTLS refused")), 200
                )
        return LdapObservation(
            root_dse=root,
            starttls_advertised=advertised,
            starttls_performed=performed,
            starttls_error=error,
            sasl_after_tls=after,
            tls=session,
        )
    except LDAPException as exc:
        text = str(exc)
        if "refused" in text.lower():
            raise ConnectionRefusedError("connection refused") from None
        if "timed out" in text.lower() or "timeout" in text.lower():
            raise TimeoutError(text) from None
        raise ProtocolError(clean_text(f"{type(exc).__name__}: {text}", 200)) from None
    finally:
        with contextlib.suppress(LDAPException, OSError):
            conn.unbind()


class LdapProbe(Probe[LdapObservation]):
    """The LDAP probe: one connection, rootDSE, then StartTLS on plain ports."""

    kind = ProbeKind.ldap
    observation = LdapObservation
    speaks = (
        Speaks(
            AppProtocol.ldap, (389, 3268, 50389), twin=Twin(AppProtocol.ldaps, (636, 3269, 50636))
        ),
    )

    def plan(self, endpoint: Endpoint, settings: ProbeSettings, prior: Prior) -> Sequence[Job]:
        """Always one job."""
        return (Job(self.kind, endpoint),)

    async def run(self, job: Job, settings: ProbeSettings) -> Attempt:
        """Run the synchronous dialogue in a thread, bounded by an overall timeout."""
        import ldap3  # noqa: F401  # here, not first in the worker threads

        async def body(transcript: Transcript) -> BaseModel:
            return await run_blocking(
                lambda: _probe_sync(job.endpoint, settings, transcript), settings.timeout * 4
            )

        return await guarded(job, body, settings)

    def fold(self, endpoint: Endpoint, attempts: Sequence[Attempt]) -> LdapObservation:
        """The single attempt's observation."""
        return self.fold_one(attempts)

    def summary(self, obs: LdapObservation) -> str:
        """The directory's name and its SASL mechanisms."""
        r = obs.root_dse
        if r is None:
            return ""
        return f"{r.dns_host_name or r.vendor_name or 'rootDSE'} SASL {' '.join(r.sasl_mechanisms)}"

    def facts(self, obs: LdapObservation) -> Facts:
        """SASL mechanisms before and after StartTLS, and whether StartTLS worked."""
        if obs.root_dse is None:
            return {}
        facts: Facts = {
            "ldap.sasl": sorted(obs.root_dse.sasl_mechanisms),
            "ldap.starttls": obs.starttls_performed,
        }
        if obs.sasl_after_tls is not None:
            facts["ldap.sasl_after_tls"] = sorted(obs.sasl_after_tls)
        return facts
