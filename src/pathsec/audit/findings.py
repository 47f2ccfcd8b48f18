"""Findings: what an observation means against a profile. One table, stable ids.

Each :class:`Check` has an id (``PS-<AREA>-<nnn>``), a title and remediation in English and
Chinese, and a function that returns evidence lines when the endpoint deviates. A profile
decides which checks run and at what severity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pathsec.audit.models import EndpointResult, Finding, Target, Text, compact
from pathsec.audit.profiles import Profile
from pathsec.probes.base import ProbeKind, Status
from pathsec.probes.certs import VERSIONS, TlsSession

#: SASL / login mechanism -> catalog authentication method.
MECH_AUTH: dict[str, str] = {
    "PLAIN": "basic",
    "LOGIN": "basic",
    "USER": "basic",
    "NTLM": "ntlm",
    "GSSAPI": "kerberos",
    "GSS-SPNEGO": "negotiate",
    "KERBEROS_V4": "kerberos",
    "CRAM-MD5": "digest",
    "DIGEST-MD5": "digest",
    "EXTERNAL": "certificate",
    "ANONYMOUS": "anonymous",
}
PLAINTEXT_MECHS = ("PLAIN", "LOGIN", "USER")


@dataclass(frozen=True)
class Context:
    """What a check sees: the target, its result and the profile."""

    target: Target
    result: EndpointResult
    profile: Profile

    @property
    def family(self) -> ProbeKind | None:
        """The application protocol family."""
        return self.target.protocol.family

    def app(self) -> object | None:
        """The application probe's observation."""
        fam = self.family
        return getattr(self.result.observations, fam.value) if fam else None

    def app_ok(self) -> bool:
        """True when the application dialogue completed."""
        obs = self.app()
        return obs is not None and getattr(obs, "status", None) is Status.ok

    def session(self) -> TlsSession | None:
        """The best TLS session seen (TLS probe first, then the application probe)."""
        tls = self.result.observations.tls
        if tls is not None and tls.session is not None:
            return tls.session
        return getattr(self.app(), "tls", None)


CheckFn = Callable[[Context], Sequence[str]]


@dataclass(frozen=True)
class Check:
    """One finding type."""

    id: str
    family: ProbeKind | None
    title_en: str
    title_zh: str
    fix_en: str
    fix_zh: str
    fn: CheckFn


def _offered(ctx: Context, before: bool) -> tuple[str, ...]:
    obs = ctx.app()
    if obs is None:
        return ()
    attr = "auth_before_tls" if ctx.family is ProbeKind.smtp and before else "auth_after_tls"
    if before and ctx.family in (ProbeKind.pop3, ProbeKind.imap):
        attr = "plain_before_tls"
    return tuple(getattr(obs, attr, ()))


# --- TCP -------------------------------------------------------------------------------------


def _closed(ctx: Context) -> Sequence[str]:
    tcp = ctx.result.observations.tcp
    if ctx.target.protocol.transport == "udp":  # ICMP port unreachable
        udp = ctx.result.observations.udp
        app = ctx.app()
        if (udp is not None and udp.state == "closed") or (
            getattr(app, "status", None) is Status.refused
        ):
            return ["UDP: ICMP port unreachable"]
        return []
    return [f"connect: {tcp.reason}"] if tcp and tcp.state == "closed" else []


def _filtered(ctx: Context) -> Sequence[str]:
    tcp = ctx.result.observations.tcp
    return [f"connect: {tcp.reason}"] if tcp and tcp.state == "filtered" else []


def _not_attempted(ctx: Context) -> Sequence[str]:
    tcp = ctx.result.observations.tcp
    if tcp is None or tcp.state != "error":
        return []
    return [f"{ctx.target.host}: {tcp.reason}", "no connection was attempted"]


def _dialogue_failed(ctx: Context) -> Sequence[str]:
    obs = ctx.app()
    if obs is None or getattr(obs, "status", Status.ok) is Status.ok:
        return []
    if ctx.target.protocol.transport == "udp" and getattr(obs, "status", None) is Status.refused:
        return []  # a closed UDP port: PS-TCP-001
    return [
        f"{getattr(obs, 'status', '')}: {getattr(obs, 'reason', '')}",
        *getattr(obs, "transcript", ())[-6:],
    ]


# --- TLS -------------------------------------------------------------------------------------


