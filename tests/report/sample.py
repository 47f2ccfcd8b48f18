"""A fixed audit result and plan for report tests and golden files.

It holds every check status (pass, finding, closed, not observable, not audited), every
severity, a hostile banner (HTML, an attribute break-out and ANSI escapes) and Chinese text.
"""

from __future__ import annotations

from pathlib import Path

from pathsec.audit.models import (
    AuditResult,
    EndpointResult,
    Finding,
    FindingSeverity,
    Observations,
    Text,
)
from pathsec.plan.models import EncryptionExpectation, Flow, HostInfo, HostKind, Plan, ZoneInfo
from pathsec.probes.certs import CertificateFacts, TlsSession
from pathsec.probes.interface import AppProtocol, Status
from pathsec.probes.smtp import EhloInfo, SmtpObservation
from pathsec.probes.tcp import TcpObservation
from pathsec.probes.tls import TlsObservation
from pathsec.report.load import load_plan

HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(1)> \x1b[31mRED\x1b[0m'

CERT = CertificateFacts(
    subject="CN=edge1.example.test",
    issuer="CN=edge1.example.test",
    subject_cn="edge1.example.test",
    sans=("edge1.example.test",),
    not_before="2026-01-01T00:00:00+00:00",
    not_after="2027-01-01T00:00:00+00:00",
    expired=False,
    not_yet_valid=False,
    self_signed=True,
    key_type="RSA",
    key_bits=2048,
    signature_algorithm="sha256WithRSAEncryption",
    hostname="edge1.example.test",
    hostname_match=True,
    sha256="ab" * 32,
)


def _ehlo(auth: tuple[str, ...], starttls: bool) -> EhloInfo:
    keywords = ["PIPELINING", "SIZE", "8BITMIME"]
    if starttls:
        keywords.append("STARTTLS")
    if auth:
        keywords.append("AUTH")
    return EhloInfo(
        greeting="edge1.example.test",
        keywords=tuple(keywords),
        auth=auth,
        starttls=starttls,
        size=10485760,
        size_advertised=True,
        exchange_markers=(),
        x_exps=(),
    )


def _finding(
    fid: str,
    sev: FindingSeverity,
    title: tuple[str, str],
    host: str,
    port: int,
    proto: AppProtocol,
    path: str | None,
    flow: str | None,
    evidence: tuple[str, ...],
) -> Finding:
    return Finding(
        id=fid,
        severity=sev,
        title=Text(en=title[0], zh=title[1]),
        remediation=Text(
            en=f"Fix {fid}: follow the data path's reference settings.",
            zh=f"修正 {fid}:按照数据路径的参考设置配置。",
        ),
        host=host,
        port=port,
        protocol=proto,
        path_id=path,
        flow_id=flow,
        evidence=evidence,
    )


FLOW_EDGE = "transport.edge_to_edge:internet->edge1:tcp/25"
FLOW_HUB = "transport.edge_to_hub:edge1->hub1:tcp/25"
FLOW_IMAP = "client_access.imap4:clients->cas1:tcp/143"
FLOW_POP = "client_access.pop3:clients->cas1:tcp/110"
FLOW_UNAUDITED = "client_access.owa:clients->cas1:tcp/443"


def sample_result() -> AuditResult:
    """The fixed result: five endpoints, six findings."""
    smtp_edge = SmtpObservation(
        banner=f"220 edge1.example.test ESMTP {HOSTILE}",
        ehlo_before=_ehlo(("PLAIN", "LOGIN"), True),
        starttls_offered=True,
        starttls_reply="220 2.0.0 Ready to start TLS",
        tls=TlsSession(
            version="TLSv1.3", cipher="TLS_AES_256_GCM_SHA384", cipher_bits=256, certificate=CERT
        ),
        ehlo_after=_ehlo(("PLAIN", "LOGIN"), False),
        transcript=(
            f"S: 220 edge1.example.test ESMTP {HOSTILE}",
            "C: EHLO pathsec.invalid",
            "S: 250-edge1.example.test",
        ),
    )
    tls_edge = TlsObservation(
        versions={"TLSv1.0": "accepted", "TLSv1.2": "accepted", "TLSv1.3": "accepted"},
        session=smtp_edge.tls,
    )
    endpoints = (
        EndpointResult(
            host="edge1.example.test",
            port=25,
            protocol=AppProtocol.smtp,
            path_id="transport.edge_to_edge",
            flow_id=FLOW_EDGE,
            status=Status.ok,
            observations=Observations(
                tcp=TcpObservation(state="open", connect_ms=0.4), smtp=smtp_edge, tls=tls_edge
            ),
        ),
        EndpointResult(
            host="hub1.example.test",
            port=25,
            protocol=AppProtocol.smtp,
            path_id="transport.edge_to_hub",
            flow_id=FLOW_HUB,
            status=Status.ok,
            observations=Observations(
                tcp=TcpObservation(state="open", connect_ms=0.3),
                smtp=SmtpObservation(
                    banner="220 hub1.example.test Microsoft ESMTP MAIL Service ready",
                    ehlo_before=_ehlo((), True),
                    starttls_offered=True,
                ),
            ),
        ),
        EndpointResult(
            host="cas1.example.test",
            port=143,
            protocol=AppProtocol.imap,
            path_id="client_access.imap4",
            flow_id=FLOW_IMAP,
            status=Status.refused,
            reason="connection refused",
            observations=Observations(
                tcp=TcpObservation(
                    status=Status.refused, reason="connection refused", state="closed"
                )
            ),
        ),
        EndpointResult(
            host="cas1.example.test",
            port=110,
            protocol=AppProtocol.pop3,
            path_id="client_access.pop3",
            flow_id=FLOW_POP,
            status=Status.timeout,
            reason="no answer within the timeout",
            observations=Observations(
                tcp=TcpObservation(
                    status=Status.timeout, reason="no answer within the timeout", state="filtered"
                )
            ),
        ),
        EndpointResult(
            host="198.51.100.7",
            port=587,
            protocol=AppProtocol.smtp,
            path_id=None,
            status=Status.ok,
            observations=Observations(
                tcp=TcpObservation(state="open"),
                smtp=SmtpObservation(
                    banner="220 relay ESMTP", ehlo_before=_ehlo(("CRAM-MD5",), False)
                ),
            ),
        ),
    )
    findings = (
        _finding(
            "PS-SMTP-001",
            FindingSeverity.high,
            ("SMTP: plain-text login offered before TLS", "SMTP:TLS 之前提供明文登录"),
            "edge1.example.test",
            25,
            AppProtocol.smtp,
            "transport.edge_to_edge",
            FLOW_EDGE,
            (
                "AUTH PLAIN LOGIN offered before STARTTLS",
                f"banner: 220 edge1.example.test ESMTP {HOSTILE}",
            ),
        ),
        _finding(
            "PS-TLS-003",
            FindingSeverity.medium,
            ("Old TLS versions accepted", "接受旧版 TLS"),
            "edge1.example.test",
            25,
            AppProtocol.smtp,
            "transport.edge_to_edge",
            FLOW_EDGE,
            ("TLSv1.0 accepted",),
        ),
        _finding(
            "PS-TLS-010",
            FindingSeverity.low,
            ("Self-signed certificate", "自签名证书"),
            "edge1.example.test",
            25,
            AppProtocol.smtp,
            "transport.edge_to_edge",
            FLOW_EDGE,
            ("=cmd|' /C calc'!A0 issuer equals subject: CN=edge1.example.test",),
        ),
        _finding(
            "PS-SMTP-004",
            FindingSeverity.info,
            (
                "Microsoft Exchange identified by its EHLO keywords",
                "通过 EHLO 关键字识别出 Microsoft Exchange",
            ),
            "hub1.example.test",
            25,
            AppProtocol.smtp,
            "transport.edge_to_hub",
            FLOW_HUB,
            ("banner: 220 hub1.example.test Microsoft ESMTP MAIL Service ready",),
        ),
        _finding(
            "PS-TCP-001",
            FindingSeverity.medium,
            ("Port closed (connection refused)", "端口关闭(连接被拒绝)"),
            "cas1.example.test",
            143,
            AppProtocol.imap,
            "client_access.imap4",
            FLOW_IMAP,
            ("connection refused",),
        ),
        _finding(
            "PS-SMTP-002",
            FindingSeverity.critical,
            (
                "SMTP: authentication method outside the reference's supported set",
                "SMTP:提供了参考文档支持范围之外的身份验证方法",
            ),
            "198.51.100.7",
            587,
            AppProtocol.smtp,
            None,
            None,
            ("AUTH CRAM-MD5 | `pipes` and ```fences```",),
        ),
    )
    return AuditResult(
        started="2026-11-28T03:00:00+00:00",
        finished="2026-11-28T03:00:05+00:00",
        complete=True,
        profile="reference",
        endpoints=endpoints,
        findings=findings,
    )


def _flow(fid: str, path: str, src: str, sz: str, dst: str, dz: str, port: int) -> Flow:
    return Flow(
        id=fid,
        path_id=path,
        source=src,
        source_zone=sz,
        destination=dst,
        destination_zone=dz,
        protocol="tcp",
        port=port,
        default_auth=("anonymous",),
        supported_auth=("anonymous", "basic"),
        encryption=EncryptionExpectation(supported=True, mechanisms=("tls",), by_default=True),
    )


def sample_plan() -> Plan:
    """Three zones, four hosts, five flows (one not audited)."""
    return Plan(
        deployment="Example Org",
        hosts=(
            HostInfo(
                name="internet",
                kind=HostKind.partner,
                zone="internet",
                addresses=("0.0.0.0/0",),
                roles=("remote_organization",),
            ),
            HostInfo(
                name="clients",
                kind=HostKind.client_population,
                zone="internal",
                addresses=("10.0.0.0/8",),
                roles=("pop_imap_client",),
            ),
            HostInfo(
                name="edge1",
                kind=HostKind.server,
                zone="perimeter",
                addresses=("192.0.2.10",),
                roles=("edge_transport",),
            ),
            HostInfo(
                name="hub1",
                kind=HostKind.server,
                zone="internal",
                addresses=("192.0.2.20",),
                roles=("hub_transport",),
            ),
            HostInfo(
                name="cas1",
                kind=HostKind.server,
                zone="internal",
                addresses=("192.0.2.30",),
                roles=("client_access",),
            ),
        ),
        zones=(
            ZoneInfo(name="internet", kind="internet", cidrs=("0.0.0.0/0",)),
            ZoneInfo(name="perimeter", kind="perimeter", cidrs=("192.0.2.0/28",)),
            ZoneInfo(name="internal", kind="internal", cidrs=("192.0.2.16/28", "10.0.0.0/8")),
        ),
        flows=(
            _flow(
                FLOW_EDGE,
                "transport.edge_to_edge",
                "internet",
                "internet",
                "edge1",
                "perimeter",
                25,
            ),
            _flow(FLOW_HUB, "transport.edge_to_hub", "edge1", "perimeter", "hub1", "internal", 25),
            _flow(FLOW_IMAP, "client_access.imap4", "clients", "internal", "cas1", "internal", 143),
            _flow(FLOW_POP, "client_access.pop3", "clients", "internal", "cas1", "internal", 110),
            _flow(
                FLOW_UNAUDITED, "client_access.owa", "clients", "internal", "cas1", "internal", 443
            ),
        ),
    )


TWO_SITES = Path(__file__).resolve().parents[2] / "examples" / "two-sites.yaml"


def two_sites_plan() -> Plan:
    """The plan of ``examples/two-sites.yaml`` (342 flows, 21 hosts, 6 zones)."""
    return load_plan(TWO_SITES)


def two_sites_result(plan: Plan) -> AuditResult:
    """A synthetic result for four flows in five of ``plan``: every status occurs.

    Flow i: i % 5 == 0 not audited, 1 and 2 open (2 with a high finding), 3 refused,
    4 timed out.
    """
    eps: list[EndpointResult] = []
    findings: list[Finding] = []
    for i, f in enumerate(plan.flows):
        kind = i % 5
        if kind == 0:
            continue
        port = f.port or (f.port_range.start if f.port_range else 1)
        status = {1: Status.ok, 2: Status.ok, 3: Status.refused, 4: Status.timeout}[kind]
        eps.append(
            EndpointResult(
                host=f.destination,
                port=port,
                protocol=AppProtocol.tcp,
                path_id=f.path_id,
                flow_id=f.id,
                status=status,
                reason=None if status is Status.ok else "synthetic",
                observations=Observations(),
            )
        )
        if kind == 2:
            findings.append(
                _finding(
                    "PS-TLS-003",
                    FindingSeverity.high,
                    ("Synthetic finding", "合成发现"),
                    f.destination,
                    port,
                    AppProtocol.tcp,
                    f.path_id,
                    f.id,
                    ("synthetic",),
                )
            )
    return AuditResult(
        started="2026-01-01T00:00:00+00:00",
        finished="2026-01-01T00:00:01+00:00",
        complete=True,
        profile="reference",
        endpoints=tuple(eps),
        findings=tuple(findings),
    )
