"""Readings beyond the seed's cells: directions per port, inferred protocols, destinations,
the Exchange 2010 edition's values and the operational rows, each with its basis."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from pathsec.catalog import Catalog, Role, Section, load_builtin
from pathsec.catalog.loader import builtin_catalog_text
from pathsec.catalog.models import BasisKind, Direction, Towards
from seed_reader import extract_rules_text


def _doc() -> dict[str, Any]:
    return yaml.safe_load(builtin_catalog_text())


def test_edge_to_edge_ports_carry_a_direction_with_the_seeds_quote() -> None:
    seed = extract_rules_text()
    path = load_builtin().path("transport.edge_to_edge")
    readings = {(p.protocol, p.port): p.direction for p in path.ports}
    assert all(d is not None for d in readings.values())
    smtp = readings[("tcp", 25)]
    assert smtp is not None and smtp.direction is Direction.both
    assert smtp.towards is Towards.destination and smtp.basis.kind is BasisKind.source
    for key in (("tcp", 389), ("udp", 389), ("tcp", 80)):
        d = readings[key]
        assert d is not None
        assert d.direction is Direction.outbound
        assert d.towards is Towards.certificate_revocation
        assert d.basis.kind is BasisKind.inferred and d.basis.reason
        assert "bb851505" in d.basis.reason and "证书身份验证" in d.quote_zh
    for d in readings.values():
        assert d is not None and d.quote_zh in seed, d.quote_zh


def test_587_is_tcp_with_an_inferred_basis() -> None:
    port = next(
        p for p in load_builtin().path("transport.smtp_client_to_hub").ports if p.port == 587
    )
    assert port.protocol == "tcp"
    assert port.protocol_basis is not None and port.protocol_basis.kind is BasisKind.inferred
    assert "RFC 6409" in (port.protocol_basis.reason or "")


def test_um_web_service_is_placed_on_client_access_with_its_basis() -> None:
    path = load_builtin().path("unified_messaging.web_service")
    assert path.destination_role is Role.client_access
    assert path.destination_basis is not None
    assert path.destination_basis.kind is BasisKind.inferred
    assert "Get-UMVirtualDirectory" in (path.destination_basis.reason or "")


@pytest.mark.parametrize(
    "path_id", ["transport.edgesync", "transport.hub_ad_access", "mailbox.availability_web_service"]
)
def test_values_from_the_2010_edition_name_it(path_id: str) -> None:
    basis = load_builtin().path(path_id).encryption.by_default_basis
    assert basis.kind is BasisKind.exchange_2010_edition
    assert "Exchange 2010 edition" in (basis.reason or "")


def test_no_english_original_value_cites_the_2010_edition() -> None:
    for p in load_builtin().paths:
        for b in (p.encryption.supported_basis, p.encryption.by_default_basis):
            if b.kind is BasisKind.english_original:
                assert "2010" not in (b.reason or ""), p.id


def test_operational_rows_are_apart_and_each_cites_its_reference() -> None:
    catalog = load_builtin()
    assert len(catalog.paths) == 52
    assert all(p.section is not Section.operational for p in catalog.paths)
    assert {p.id for p in catalog.operational} == {
        "operational.um_ad_access",
        "operational.cas_ad_access",
        "operational.legacy_ad_access",
        "operational.dc_replication",
        "operational.hub_legacy_smtp",
        "operational.cluster_tcp_3343",
        "operational.outlook_gc_nspi",
        "operational.edge_dns",
    }
    for p in catalog.operational:
        assert p.section is Section.operational and p.id.startswith("operational.")
        assert p.basis is not None and p.basis.kind is BasisKind.operational
        reason = p.basis.reason or ""
        assert any(ref in reason for ref in ("KB ", "TechNet", "RFC ", "reference")), p.id
    assert "KB 179442" in (catalog.path("operational.dc_replication").basis.reason or "")  # type: ignore[union-attr]


def test_model_rejects_an_operational_row_among_the_reference_rows() -> None:
    doc = _doc()
    doc["paths"].append(copy.deepcopy(doc["operational"][0]))
    with pytest.raises(ValidationError, match="operational rows belong under 'operational'"):
        Catalog.model_validate(doc)


def test_model_rejects_an_operational_row_without_its_basis() -> None:
    doc = _doc()
    del doc["operational"][0]["basis"]
    with pytest.raises(ValidationError, match="basis 'operational' exactly when"):
        Catalog.model_validate(doc)


def test_model_rejects_a_protocol_basis_without_a_protocol() -> None:
    doc = _doc()
    port = doc["paths"][0]["ports"][0]
    port["protocol"] = None
    port["protocol_basis"] = {"kind": "inferred", "reason": "x"}
    with pytest.raises(ValidationError, match="protocol_basis explains"):
        Catalog.model_validate(doc)


def test_cli_lists_operational_rows_apart_and_shows_readings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pathsec.cli.main import run

    assert run(["catalog", "--format", "json"]) == 0
    reference = json.loads(capsys.readouterr().out)["paths"]
    assert len(reference) == 52 and not [p for p in reference if p["section"] == "operational"]
    assert run(["catalog", "--section", "operational", "--format", "json"]) == 0
    ops = json.loads(capsys.readouterr().out)["paths"]
    assert len(ops) == 8 and all(p["basis"]["kind"] == "operational" for p in ops)
    assert run(["catalog", "show", "operational.dc_replication"]) == 0
    assert "KB 179442" in capsys.readouterr().out
    assert run(["catalog", "show", "transport.edge_to_edge", "-f", "csv"]) == 0
    shown = capsys.readouterr().out
    assert "outbound → certificate_revocation" in shown and "both → destination" in shown
    assert run(["catalog", "show", "unified_messaging.web_service", "-f", "csv"]) == 0
    assert "basis (destination)" in capsys.readouterr().out
    assert run(["catalog", "--section", "transport"]) == 0
    assert " § " in capsys.readouterr().out.replace("│", " ")