def _no_tls(ctx: Context) -> Sequence[str]:
    exp = ctx.target.expectations
    if exp is None or not exp.encryption_supported or not ctx.app_ok():
        return []
    if ctx.family not in (ProbeKind.smtp, ProbeKind.pop3, ProbeKind.imap):
        return []  # STARTTLS protocols only; LDAP, HTTP and SIP have their own checks
    if ctx.target.protocol.implicit_tls:
        return []
    obs = ctx.app()
    if getattr(obs, "starttls_offered", False) or getattr(obs, "stls_offered", False):
        return []
    caps = _capabilities_before(obs)
    return [f"capabilities before TLS: {' '.join(caps) or '(none)'}", "STARTTLS/STLS not offered"]


def _capabilities_before(obs: object) -> tuple[str, ...]:
    for attr, sub in (
        ("ehlo_before", "keywords"),
        ("capa_before", "capabilities"),
        ("caps_before", "capabilities"),
    ):
        val = getattr(obs, attr, None)
        if val is not None:
            return tuple(getattr(val, sub))
    return ()


def _tls_failed(ctx: Context) -> Sequence[str]:
    obs = ctx.app()
    err = getattr(obs, "starttls_error", None) or getattr(obs, "stls_error", None)
    if err:
        return [f"STARTTLS: {err}"]
    tls = ctx.result.observations.tls
    if tls is not None and tls.session is None and ctx.app_ok():
        return [f"{v}: {tls.versions.get(v)} ({tls.version_reasons.get(v, '')})" for v in VERSIONS]
    return []


def _old_versions(ctx: Context) -> Sequence[str]:
    tls = ctx.result.observations.tls
    if tls is None:
        return []
    order = list(VERSIONS)
    floor = order.index(ctx.profile.min_tls_version)
    return [
        f"{v} accepted (minimum {ctx.profile.min_tls_version})"
        for v in tls.accepted
        if v != "SSLv3" and order.index(v) < floor
    ]


def _sslv3(ctx: Context) -> Sequence[str]:
    tls = ctx.result.observations.tls
    return ["SSLv3 accepted"] if tls is not None and "SSLv3" in tls.accepted else []


def _no_modern(ctx: Context) -> Sequence[str]:
    tls = ctx.result.observations.tls
    if tls is None or not tls.accepted:
        return []
    order = list(VERSIONS)
    floor = order.index(ctx.profile.min_tls_version)
    if any(order.index(v) >= floor for v in tls.accepted):
        return []
    return [f"accepted: {', '.join(tls.accepted)}; none at or above {ctx.profile.min_tls_version}"]


def _cert(ctx: Context, test: Callable[[TlsSession], str | None]) -> Sequence[str]:
    s = ctx.session()
    if s is None or s.certificate is None:
        return []
    msg = test(s)
    return (
        [msg, f"subject: {s.certificate.subject}", f"issuer: {s.certificate.issuer}"] if msg else []
    )


def _expired(ctx: Context) -> Sequence[str]:
    return _cert(
        ctx,
        lambda s: (
            f"not after {s.certificate.not_after}"
            if s.certificate and s.certificate.expired
            else None
        ),
    )


def _not_yet(ctx: Context) -> Sequence[str]:
    return _cert(
        ctx,
        lambda s: (
            f"not before {s.certificate.not_before}"
            if s.certificate and s.certificate.not_yet_valid
            else None
        ),
    )


def _weak_key(ctx: Context) -> Sequence[str]:
    def test(s: TlsSession) -> str | None:
        c = s.certificate
        if c is None or c.key_bits is None:
            return None
        if c.key_type in ("RSA", "DSA") and c.key_bits < ctx.profile.min_rsa_bits:
            return f"{c.key_type} {c.key_bits} bits (minimum {ctx.profile.min_rsa_bits})"
        if c.key_type.startswith("EC") and c.key_bits < ctx.profile.min_ec_bits:
            return f"{c.key_type} {c.key_bits} bits (minimum {ctx.profile.min_ec_bits})"
        return None

    return _cert(ctx, test)


def _weak_sig(ctx: Context) -> Sequence[str]:
    def test(s: TlsSession) -> str | None:
        c = s.certificate
        alg = (c.signature_algorithm or "").lower() if c else ""
        if c and not c.self_signed and alg in ctx.profile.weak_signature_hashes:
            return f"signature hash {alg}"
        return None

    return _cert(ctx, test)


def _self_signed(ctx: Context) -> Sequence[str]:
    return _cert(
        ctx, lambda s: "self-signed" if s.certificate and s.certificate.self_signed else None
    )


