"""Findings of the HTTP, LDAP, Kerberos, DNS, RPC, SMB and SIP probes and of zone audits.

Same table form as :mod:`pathsec.audit.findings` (which registers these in ``CHECKS``);
ids are stable: never renumber, only add.
"""

from __future__ import annotations

from collections.abc import Sequence

from pathsec.audit.findings import Check, Context
from pathsec.probes.base import AppProtocol, ProbeKind, Status

#: HTTP authentication scheme -> catalog authentication methods it can carry.
SCHEME_AUTH: dict[str, tuple[str, ...]] = {
    "Basic": ("basic",),
    "Digest": ("digest",),
    "NTLM": ("ntlm",),
    "Negotiate": ("negotiate", "kerberos", "ntlm"),
    "forms": ("forms",),
}
SASL_PLAINTEXT = ("PLAIN", "LOGIN")


def _ok(obs: object) -> bool:
    return obs is not None and getattr(obs, "status", None) is Status.ok


# --- HTTP ------------------------------------------------------------------------------------


def _basic_plain(ctx: Context) -> Sequence[str]:
    h = ctx.result.observations.http
    if h is None or ctx.target.protocol is not AppProtocol.http:
        return []
    return [
        f"{r.path}: {r.status} WWW-Authenticate: Basic realm={r.basic_realm!r} over plain HTTP"
        for r in h.responses
        if "Basic" in r.auth_schemes
    ]


def _no_https_redirect(ctx: Context) -> Sequence[str]:
    h, exp = ctx.result.observations.http, ctx.target.expectations
    if h is None or exp is None or ctx.target.protocol is not AppProtocol.http:
        return []
    if exp.encryption_by_default is not True:
        return []
    return [
        f"{r.path}: {r.status}" + (f" Location: {r.location}" if r.location else "")
        for r in h.responses
        if not r.redirect_to_https
    ]


def _version_headers(ctx: Context) -> Sequence[str]:
    h = ctx.result.observations.http
    if h is None:
        return []
    seen: dict[str, str] = {}
    for r in h.responses:
        for k, v in r.headers.items():
            if any(ch.isdigit() for ch in v):
                seen.setdefault(k, v)
    return [f"{k}: {v}" for k, v in seen.items()]


def _schemes(ctx: Context) -> tuple[str, ...]:
    h = ctx.result.observations.http
    if h is None:
        return ()
    out = list(h.auth_schemes)
    if any(r.forms_logon for r in h.responses):
        out.append("forms")
    return tuple(dict.fromkeys(out))


def _http_outside(ctx: Context) -> Sequence[str]:
    exp = ctx.target.expectations
    if exp is None or not _ok(ctx.result.observations.http):
        return []
    bad = [
        s
        for s in _schemes(ctx)
        if not any(a in exp.supported_auth for a in SCHEME_AUTH.get(s, (s.lower(),)))
    ]
    if not bad:
        return []
    return [
        f"offered outside the supported set: {', '.join(bad)}",
        f"supported by the reference: {', '.join(exp.supported_auth)}",
    ]


def _http_default_missing(ctx: Context) -> Sequence[str]:
    exp, h = ctx.target.expectations, ctx.result.observations.http
    if exp is None or h is None or not _ok(h) or not exp.default_auth:
        return []
    if ctx.target.protocol is AppProtocol.http and any(r.redirect_to_https for r in h.responses):
        return []  # the methods are offered on the HTTPS side
    if "anonymous" in exp.default_auth or "certificate" in exp.default_auth:
        return []
    offered = {a for s in _schemes(ctx) for a in SCHEME_AUTH.get(s, ())}
    if offered & set(exp.default_auth):
        return []
    return [
        f"none of the default methods offered: {', '.join(exp.default_auth)}",
        f"offered: {', '.join(_schemes(ctx)) or '(none)'}",
    ]


def _http_ntlm(ctx: Context) -> Sequence[str]:
    h = ctx.result.observations.http
    if h is None or ctx.target.trusted_source:
        return []
    out = []
    for n in h.ntlm:
        c = n.challenge
        if c is not None and c.discloses:
            out.append(
                f"{n.path} via {n.scheme}: domain {c.netbios_domain or c.dns_domain}, "
                f"computer {c.dns_computer or c.netbios_computer}, OS {c.os_version}"
            )
    return out


