"""The seed is the ground truth: every row, name, port, auth term and cell must match."""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import pytest
import yaml

from pathsec.catalog import Catalog, load_builtin
from pathsec.catalog.loader import builtin_catalog_text
from seed_check import check_catalog, port_tokens
from seed_reader import extract_rules_text, read_rows


@pytest.fixture(scope="module")
def rows():  # type: ignore[no-untyped-def]
    return read_rows()


def test_seed_has_52_rows_in_four_tables(rows) -> None:  # type: ignore[no-untyped-def]
    counts = Counter(r.section for r in rows)
    assert counts == {"transport": 11, "mailbox": 22, "client_access": 14, "unified_messaging": 5}


def test_builtin_catalog_matches_the_seed(rows) -> None:  # type: ignore[no-untyped-def]
    catalog = load_builtin()
    assert len(catalog.paths) == 52
    assert check_catalog(catalog, rows) == []


def test_port_tokens_split_tcp_udp() -> None:
    toks = port_tokens("389/TCP/UDP (LDAP)、3268/TCP (LDAP GC)")
    assert (("tcp", 389, "LDAP") in toks) and (("udp", 389, "LDAP") in toks)
    assert ("tcp", 3268, "LDAP GC") in toks
    assert port_tokens("25/TCP (TLS), 587 (TLS)") == [("tcp", 25, "TLS"), (None, 587, "TLS")]


def _raw() -> dict[str, Any]:
    return yaml.safe_load(builtin_catalog_text())


def _path(doc: dict[str, Any], path_id: str) -> dict[str, Any]:
    return next(p for p in doc["paths"] if p["id"] == path_id)


def _set(path_id: str, *keys: Any, value: Any):  # type: ignore[no-untyped-def]
    def mutate(doc: dict[str, Any]) -> None:
        node: Any = _path(doc, path_id)
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value

    return mutate


def _drop_row(doc: dict[str, Any]) -> None:
    doc["paths"] = [p for p in doc["paths"] if p["id"] != "mailbox.content_indexing"]
    for rule in doc["rules"]:
        rule["paths"] = [x for x in rule.get("paths", []) if x != "mailbox.content_indexing"]


def _swap_rows(doc: dict[str, Any]) -> None:
    paths = doc["paths"]
    paths[0], paths[1] = paths[1], paths[0]


def _drop_udp(doc: dict[str, Any]) -> None:
    p = _path(doc, "transport.hub_ad_access")
    p["ports"] = [pt for pt in p["ports"] if pt.get("protocol") != "udp" or pt.get("port") != 53]


MUTATIONS = {
    "wrong port number": _set("client_access.imap4", "ports", 1, "port", value=994),
    "wrong protocol": _set("transport.hub_to_hub", "ports", 0, "protocol", value="udp"),
    "udp half of 53/TCP/UDP dropped": _drop_udp,
    "wrong label": _set("transport.edgesync", "ports", 1, "label", value="SSL"),
    "chinese name edited": _set("client_access.owa", "name", "zh", value="Outlook Web 访问"),
    "auth token dropped": _set(
        "client_access.owa",
        "supported_auth",
        value=["basic", "digest", "forms", "ntlm", "kerberos"],
    ),
    "default auth changed": _set("client_access.autodiscover", "default_auth", value=["basic"]),
    "mechanism changed": _set("client_access.pop3", "encryption", "mechanisms", value=["tls"]),
    "raw cell edited": _set("mailbox.webdav", "supported_auth_raw", value="基本、NTLM"),
    "row missing": _drop_row,
    "rows out of order": _swap_rows,
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_a_wrongly_edited_row_is_caught(name: str, rows) -> None:  # type: ignore[no-untyped-def]
    doc = _raw()
    MUTATIONS[name](doc)
    catalog = Catalog.model_validate(copy.deepcopy(doc))
    problems = check_catalog(catalog, rows)
    assert problems, f"mutation {name!r} went unnoticed"


def test_every_rule_quotes_the_seed_verbatim() -> None:
    seed = extract_rules_text()
    for rule in load_builtin().rules:
        assert rule.quote_zh in seed, rule.id


REQUIRED_RULES = {
    "no_firewall_cas_mailbox_same_site": ("topology", "error"),
    "cas_not_in_perimeter": ("topology", "error"),
    "cluster_heartbeat_udp_3343": ("port_fact", None),
    "um_rtm_single_sip_port": ("topology", "error"),
    "negotiate_kerberos_first": ("auth_behaviour", None),
    "rpc_dynamic_ports": ("port_fact", None),
    "recipient_filtering_on_edge": ("recommendation", "info"),
    "hub_mailbox_colocation_auth": ("auth_behaviour", None),
    "business_logic_auth_context": ("auth_behaviour", None),
    "rpc_always_encrypted": ("encryption_fact", None),
}


def test_the_rules_the_notes_state_are_present() -> None:
    catalog = load_builtin()
    for rule_id, (kind, severity) in REQUIRED_RULES.items():
        rule = catalog.rule(rule_id)
        assert rule.kind.value == kind
        assert rule.severity == severity
    heartbeat = catalog.rule("cluster_heartbeat_udp_3343")
    assert [(p.protocol, p.port) for p in heartbeat.ports] == [("udp", 3343)]
    assert "KB 154596" in catalog.rule("rpc_dynamic_ports").references
