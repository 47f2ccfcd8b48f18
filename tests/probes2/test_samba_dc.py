"""Kerberos, DNS, LDAP/GC, CLDAP, RPC endpoint mapper and SMB probes against Samba as an AD DC
in a network namespace; ``pathsec audit`` runs in a second namespace."""

from __future__ import annotations

import pytest

from pathsec.probes.rpc import MAP_INTERFACES
from probes2.conftest import DOMAIN, SambaDc

pytestmark = [pytest.mark.server, pytest.mark.root]


@pytest.fixture(scope="module")
def dc_audit(samba_dc: SambaDc) -> dict:
    ip = samba_dc.ip
    targets = [
        f"{ip}:88/kerberos",
        f"{ip}:88/kerberos-udp",
        f"{ip}:53/dns",
        f"{ip}:53/dns-udp",
        f"{ip}:389/ldap",
        f"{ip}:3268/ldap",
        f"{ip}:636/ldaps",
        f"{ip}:389/cldap",
        f"{ip}:135/rpc",
        f"{ip}:445/smb",
        f"{ip}:3343/udp",
    ]
    args = [x for t in targets for x in ("-t", t)]
    _, doc = samba_dc.audit(*args, "--ad-domain", DOMAIN, "--timeout", "3", "--profile", "hardened")
    return doc


def _ep(doc: dict, port: int, proto: str) -> dict:
    return next(e for e in doc["endpoints"] if e["port"] == port and e["protocol"] == proto)


def _ids(doc: dict, port: int, proto: str) -> set[str]:
    return {f["id"] for f in doc["findings"] if f["port"] == port and f["protocol"] == proto}


@pytest.mark.parametrize("proto", ["kerberos", "kerberos-udp"])
def test_kdc_answers_unknown_principal_with_krb_error(dc_audit: dict, proto: str) -> None:
    k = _ep(dc_audit, 88, proto)["observations"]["kerberos"]
    assert k["status"] == "ok" and k["kdc"] is True
    assert k["transport"] == ("udp" if proto.endswith("udp") else "tcp")
    assert k["realm_asked"] == "LAB.TEST"
    assert k["error_code"] == 6 and k["error_name"] == "KDC_ERR_C_PRINCIPAL_UNKNOWN"
    assert k["server_realm"] == "LAB.TEST"
    assert "PS-KRB-001" not in _ids(dc_audit, 88, proto)


@pytest.mark.parametrize("proto", ["dns", "dns-udp"])
def test_dns_soa_and_srv(dc_audit: dict, proto: str) -> None:
    d = _ep(dc_audit, 53, proto)["observations"]["dns"]
    q = {(x["rdtype"], x["name"]): x for x in d["queries"]}
    soa = q[("SOA", DOMAIN)]
    assert soa["rcode"] == "NOERROR" and soa["authoritative"] and soa["answers"]
    assert any("389 dc1.lab.test." in a for a in q[("SRV", f"_ldap._tcp.{DOMAIN}")]["answers"])
    assert any("88 dc1.lab.test." in a for a in q[("SRV", f"_kerberos._tcp.{DOMAIN}")]["answers"])
    assert not {"PS-DNS-001", "PS-DNS-002"} & _ids(dc_audit, 53, proto)


@pytest.mark.parametrize(("port", "proto"), [(389, "ldap"), (3268, "ldap"), (636, "ldaps")])
def test_ldap_rootdse_of_a_dc(dc_audit: dict, port: int, proto: str) -> None:
    lo = _ep(dc_audit, port, proto)["observations"]["ldap"]
    r = lo["root_dse"]
    assert r["dns_host_name"] == "dc1.lab.test"
    assert {"GSSAPI", "GSS-SPNEGO"} <= set(r["sasl_mechanisms"])
    assert any(c.endswith(".800") for c in r["capabilities"])  # Active Directory
    assert r["domain_functionality"] is not None and r["dc_functionality"] is not None
    assert "PS-LDAP-004" in _ids(dc_audit, port, proto)
    if proto == "ldap":
        # Samba lists no supportedExtension, but StartTLS works
        assert not lo["starttls_advertised"] and lo["starttls_performed"], lo
        assert lo["tls"] is not None
    else:
        assert lo["tls"] is not None