def _vdir_missing(ctx: Context) -> Sequence[str]:
    h = ctx.result.observations.http
    if h is None or ctx.target.path_id is None:
        return []
    return [f"{r.path}: {r.status}" for r in h.responses if r.status == 404]


# --- LDAP ------------------------------------------------------------------------------------


def _ldap_starttls_failed(ctx: Context) -> Sequence[str]:
    lo = ctx.result.observations.ldap
    if lo is None or not lo.starttls_advertised or lo.starttls_performed:
        return []
    if ctx.target.protocol.implicit_tls:
        return []
    return [f"StartTLS advertised but failed: {lo.starttls_error}"]


def _ldap_plain_sasl(ctx: Context) -> Sequence[str]:
    lo = ctx.result.observations.ldap
    if lo is None or lo.root_dse is None or ctx.target.protocol.implicit_tls:
        return []
    bad = [m for m in lo.root_dse.sasl_mechanisms if m.upper() in SASL_PLAINTEXT]
    return [f"SASL before TLS: {' '.join(lo.root_dse.sasl_mechanisms)}"] if bad else []


def _ldap_no_starttls(ctx: Context) -> Sequence[str]:
    lo = ctx.result.observations.ldap
    if lo is None or lo.root_dse is None or ctx.target.protocol.implicit_tls:
        return []
    if lo.starttls_performed:
        return []
    return [
        "StartTLS (1.3.6.1.4.1.1466.20037) "
        + ("advertised" if lo.starttls_advertised else "not advertised")
        + f", not performed: {lo.starttls_error or 'no TLS'}"
    ]


def _ldap_identified(ctx: Context) -> Sequence[str]:
    lo = ctx.result.observations.ldap
    if lo is None or lo.root_dse is None or not lo.active_directory:
        return []
    r = lo.root_dse
    return [
        f"dnsHostName: {r.dns_host_name}",
        f"functionality domain/forest/DC: {r.domain_functionality}/{r.forest_functionality}/"
        f"{r.dc_functionality}",
        f"capabilities: {' '.join(c.rsplit('.', 1)[-1] for c in r.capabilities)}",
    ]


def _ldap_no_kerberos(ctx: Context) -> Sequence[str]:
    lo, exp = ctx.result.observations.ldap, ctx.target.expectations
    if lo is None or lo.root_dse is None or exp is None or "kerberos" not in exp.default_auth:
        return []
    mechs = {m.upper() for m in lo.root_dse.sasl_mechanisms} | {
        m.upper() for m in lo.sasl_after_tls or ()
    }
    if mechs & {"GSSAPI", "GSS-SPNEGO"}:
        return []
    return [f"SASL mechanisms: {' '.join(sorted(mechs)) or '(none)'}; no GSSAPI or GSS-SPNEGO"]


# --- Kerberos, DNS, RPC, SMB, SIP, zones ------------------------------------------------------


def _krb_realm(ctx: Context) -> Sequence[str]:
    k = ctx.result.observations.kerberos
    if k is None or not k.kdc or ctx.target.domain is None or k.error_code != 68:
        return []
    return [
        f"asked for realm {k.realm_asked}; KDC answered {k.error_name} (realm {k.server_realm})"
    ]


def _dns_soa(ctx: Context) -> Sequence[str]:
    d, dom = ctx.result.observations.dns, ctx.target.domain
    if d is None or dom is None or not _ok(d):
        return []
    a = d.answer(dom, "SOA")
    if a is not None and a.rcode == "NOERROR" and a.answers and a.authoritative:
        return []
    got = f"{a.rcode}, {len(a.answers)} answers, AA={a.authoritative}" if a else "no answer"
    return [f"SOA {dom}: {got}"]


def _dns_srv(ctx: Context) -> Sequence[str]:
    d, dom = ctx.result.observations.dns, ctx.target.domain
    if d is None or dom is None or not _ok(d):
        return []
    out = []
    for name in (f"_ldap._tcp.{dom}", f"_kerberos._tcp.{dom}"):
        a = d.answer(name, "SRV")
        if a is None or a.rcode != "NOERROR" or not a.answers:
            out.append(f"SRV {name}: {a.rcode if a else 'no answer'}")
    return out


def _rpc_disclosure(ctx: Context) -> Sequence[str]:
    r = ctx.result.observations.rpc
    if r is None or not _ok(r) or not r.entries:
        return []
    return [
        f"{r.entries} endpoints listed without credentials",
        f"TCP ports: {', '.join(map(str, r.tcp_ports[:30]))}",
    ]


