"""Probes of live endpoints, one module each, registered in :data:`PROBES`.

The engine (:mod:`pathsec.audit.engine`) runs them in stages: ``tcp`` first, then the
application probe of the endpoint's protocol, then ``tls`` and ``ntlm``, which plan their
connections from what the application probe saw.
"""

from __future__ import annotations

from pathsec.probes.base import (
    AppProtocol,
    Endpoint,
    MailProtocol,
    Observation,
    Probe,
    ProbeKind,
    ProbeSettings,
    ProtocolError,
    Status,
)
from pathsec.probes.dns import DnsObservation, DnsProbe
from pathsec.probes.http import HttpObservation, HttpProbe
from pathsec.probes.imap import ImapObservation, ImapProbe
from pathsec.probes.kerberos import KerberosObservation, KerberosProbe
from pathsec.probes.ldap import LdapObservation, LdapProbe
from pathsec.probes.ntlm import NtlmObservation, NtlmProbe
from pathsec.probes.pop3 import Pop3Observation, Pop3Probe
from pathsec.probes.rpc import RpcObservation, RpcProbe
from pathsec.probes.sip import SipObservation, SipProbe
from pathsec.probes.smb import SmbObservation, SmbProbe
from pathsec.probes.smtp import SmtpObservation, SmtpProbe
from pathsec.probes.tcp import TcpObservation, TcpProbe
from pathsec.probes.tls import TlsObservation, TlsProbe
from pathsec.probes.udp import UdpObservation, UdpProbe

#: The one registry: every probe kind maps to its probe.
PROBES: dict[ProbeKind, Probe] = {
    ProbeKind.tcp: TcpProbe(),
    ProbeKind.tls: TlsProbe(),
    ProbeKind.smtp: SmtpProbe(),
    ProbeKind.pop3: Pop3Probe(),
    ProbeKind.imap: ImapProbe(),
    ProbeKind.ntlm: NtlmProbe(),
    ProbeKind.http: HttpProbe(),
    ProbeKind.ldap: LdapProbe(),
    ProbeKind.kerberos: KerberosProbe(),
    ProbeKind.dns: DnsProbe(),
    ProbeKind.rpc: RpcProbe(),
    ProbeKind.smb: SmbProbe(),
    ProbeKind.sip: SipProbe(),
    ProbeKind.udp: UdpProbe(),
}

__all__ = [
    "PROBES",
    "AppProtocol",
    "DnsObservation",
    "Endpoint",
    "HttpObservation",
    "ImapObservation",
    "KerberosObservation",
    "LdapObservation",
    "MailProtocol",
    "NtlmObservation",
    "Observation",
    "Pop3Observation",
    "Probe",
    "ProbeKind",
    "ProbeSettings",
    "ProtocolError",
    "RpcObservation",
    "SipObservation",
    "SmbObservation",
    "SmtpObservation",
    "Status",
    "TcpObservation",
    "TlsObservation",
    "UdpObservation",
]