def test_cldap_over_udp(dc_audit: dict) -> None:
    u = _ep(dc_audit, 389, "cldap")["observations"]["udp"]
    assert u["state"] == "open" and u["protocol_reply"] is True


def test_udp_without_listener_is_closed_or_open_filtered(dc_audit: dict) -> None:
    u = _ep(dc_audit, 3343, "udp")["observations"]["udp"]
    assert u["state"] == "closed"  # the namespace answers with ICMP port unreachable


def test_rpc_endpoint_mapper(dc_audit: dict) -> None:
    r = _ep(dc_audit, 135, "rpc")["observations"]["rpc"]
    assert r["status"] == "ok" and r["entries"] > 0
    assert r["enumerated"] is False  # Samba maps interfaces but does not enumerate
    assert r["tcp_ports"] and all(49152 <= p <= 65535 for p in r["tcp_ports"])
    assert all(b.startswith("ncacn_ip_tcp:10.213.77.1[") for b in r["bindings"])
    assert "PS-RPC-001" in _ids(dc_audit, 135, "rpc")
    mapped = {f"{uuid} v{ver}" for uuid, ver in MAP_INTERFACES}  # the interfaces asked for
    assert r["interfaces"] and set(r["interfaces"]) <= mapped
    assert not any(i.startswith("a4f1db00-") for i in r["interfaces"])  # no Exchange store


def test_smb_dialects_and_signing(dc_audit: dict) -> None:
    s = _ep(dc_audit, 445, "smb")["observations"]["smb"]
    assert s["status"] == "ok"
    assert s["dialects"]["SMB1"] is False  # Samba 4.17: server min protocol = SMB2_02
    assert s["dialects"]["3.1.1"] is True and s["dialects"]["2.0.2"] is True
    assert s["signing_required"] is True  # a DC requires signing
    assert s["encryption"] is True  # SMB 3.1.1 encryption negotiated (a cipher was chosen)
    details = {d["dialect"]: d for d in s["details"]}
    assert details["2.1"]["encryption"] is False and details["3.0"]["encryption"] is True
    found = _ids(dc_audit, 445, "smb")
    assert "PS-SMB-001" not in found and "PS-SMB-002" not in found


DEPLOYMENT = """
schema_version: 1
organization: {name: Lab, forest: lab.test, domain: lab.test}
sites:
  - name: HQ
zones:
  - name: internal
    kind: internal
    cidrs: [10.213.77.0/24]
servers:
  - name: DC1
    addresses: [10.213.77.1]
    site: HQ
    zone: internal
    roles: [domain_controller]
    windows: "2003"
  - name: EX1
    addresses: [10.213.77.2]
    site: HQ
    zone: internal
    roles: [hub_transport, client_access, mailbox]
    exchange: 2007-sp1
    windows: "2008"
"""


def test_deployment_audit_of_the_dc(samba_dc: SambaDc, tmp_path) -> None:
    """The planned AD flows from EX1 (the client namespace) to DC1 (Samba): the domain
    comes from the deployment, the RPC range from DC1's Windows version (2003: 1025-5000),
    and Samba's endpoints on 49152+ are reported as outside it (PS-RPC-002)."""
    dep = tmp_path / "lab.yaml"
    dep.write_text(DEPLOYMENT)
    _, doc = samba_dc.audit(str(dep), "--from", "internal", "--timeout", "2")
    dc = {(e["port"], e["protocol"]): e for e in doc["endpoints"] if e["host"] == samba_dc.ip}
    assert {
        (88, "kerberos"),
        (88, "kerberos-udp"),
        (53, "dns"),
        (53, "dns-udp"),
        (389, "ldap"),
        (389, "cldap"),
        (3268, "ldap"),
        (135, "rpc"),
    } <= set(dc)
    assert all(e["from_zone"] == "internal" for e in doc["endpoints"])
    assert dc[(88, "kerberos")]["observations"]["kerberos"]["error_code"] == 6
    soa = dc[(53, "dns")]["observations"]["dns"]["queries"][0]
    assert soa["name"] == "lab.test" and soa["authoritative"]
    drift = [f for f in doc["findings"] if f["id"] == "PS-RPC-002" and f["host"] == samba_dc.ip]
    assert drift and "outside 1025-5000" in drift[0]["evidence"][0]
    assert all(f["flow_id"] for f in drift)