def _rpc_range(ctx: Context) -> Sequence[str]:
    r, rng = ctx.result.observations.rpc, ctx.target.rpc_range
    if r is None or rng is None or not _ok(r):
        return []
    outside = [p for p in r.tcp_ports if not rng[0] <= p <= rng[1]]
    if not outside:
        return []
    return [
        f"dynamic ports outside {rng[0]}-{rng[1]}: {', '.join(map(str, outside[:30]))}",
        "KB 154596: HKLM\\Software\\Microsoft\\Rpc\\Internet Ports",
    ]


def _smb1(ctx: Context) -> Sequence[str]:
    s = ctx.result.observations.smb
    return ["SMB1 (NT LM 0.12) negotiated"] if s is not None and s.smb1 else []


def _smb_signing(ctx: Context) -> Sequence[str]:
    s = ctx.result.observations.smb
    if s is None or not _ok(s) or s.signing_required is not False:
        return []
    accepted = [d for d, ok in s.dialects.items() if ok]
    return [f"signing not required (dialects: {', '.join(accepted)})"]


def _smb_encryption(ctx: Context) -> Sequence[str]:
    s = ctx.result.observations.smb
    if s is None or not _ok(s) or s.encryption is not False:
        return []
    accepted = ", ".join(d for d, ok in s.dialects.items() if ok)
    return [f"no SMB3 encryption capability (dialects: {accepted})"]


def _sip_plain(ctx: Context) -> Sequence[str]:
    s, exp = ctx.result.observations.sip, ctx.target.expectations
    if s is None or not _ok(s) or ctx.target.protocol is not AppProtocol.sip:
        return []
    if exp is not None and not exp.encryption_supported:
        return []
    return [f"OPTIONS over plain TCP answered: {s.status_line}"]


def _sip_identified(ctx: Context) -> Sequence[str]:
    s = ctx.result.observations.sip
    if s is None or not (s.server or s.user_agent):
        return []
    return [
        x
        for x in (
            f"Server: {s.server}" if s.server else "",
            f"User-Agent: {s.user_agent}" if s.user_agent else "",
        )
        if x
    ]


def _zone_open(ctx: Context) -> Sequence[str]:
    t = ctx.target
    tcp = ctx.result.observations.tcp
    if t.expect != "closed" or tcp is None or tcp.state != "open":
        return []
    return [
        f"{t.host}:{t.port}/tcp accepts connections from zone {t.from_zone}",
        "the plan opens this port only to other zones",
    ]


def _c(
    id_: str, fam: ProbeKind | None, en: str, zh: str, fix: str, fix_zh: str, fn: object
) -> Check:
    return Check(id_, fam, en, zh, fix, fix_zh, fn)  # type: ignore[arg-type]


_H, _L, _K, _D = ProbeKind.http, ProbeKind.ldap, ProbeKind.kerberos, ProbeKind.dns
_R, _S, _SIP = ProbeKind.rpc, ProbeKind.smb, ProbeKind.sip