def _mismatch(ctx: Context) -> Sequence[str]:
    def test(s: TlsSession) -> str | None:
        c = s.certificate
        if c and c.hostname_match is False:
            return f"{c.hostname} not in CN={c.subject_cn} SANs={', '.join(c.sans) or '(none)'}"
        return None

    return _cert(ctx, test)


# --- application protocols ---------------------------------------------------------------------


def _plaintext_before_tls(ctx: Context) -> Sequence[str]:
    if not ctx.app_ok() or ctx.target.protocol.implicit_tls:
        return []
    offered = _offered(ctx, before=True)
    bad = [m for m in offered if m in PLAINTEXT_MECHS]
    if not bad:
        return []
    return [f"offered before TLS: {' '.join(offered)}", *_auth_lines(ctx)]


def _auth_lines(ctx: Context) -> list[str]:
    obs = ctx.app()
    out = []
    for line in getattr(obs, "transcript", ()):
        up = line.upper()
        if "AUTH" in up or "CAPABILITY" in up or "USER" in up or "SASL" in up:
            out.append(line)
    return out[:6]


def _outside_supported(ctx: Context) -> Sequence[str]:
    exp = ctx.target.expectations
    if exp is None or not ctx.app_ok():
        return []
    offered = dict.fromkeys([*_offered(ctx, True), *_offered(ctx, False)])
    bad = []
    for mech in offered:
        auth = MECH_AUTH.get(mech)
        if auth is None or auth not in exp.supported_auth:
            bad.append(f"{mech} ({auth or 'unknown method'})")
    if not bad:
        return []
    return [
        f"offered outside the supported set: {', '.join(bad)}",
        f"supported by the reference: {', '.join(exp.supported_auth)}",
    ]


def _default_missing(ctx: Context) -> Sequence[str]:
    exp = ctx.target.expectations
    if exp is None or not ctx.app_ok():
        return []
    offered = {MECH_AUTH.get(m) for m in [*_offered(ctx, True), *_offered(ctx, False)]}
    if any(a in offered for a in exp.default_auth):
        return []
    missing = list(exp.default_auth)
    offered_all = ", ".join(dict.fromkeys([*_offered(ctx, True), *_offered(ctx, False)]))
    return [
        f"none of the default methods offered: {', '.join(missing)}",
        f"offered: {offered_all or '(none)'}",
    ]


def _exchange_markers(ctx: Context) -> Sequence[str]:
    smtp = ctx.result.observations.smtp
    if smtp is None or not smtp.exchange_markers:
        return []
    return [f"Exchange EHLO keywords: {', '.join(smtp.exchange_markers)}", f"banner: {smtp.banner}"]


def _ntlm_disclosure(ctx: Context) -> Sequence[str]:
    n = ctx.result.observations.ntlm
    if n is None or n.status is not Status.ok or not n.discloses or ctx.target.trusted_source:
        return []
    fields = {
        "NetBIOS domain": n.netbios_domain,
        "NetBIOS computer": n.netbios_computer,
        "DNS domain": n.dns_domain,
        "DNS computer": n.dns_computer,
        "DNS tree": n.dns_tree,
        "OS version": n.os_version,
    }
    return [f"{k}: {v}" for k, v in fields.items() if v]


_P = ProbeKind
_T = "TLS"


def _app_checks(fam: ProbeKind, area: str, name: str) -> list[Check]:
    return [
        Check(
            f"PS-{area}-001",
            fam,
            f"{name}: plain-text login offered before TLS",
            f"{name}:TLS 之前提供明文登录",
            "Offer plain-text mechanisms (PLAIN, LOGIN, USER) only after STARTTLS, or require TLS "
            "for authentication (Exchange: SecureLogin / RequireTLS; Postfix: smtpd_tls_auth_only; "
            "Dovecot: disable_plaintext_auth).",
            "仅在 STARTTLS 之后提供明文机制(PLAIN、LOGIN、USER),或要求身份验证使用 TLS"
            "(Exchange:SecureLogin / RequireTLS;Postfix:smtpd_tls_auth_only;"
            "Dovecot:disable_plaintext_auth)。",
            _plaintext_before_tls,
        ),
        Check(
            f"PS-{area}-002",
            fam,
            f"{name}: authentication method outside the reference's supported set",
            f"{name}:提供了参考文档支持范围之外的身份验证方法",
            "Disable the mechanisms the data path does not support, or record why they are needed.",
            "禁用该数据路径不支持的机制,或记录需要它们的原因。",
            _outside_supported,
        ),
        Check(
            f"PS-{area}-003",
            fam,
            f"{name}: default authentication of the reference not offered",
            f"{name}:未提供参考文档中的任何默认身份验证方法",
            "Enable the default authentication methods of the data path (e.g. NTLM, Kerberos) or "
            "document the deviation.",
            "启用该数据路径的默认身份验证方法(如 NTLM、Kerberos),或记录偏差。",
            _default_missing,
        ),
    ]


