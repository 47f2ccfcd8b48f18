"""Probes of live endpoints, one module each, registered in :data:`PROBES`.

The engine (:mod:`pathsec.audit.engine`) runs them in stages: ``tcp`` first, then the
application probe of the endpoint's protocol, then ``tls`` and ``ntlm``, which plan their
connections from what the application probe saw.
"""

from __future__ import annotations

from pathsec.probes.base import (
    Endpoint,
    MailProtocol,
    Observation,
    Probe,
    ProbeKind,
    ProbeSettings,
    ProtocolError,
    Status,
)
from pathsec.probes.imap import ImapObservation, ImapProbe
from pathsec.probes.ntlm import NtlmObservation, NtlmProbe
from pathsec.probes.pop3 import Pop3Observation, Pop3Probe
from pathsec.probes.smtp import SmtpObservation, SmtpProbe
from pathsec.probes.tcp import TcpObservation, TcpProbe
from pathsec.probes.tls import TlsObservation, TlsProbe

#: The one registry: every probe kind maps to its probe.
PROBES: dict[ProbeKind, Probe] = {
    ProbeKind.tcp: TcpProbe(),
    ProbeKind.tls: TlsProbe(),
    ProbeKind.smtp: SmtpProbe(),
    ProbeKind.pop3: Pop3Probe(),
    ProbeKind.imap: ImapProbe(),
    ProbeKind.ntlm: NtlmProbe(),
}

__all__ = [
    "PROBES",
    "Endpoint",
    "ImapObservation",
    "MailProtocol",
    "NtlmObservation",
    "Observation",
    "Pop3Observation",
    "Probe",
    "ProbeKind",
    "ProbeSettings",
    "ProtocolError",
    "SmtpObservation",
    "Status",
    "TcpObservation",
    "TlsObservation",
]