#: The checks of this module, registered in :data:`pathsec.audit.findings.CHECKS`.
NET_CHECKS: tuple[Check, ...] = (
    _c(
        "PS-HTTP-001",
        _H,
        "HTTP: Basic authentication offered over plain HTTP",
        "HTTP:通过明文 HTTP 提供基本身份验证",
        "Require SSL on the virtual directory (IIS: Require SSL) or remove Basic from it.",
        "在虚拟目录上要求 SSL(IIS:要求 SSL),或从中移除基本身份验证。",
        _basic_plain,
    ),
    _c(
        "PS-HTTP-002",
        _H,
        "HTTP: plain HTTP does not redirect to HTTPS",
        "HTTP:明文 HTTP 未重定向到 HTTPS",
        "Redirect HTTP to HTTPS (IIS HTTP Redirect) or close port 80 on this path.",
        "将 HTTP 重定向到 HTTPS(IIS HTTP 重定向),或在此路径上关闭 80 端口。",
        _no_https_redirect,
    ),
    _c(
        "PS-HTTP-003",
        _H,
        "HTTP: version headers disclose the product version",
        "HTTP:版本头泄露产品版本",
        "Remove X-AspNet-Version (enableVersionHeader=false) and X-OWA-Version where possible.",
        "尽可能删除 X-AspNet-Version(enableVersionHeader=false)和 X-OWA-Version。",
        _version_headers,
    ),
    _c(
        "PS-HTTP-004",
        _H,
        "HTTP: authentication scheme outside the reference's supported set",
        "HTTP:提供了参考文档支持范围之外的身份验证方案",
        "Disable the schemes the path does not support on the virtual directory.",
        "在虚拟目录上禁用该路径不支持的方案。",
        _http_outside,
    ),
    _c(
        "PS-HTTP-005",
        _H,
        "HTTP: default authentication of the reference not offered",
        "HTTP:未提供参考文档中的默认身份验证方法",
        "Enable the path's default authentication (e.g. forms for OWA, Integrated for EWS).",
        "启用该路径的默认身份验证(如 OWA 的基于表单、EWS 的集成身份验证)。",
        _http_default_missing,
    ),
    _c(
        "PS-HTTP-006",
        _H,
        "HTTP: NTLM challenge discloses internal names and OS version",
        "HTTP:NTLM 质询泄露内部名称和操作系统版本",
        "Do not offer NTLM or Negotiate to untrusted networks; publish through a reverse proxy "
        "with forms authentication.",
        "不要向不受信任的网络提供 NTLM 或 Negotiate;通过使用表单身份验证的反向代理发布。",
        _http_ntlm,
    ),
    _c(
        "PS-HTTP-007",
        _H,
        "HTTP: virtual directory of the path not found (404)",
        "HTTP:未找到该路径的虚拟目录(404)",
        "Create the virtual directory or remove the flow from the deployment.",
        "创建该虚拟目录,或从部署中删除该流。",
        _vdir_missing,
    ),
    _c(
        "PS-LDAP-001",
        _L,
        "LDAP: StartTLS advertised but failed",
        "LDAP:公布了 StartTLS 但失败",
        "Bind a valid certificate to the directory service (AD: a Server Authentication "
        "certificate in the NTDS or computer store).",
        "为目录服务绑定有效证书(AD:NTDS 或计算机存储中的服务器身份验证证书)。",
        _ldap_starttls_failed,
    ),
    _c(
        "PS-LDAP-002",
        _L,
        "LDAP: plain-text SASL mechanisms offered before TLS",
        "LDAP:TLS 之前提供明文 SASL 机制",
        "Offer PLAIN/LOGIN only after StartTLS (OpenLDAP: security ssf=..., olcSaslSecProps).",
        "仅在 StartTLS 之后提供 PLAIN/LOGIN(OpenLDAP:security ssf=...、olcSaslSecProps)。",
        _ldap_plain_sasl,
    ),
    _c(
        "PS-LDAP-003",
        _L,
        "LDAP: no StartTLS on the plain LDAP port",
        "LDAP:明文 LDAP 端口不支持 StartTLS",
        "Install a certificate for LDAP (LDAPS and StartTLS) or rely on Kerberos sign and seal.",
        "为 LDAP 安装证书(LDAPS 和 StartTLS),或依赖 Kerberos 签名和加密。",
        _ldap_no_starttls,
    ),
    _c(
        "PS-LDAP-004",
        _L,
        "LDAP: Active Directory identified by its anonymous rootDSE",
        "LDAP:通过匿名 rootDSE 识别出 Active Directory",
        "Informational: the rootDSE is public by design; keep the domain controllers patched.",
        "提示:rootDSE 按设计公开;请保持域控制器补丁为最新。",
        _ldap_identified,
    ),
    _c(
        "PS-LDAP-005",
        _L,
        "LDAP: no Kerberos SASL mechanism (GSSAPI, GSS-SPNEGO)",
        "LDAP:没有 Kerberos SASL 机制(GSSAPI、GSS-SPNEGO)",
        "The path's default authentication is Kerberos: check the directory's SASL setup.",
        "该路径的默认身份验证为 Kerberos:请检查目录的 SASL 配置。",
        _ldap_no_kerberos,
    ),
    _c(
        "PS-KRB-001",
        _K,
        "Kerberos: the KDC does not serve the AD domain's realm",
        "Kerberos:KDC 不服务于 AD 域的领域",
        "Point the path at a domain controller of the right domain (DNS SRV records, site links).",
        "将该路径指向正确域的域控制器(DNS SRV 记录、站点链接)。",
        _krb_realm,
    ),
    _c(
        "PS-DNS-001",
        _D,
        "DNS: no authoritative SOA for the AD domain",
        "DNS:AD 域没有权威 SOA",
        "Host the AD-integrated zone on this DNS server or point clients at one that does.",
        "在此 DNS 服务器上托管 AD 集成区域,或将客户端指向托管该区域的服务器。",
        _dns_soa,
    ),
    _c(
        "PS-DNS-002",
        _D,
        "DNS: _ldap._tcp / _kerberos._tcp SRV records missing",
        "DNS:缺少 _ldap._tcp / _kerberos._tcp SRV 记录",
        "Restart Netlogon on the domain controllers (it registers the SRV records) or run "
        "`dcdiag /test:dns`.",
        "在域控制器上重新启动 Netlogon(它注册 SRV 记录)或运行 `dcdiag /test:dns`。",
        _dns_srv,
    ),
    _c(
        "PS-RPC-001",
        _R,
        "RPC: endpoint mapper lists endpoints without credentials",
        "RPC:终结点映射器无需凭据即可列出终结点",
        "Informational: expose 135 only to the zones the plan needs (firewall).",
        "提示:仅向计划所需的区域开放 135(防火墙)。",
        _rpc_disclosure,
    ),
    _c(
        "PS-RPC-002",
        _R,
        "RPC: dynamic ports outside the configured range (KB 154596)",
        "RPC:动态端口超出配置的范围(KB 154596)",
        "Set HKLM\\Software\\Microsoft\\Rpc\\Internet Ports (KB 154596) or fix the "
        "firewall's RPC range.",
        "设置 HKLM\\Software\\Microsoft\\Rpc\\Internet Ports(KB 154596),或修正防火墙的 RPC 范围。",
        _rpc_range,
    ),
    _c(
        "PS-SMB-001",
        _S,
        "SMB: SMB1 still enabled",
        "SMB:仍启用 SMB1",
        "Disable SMB1 (Windows: Set-SmbServerConfiguration -EnableSMB1Protocol $false; "
        "Samba: server min protocol = SMB2_02).",
        "禁用 SMB1(Windows:Set-SmbServerConfiguration -EnableSMB1Protocol $false;"
        "Samba:server min protocol = SMB2_02)。",
        _smb1,
    ),
    _c(
        "PS-SMB-002",
        _S,
        "SMB: signing not required",
        "SMB:不要求签名",
        "Require SMB signing (Group Policy: Microsoft network server: Digitally sign "
        "communications (always); Samba: server signing = mandatory).",
        "要求 SMB 签名(组策略:Microsoft 网络服务器:对通信进行数字签名(始终);"
        "Samba:server signing = mandatory)。",
        _smb_signing,
    ),
    _c(
        "PS-SMB-003",
        _S,
        "SMB: no SMB3 encryption capability",
        "SMB:不具备 SMB3 加密能力",
        "Enable SMB 3 encryption where log shipping crosses untrusted links, or use IPsec.",
        "在日志传送经过不受信任链路时启用 SMB 3 加密,或使用 IPsec。",
        _smb_encryption,
    ),
    _c(
        "PS-SIP-001",
        _SIP,
        "SIP: signalling answered over plain TCP",
        "SIP:通过明文 TCP 应答信令",
        "Use SIP over TLS (5061) with the IP gateways (UM dial plan: VoIPSecurity Secured).",
        "与 IP 网关使用基于 TLS 的 SIP(5061)(UM 拨号计划:VoIPSecurity Secured)。",
        _sip_plain,
    ),
    _c(
        "PS-SIP-002",
        _SIP,
        "SIP: product identified by Server/User-Agent",
        "SIP:通过 Server/User-Agent 识别出产品",
        "Informational: version can be inferred; keep the server patched.",
        "提示:可据此推断版本;请保持服务器补丁为最新。",
        _sip_identified,
    ),
    _c(
        "PS-ZONE-001",
        None,
        "Zone: port open although the plan keeps it closed to this zone",
        "区域:计划对此区域关闭的端口处于开放状态",
        "Close the port on the network firewall between the zones (regenerate the rules with "
        "`pathsec firewall`) and on the host firewall.",
        "在区域之间的网络防火墙和主机防火墙上关闭该端口(使用 `pathsec firewall` 重新生成规则)。",
        _zone_open,
    ),
)