#: Every check pathsec knows, by id. Ids are stable: never renumber, only add.
CHECKS: dict[str, Check] = {
    c.id: c
    for c in [
        Check(
            "PS-TCP-001",
            None,
            "Port closed (connection refused)",
            "端口关闭(连接被拒绝)",
            "Start the service or open the port on the host firewall if the data path is in use.",
            "如果使用该数据路径,请启动服务或在主机防火墙上开放该端口。",
            _closed,
        ),
        Check(
            "PS-TCP-002",
            None,
            "Port filtered (no answer within the timeout)",
            "端口被过滤(超时无应答)",
            "Check the firewalls on the path; the reference expects this port to be reachable.",
            "检查路径上的防火墙;参考文档要求该端口可达。",
            _filtered,
        ),
        Check(
            "PS-TCP-003",
            None,
            "Protocol dialogue failed",
            "协议对话失败",
            "Check that the service on this port speaks the expected protocol and is healthy.",
            "检查此端口上的服务是否使用预期协议并运行正常。",
            _dialogue_failed,
        ),
        Check(
            "PS-TCP-004",
            None,
            "Endpoint not reachable: the name does not resolve or the connection cannot start",
            "端点不可达:名称无法解析或无法发起连接",
            "Fix the host name in the deployment or target list (DNS, hosts file), or the "
            "local route or source address; the endpoint was not audited.",
            "修正部署或目标列表中的主机名(DNS、hosts 文件),或本地路由和源地址;该端点未被审核。",
            _not_attempted,
        ),
        Check(
            "PS-TLS-001",
            None,
            "TLS not offered although the data path supports encryption",
            "数据路径支持加密,但未提供 TLS",
            "Install a certificate and enable STARTTLS (Exchange: Enable-ExchangeCertificate; "
            "Postfix: smtpd_tls_security_level = may; Dovecot: ssl = yes).",
            "安装证书并启用 STARTTLS(Exchange:Enable-ExchangeCertificate;"
            "Postfix:smtpd_tls_security_level = may;Dovecot:ssl = yes)。",
            _no_tls,
        ),
        Check(
            "PS-TLS-002",
            None,
            "TLS handshake failed",
            "TLS 握手失败",
            "Check the certificate and key binding and the enabled protocol versions and ciphers.",
            "检查证书与密钥绑定以及启用的协议版本和密码套件。",
            _tls_failed,
        ),
        Check(
            "PS-TLS-003",
            None,
            "TLS version below the profile's minimum accepted",
            "接受低于配置文件最低要求的 TLS 版本",
            "Disable TLS 1.0 and 1.1 (Windows: SCHANNEL registry keys; Postfix: "
            "smtpd_tls_protocols = >=TLSv1.2; Dovecot: ssl_min_protocol = TLSv1.2).",
            "禁用 TLS 1.0 和 1.1(Windows:SCHANNEL 注册表项;Postfix:"
            "smtpd_tls_protocols = >=TLSv1.2;Dovecot:ssl_min_protocol = TLSv1.2)。",
            _old_versions,
        ),
        Check(
            "PS-TLS-004",
            None,
            "SSL 3.0 accepted",
            "接受 SSL 3.0",
            "Disable SSL 3.0 (POODLE).",
            "禁用 SSL 3.0(POODLE)。",
            _sslv3,
        ),
        Check(
            "PS-TLS-005",
            None,
            "No TLS version at or above the profile's minimum",
            "没有达到配置文件最低要求的 TLS 版本",
            "Enable TLS 1.2 (and 1.3 where available); on Windows 2003/2008 install the TLS 1.2 "
            "updates.",
            "启用 TLS 1.2(以及可用时的 1.3);在 Windows 2003/2008 上安装 TLS 1.2 更新。",
            _no_modern,
        ),
        Check(
            "PS-TLS-006",
            None,
            "Certificate expired",
            "证书已过期",
            "Renew the certificate and bind the new one to the service.",
            "续订证书并将新证书绑定到服务。",
            _expired,
        ),
        Check(
            "PS-TLS-007",
            None,
            "Certificate not yet valid",
            "证书尚未生效",
            "Check the server clock and the certificate's validity period.",
            "检查服务器时钟和证书有效期。",
            _not_yet,
        ),
        Check(
            "PS-TLS-008",
            None,
            "Weak certificate key",
            "证书密钥强度不足",
            "Issue a certificate with RSA ≥ 2048 bits or ECDSA P-256 or stronger.",
            "签发 RSA ≥ 2048 位或 ECDSA P-256 及以上强度的证书。",
            _weak_key,
        ),
        Check(
            "PS-TLS-009",
            None,
            "Certificate signed with a weak hash",
            "证书使用弱哈希算法签名",
            "Reissue the certificate signed with SHA-256 or stronger.",
            "重新签发使用 SHA-256 或更强算法签名的证书。",
            _weak_sig,
        ),
        Check(
            "PS-TLS-010",
            None,
            "Self-signed certificate",
            "自签名证书",
            "Replace the self-signed certificate Setup created with one from a CA clients trust "
            "(the reference accepts self-signed certificates only between Exchange servers).",
            "将安装程序创建的自签名证书替换为客户端信任的 CA 证书"
            "(参考文档仅在 Exchange 服务器之间接受自签名证书)。",
            _self_signed,
        ),
        Check(
            "PS-TLS-011",
            None,
            "Certificate does not match the host name",
            "证书与主机名不匹配",
            "Issue a certificate whose subject alternative names include the name clients use.",
            "签发主题备用名称包含客户端所用名称的证书。",
            _mismatch,
        ),
        *_app_checks(_P.smtp, "SMTP", "SMTP"),
        Check(
            "PS-SMTP-004",
            _P.smtp,
            "Microsoft Exchange identified by its EHLO keywords",
            "通过 EHLO 关键字识别出 Microsoft Exchange",
            "Informational: version and role can be inferred; keep the server patched.",
            "提示:可据此推断版本和角色;请保持服务器补丁为最新。",
            _exchange_markers,
        ),
        *_app_checks(_P.pop3, "POP3", "POP3"),
        *_app_checks(_P.imap, "IMAP", "IMAP"),
        Check(
            "PS-NTLM-001",
            _P.ntlm,
            "NTLM challenge discloses internal names and OS version",
            "NTLM 质询泄露内部名称和操作系统版本",
            "Do not offer NTLM to untrusted networks (remove NTLM from the connector's or "
            "protocol's authentication, or publish through a reverse proxy).",
            "不要向不受信任的网络提供 NTLM(从连接器或协议的身份验证中移除 NTLM,"
            "或通过反向代理发布)。",
            _ntlm_disclosure,
        ),
    ]
}


