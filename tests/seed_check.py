"""Compare a catalog with the seed's tables: every name, port token, auth term and cell.

Returns a list of problems (empty when the catalog represents the seed faithfully).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pathsec.catalog.models import Catalog, DataPath
from seed_reader import SeedRow

PORT_TOKEN = re.compile(r"(\d+)\s*(?:/\s*(TCP/UDP|TCP|UDP))?\s*(?:[((]([^))]*)[))])?")
LABELS = {
    "传输层安全 [TLS]": "TLS",
    "无 SSL": "no SSL",
    "证书身份验证": "certificate authentication",
}
AUTH_TERMS = [
    ("按 IP 地址", "ip_address"),
    ("直接信任", "direct_trust"),
    ("基于表单", "forms"),
    ("摘要式", "digest"),
    ("协商", "negotiate"),
    ("纯文本", "basic"),
    ("基本", "basic"),
    ("匿名", "anonymous"),
    ("证书", "certificate"),
    ("NTLM", "ntlm"),
    ("Kerberos", "kerberos"),
]
MECHS = [
    ("LDAPS", "ldaps"),
    ("HTTPS", "https"),
    ("IPsec", "ipsec"),
    ("RPC", "rpc"),
    ("Kerberos", "kerberos"),
    ("TLS", "tls"),
    ("SSL", "ssl"),
]


def port_tokens(cell: str) -> list[tuple[str | None, int | str, str | None]]:
    """(protocol, port-or-range-kind, label) for every port named in a seed port cell."""
    out: list[tuple[str | None, int | str, str | None]] = []
    if cell.startswith("RPC。"):
        return [(None, "dynamic", "RPC")]
    if "随机端口" in cell:
        out.append((None, "random", None))
    if "动态端口" in cell:
        out.append((None, "dynamic", None))
    if "本地消息块" in cell:
        out.append((None, "local", "SMB"))
    head = cell.split(",请参阅")[0]
    for m in PORT_TOKEN.finditer(head):
        number, protos, label = int(m.group(1)), m.group(2), m.group(3)
        label = LABELS.get(label.strip(), label.strip()) if label else None
        if protos is None:
            out.append((None, number, label))
        else:
            for proto in protos.split("/"):
                out.append((proto.lower(), number, label))
    return out


def auth_terms(cell: str) -> set[str]:
    """Authentication tokens named in a seed auth cell ("协商 (Kerberos)" is negotiate)."""
    text = cell.replace("协商 (Kerberos)", "协商")
    found: set[str] = set()
    for term, token in AUTH_TERMS:
        if term in text:
            found.add(token)
            text = text.replace(term, " ")
    return found


def mechanisms(cell: str) -> set[str]:
    """Encryption mechanisms named in a seed 'encryption supported?' cell."""
    if "SIP" in cell:
        return {"sip_tls"}
    text, found = cell, set()
    for term, token in MECHS:
        if term in text:
            found.add(token)
            text = text.replace(term, " ")
    return found


def _represented_default(p: DataPath) -> set[str]:
    tokens = {a.value for a in p.default_auth}
    for c in p.conditions:
        tokens |= {a.value for a in c.default_auth or ()}
    return tokens


def check_row(p: DataPath, row: SeedRow) -> Iterable[str]:
    """Problems of one catalog path against its seed row."""
    where = f"{row.section} row {row.index} ({p.id})"
    if p.section.value != row.section or p.index != row.index:
        yield f"{where}: section/index {p.section.value}/{p.index} out of place"
    if p.name.zh != row.name:
        yield f"{where}: name.zh {p.name.zh!r} != seed {row.name!r}"
    if p.ports_raw != row.ports:
        yield f"{where}: ports_raw differs from the seed"
    seed_ports = sorted(port_tokens(row.ports), key=str)
    cat_ports = sorted(
        (
            (
                # a protocol the seed does not name (protocol_basis says why) reads as none
                pt.protocol.value if pt.protocol and pt.protocol_basis is None else None,
                pt.port if pt.port else pt.range.value if pt.range else None,
                pt.label,
            )
            for pt in p.ports
            if pt.rule is None
        ),
        key=str,
    )
    if seed_ports != cat_ports:
        yield f"{where}: ports {cat_ports} != seed {seed_ports}"
    cells = row.cells
    if p.default_auth_raw != cells[0] or p.supported_auth_raw != cells[1]:
        yield f"{where}: authentication cells differ from the seed"
    if auth_terms(cells[0]) != _represented_default(p):
        yield f"{where}: default auth {sorted(_represented_default(p))} != seed {sorted(auth_terms(cells[0]))}"
    if auth_terms(cells[1]) != {a.value for a in p.supported_auth}:
        yield f"{where}: supported auth {[a.value for a in p.supported_auth]} != seed {sorted(auth_terms(cells[1]))}"
    enc = p.encryption
    supported_cell = cells[2] if len(cells) > 2 else None
    default_cell = cells[3] if len(cells) > 3 else None
    if enc.supported_raw != supported_cell or enc.by_default_raw != default_cell:
        yield f"{where}: encryption cells differ from the seed (or a dropped cell is not null)"
    if supported_cell is not None:
        if not enc.supported:
            yield f"{where}: seed says encryption is supported"
        if mechanisms(supported_cell) != {m.value for m in enc.mechanisms}:
            yield f"{where}: mechanisms {[m.value for m in enc.mechanisms]} != seed {sorted(mechanisms(supported_cell))}"
    if default_cell is not None:
        expected = "conditional" if "对于" in default_cell else default_cell.startswith("是")
        if enc.by_default != expected:
            yield f"{where}: by_default {enc.by_default!r} != seed {expected!r}"
    if len(cells) > 4:
        yield f"{where}: seed row has more cells than columns"


def check_catalog(catalog: Catalog, rows: list[SeedRow]) -> list[str]:
    """All problems of ``catalog`` against the seed rows; rows are matched by section+index."""
    problems: list[str] = []
    by_key = {(p.section.value, p.index): p for p in catalog.paths}
    for row in rows:
        p = by_key.pop((row.section, row.index), None)
        if p is None:
            problems.append(f"{row.section} row {row.index} ({row.name}): missing from the catalog")
            continue
        problems.extend(check_row(p, row))
    for (section, index), p in by_key.items():
        problems.append(f"{p.id}: extra path ({section} {index}) not in the seed")
    order = [(p.section.value, p.index) for p in catalog.paths]
    if order != [(r.section, r.index) for r in rows]:
        problems.append("paths are not in source order")
    return problems
