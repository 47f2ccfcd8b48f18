"""Names of the plan's vocabulary in English and Chinese: roles, kinds, authentication, ports.

Reports show ids (``hub_transport``, ``perimeter``, ``ntlm``) by these names. The Chinese
follows the seed's own terms (集线器传输服务器, 外围网络, 基本, 协商 …). A term that is not
in a table (a new host or zone kind, a role from a custom catalog) is shown as its id in
both languages, so new kinds render without a code change here; ``tests/report`` lists
what lacks a translation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pathsec.audit.models import Text

Vocabulary = Literal[
    "role",
    "zone_kind",
    "host_kind",
    "auth",
    "mechanism",
    "port_label",
    "plan_severity",
    "endpoint_status",
]


def _table(rows: list[tuple[str, str, str]]) -> dict[str, Text]:
    return {k: Text(en=en, zh=zh) for k, en, zh in rows}


#: Catalog roles; the Exchange server roles as the seed names them.
ROLES = _table(
    [
        ("hub_transport", "Hub Transport", "集线器传输服务器"),
        ("edge_transport", "Edge Transport", "边缘传输服务器"),
        ("mailbox", "Mailbox", "邮箱服务器"),
        ("client_access", "Client Access", "客户端访问服务器"),
        ("unified_messaging", "Unified Messaging", "统一消息服务器"),
        ("domain_controller", "Domain controller", "域控制器"),
        ("edge_adam", "ADAM on Edge", "边缘传输服务器上的 ADAM"),
        ("smtp_client", "SMTP client", "SMTP 客户端"),
        ("outlook_client", "Outlook client", "Outlook 客户端"),
        ("web_client", "Web browser", "Web 浏览器"),
        ("mobile_client", "Mobile device", "移动设备"),
        ("pop_imap_client", "POP3/IMAP4 client", "POP3/IMAP4 客户端"),
        ("webdav_client", "WebDAV client", "WebDAV 客户端"),
        ("ip_gateway", "IP gateway / IP PBX", "IP 网关或 IP PBX"),
        ("legacy_mailbox", "Exchange 2003 Mailbox", "Exchange 2003 邮箱服务器"),
        ("remote_organization", "Remote organisation", "其他组织的邮件服务器"),
        ("backup", "Backup", "备份服务器"),
        ("admin", "Administrator workstation", "管理员工作站"),
        ("cluster_node", "Cluster node", "群集节点"),
        ("dns_resolver", "DNS resolver", "DNS 解析程序"),
    ]
)

ZONE_KINDS = _table(
    [
        ("internet", "internet", "Internet"),
        ("perimeter", "perimeter network", "外围网络"),
        ("internal", "internal network", "内部网络"),
        ("management", "management network", "管理网络"),
        ("voice", "voice network", "语音网络"),
        ("other", "other", "其他"),
    ]
)

HOST_KINDS = _table(
    [
        ("server", "server", "服务器"),
        ("client_population", "client population", "客户端群体"),
        ("ip_gateway", "IP gateway", "IP 网关"),
        ("backup", "backup server", "备份服务器"),
        ("admin", "administrator workstations", "管理员工作站"),
        ("partner", "partner organisation", "合作伙伴组织"),
        ("internet_mail", "internet mail servers", "Internet 邮件服务器"),
        ("crl_endpoint", "CRL distribution points", "证书吊销列表分发点"),
        ("dns_resolver", "DNS resolvers", "DNS 解析程序"),
        ("publisher", "reverse proxy / NAT / load balancer", "反向代理、NAT 或负载平衡器"),
        ("vantage", "vantage point", "审核位置"),
        ("host", "audited host", "已审核主机"),
    ]
)

#: Authentication ids, as the seed's cells name them (基本、摘要式、协商 …).
AUTH = _table(
    [
        ("kerberos", "Kerberos", "Kerberos"),
        ("ntlm", "NTLM", "NTLM"),
        ("basic", "Basic", "基本"),
        ("digest", "Digest", "摘要式"),
        ("negotiate", "Negotiate", "协商"),
        ("forms", "Forms-based", "基于表单的身份验证"),
        ("certificate", "Certificate", "证书"),
        ("direct_trust", "Direct trust", "直接信任"),
        ("anonymous", "Anonymous", "匿名"),
        ("ip_address", "By IP address", "按 IP 地址"),
    ]
)

MECHANISMS = _table(
    [
        ("tls", "TLS", "TLS"),
        ("ssl", "SSL", "SSL"),
        ("ipsec", "IPsec", "IPsec"),
        ("rpc", "RPC encryption", "RPC 加密"),
        ("kerberos", "Kerberos", "Kerberos"),
        ("ldaps", "LDAPS", "LDAPS"),
        ("https", "HTTPS", "HTTPS"),
        ("sip_tls", "SIP over TLS", "SIP over TLS"),
    ]
)

#: Port labels of the catalog and the planner ("135/TCP (RPC)", "50389/TCP(无 SSL)" …).
PORT_LABELS = _table(
    [
        ("TLS", "TLS", "TLS"),
        ("SSL", "SSL", "SSL"),
        ("no SSL", "no SSL", "无 SSL"),
        ("DNS", "DNS", "DNS"),
        ("Kerberos", "Kerberos", "Kerberos"),
        ("LDAP", "LDAP", "LDAP"),
        ("LDAP GC", "LDAP global catalog", "LDAP 全局编录"),
        ("RPC", "RPC", "RPC"),
        ("RPC netlogon", "RPC netlogon", "RPC netlogon"),
        ("RPC endpoint mapper", "RPC endpoint mapper", "RPC 终结点映射程序"),
        ("RPC dynamic", "RPC dynamic ports", "动态 RPC 端口"),
        ("RTP media (dynamic)", "RTP media (dynamic ports)", "RTP 媒体(动态端口)"),
        ("SMB", "SMB", "SMB"),
        ("SIP", "SIP", "SIP"),
        ("SIP over TLS", "SIP over TLS", "SIP over TLS"),
        ("certificate authentication", "certificate authentication", "证书身份验证"),
        ("cluster heartbeat", "cluster heartbeat", "群集检测信号"),
        ("random", "random ports", "随机端口"),
    ]
)

PLAN_SEVERITIES = _table(
    [
        ("error", "error", "错误"),
        ("warning", "warning", "警告"),
        ("info", "info", "信息"),
    ]
)

#: How a probe's attempt ended (``pathsec.probes.base.Status``).
ENDPOINT_STATUS = _table(
    [
        ("ok", "answered", "已应答"),
        ("refused", "connection refused", "连接被拒绝"),
        ("timeout", "timed out", "超时"),
        ("reset", "connection reset", "连接被重置"),
        ("tls_error", "TLS error", "TLS 错误"),
        ("protocol_error", "protocol error", "协议错误"),
        ("error", "error", "错误"),
        ("skipped", "skipped", "已跳过"),
    ]
)

TABLES: Mapping[Vocabulary, Mapping[str, Text]] = {
    "role": ROLES,
    "zone_kind": ZONE_KINDS,
    "host_kind": HOST_KINDS,
    "auth": AUTH,
    "mechanism": MECHANISMS,
    "port_label": PORT_LABELS,
    "plan_severity": PLAN_SEVERITIES,
    "endpoint_status": ENDPOINT_STATUS,
}


def term(vocabulary: Vocabulary, key: str) -> Text:
    """The name of ``key`` in both languages; an unknown key is its own name in both."""
    found = TABLES[vocabulary].get(key)
    return found if found is not None else Text(en=key, zh=key)


def terms_json() -> dict[str, dict[str, list[str]]]:
    """Every table as ``{vocabulary: {id: [en, zh]}}`` for the report's script."""
    return {v: {k: [t.en, t.zh] for k, t in table.items()} for v, table in TABLES.items()}