def _register_network_checks() -> None:
    from pathsec.audit.findings_net import NET_CHECKS

    CHECKS.update({c.id: c for c in NET_CHECKS})


_register_network_checks()


#: One frozen title and remediation per check, shared by all its findings (memory: a fleet
#: of 10,000 endpoints has tens of thousands of findings of a handful of checks).
_TEXTS: dict[Check, tuple[Text, Text]] = {}


def _texts(check: Check) -> tuple[Text, Text]:
    texts = _TEXTS.get(check)
    if texts is None:
        texts = _TEXTS[check] = (
            Text(en=check.title_en, zh=check.title_zh),
            Text(en=check.fix_en, zh=check.fix_zh),
        )
    return texts


def evaluate(target: Target, result: EndpointResult, profile: Profile) -> list[Finding]:
    """Run the profile's checks on one endpoint."""
    ctx = Context(target, result, profile)
    out: list[Finding] = []
    for check_id, severity in profile.checks.items():
        check = CHECKS[check_id]
        if (target.expect == "closed") != check_id.startswith("PS-ZONE-"):
            continue  # a port the plan keeps closed is graded by the zone checks alone
        fam = target.protocol.family
        if (
            check.family is not None
            and check.family is not ProbeKind.ntlm
            and check.family is not fam
        ):
            continue
        evidence = check.fn(ctx)
        if not evidence:
            continue
        out.append(
            Finding(
                id=check.id,
                severity=severity,
                title=_texts(check)[0],
                remediation=_texts(check)[1],
                host=target.host,
                port=target.port,
                protocol=target.protocol,
                path_id=target.path_id,
                flow_id=target.flow_id,
                from_zone=target.from_zone,
                evidence=tuple(evidence),
            )
        )
        compact(out[-1])
    return out
