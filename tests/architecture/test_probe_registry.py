"""The probe registry is complete and consistent, and says what is missing when it is not."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pathsec.audit.observations import Observations
from pathsec.probes import registry
from pathsec.probes.interface import (
    AppProtocol,
    Attempt,
    Endpoint,
    Facts,
    Job,
    NtlmAuth,
    Prior,
    Probe,
    ProbeKind,
    ProbeSettings,
    Speaks,
    StartTls,
)
from pathsec.probes.ntlm import NtlmProbe
from pathsec.probes.pop3 import Pop3Observation
from pathsec.probes.registry import BARE_PROTOCOLS, PROBES, _follow_up_layers, registry_problems
from pathsec.probes.runtime import Conn
from pathsec.probes.smtp import SmtpProbe
from pathsec.probes.tls import TlsProbe


def test_the_registry_is_sound() -> None:
    assert registry_problems(PROBES) == []


def test_every_probe_kind_has_a_probe_an_observation_field_and_protocols() -> None:
    assert [p.kind for p in PROBES] == list(dict.fromkeys(p.kind for p in PROBES))
    assert {p.kind for p in PROBES} == set(ProbeKind)
    fields = Observations.model_fields
    assert list(fields) == [p.kind.value for p in PROBES]
    for p in PROBES:
        assert fields[p.kind.value].annotation == p.observation | None
    # every protocol is spoken by one probe and has a default port (bare ones excepted)
    assert set(registry.SPEAKS) == set(AppProtocol)
    for proto, spec in registry.SPEAKS.items():
        assert (spec.default_port is None) == (proto in BARE_PROTOCOLS), proto


def test_the_port_table_is_derived_and_5062_is_sip_over_tls() -> None:
    assert registry.protocol_at(5061) is AppProtocol.sips
    assert registry.protocol_at(5062) is AppProtocol.sips
    assert registry.protocol_at(389, "udp") is AppProtocol.cldap
    assert registry.protocol_at(389) is AppProtocol.ldap
    assert registry.speaks(AppProtocol.smtps).implicit_tls
    assert registry.speaks(AppProtocol.smtps).client_path == "transport.smtp_client_to_hub"


class _Obs(Pop3Observation):
    """An in-band TLS observation (a subclass, as a new protocol's would be)."""


class _NoHook(Probe[_Obs]):
    """A probe that observes STARTTLS but forgot the hook the TLS probe needs."""

    kind = ProbeKind.pop3
    observation = _Obs
    speaks = (Speaks(AppProtocol.pop3, (110,)),)

    def plan(self, endpoint: Endpoint, settings: ProbeSettings, prior: Prior) -> Sequence[Job]:
        return ()

    async def run(self, job: Job, settings: ProbeSettings) -> Attempt:
        raise NotImplementedError

    def fold(self, endpoint: Endpoint, attempts: Sequence[Attempt]) -> _Obs:
        return self.fold_one(attempts)

    def summary(self, obs: _Obs) -> str:
        return ""

    def facts(self, obs: _Obs) -> Facts:
        return {}


class _NtlmOnly(_NoHook, StartTls, NtlmAuth):
    async def starttls(self, conn: Conn) -> None:
        raise NotImplementedError

    async def ready_for_auth(self, conn: Conn, endpoint: Endpoint, use_starttls: bool) -> None:
        raise NotImplementedError

    async def ntlm_exchange(self, conn: Conn, negotiate_b64: str) -> str:
        raise NotImplementedError


def _without(kind: ProbeKind) -> list[Probe[Any]]:
    return [p for p in PROBES if p.kind is not kind]


def test_what_is_forgotten_is_named() -> None:
    # a kind without a probe, and its protocols without a speaker
    problems = registry_problems(_without(ProbeKind.pop3))
    assert "ProbeKind.pop3 has no probe" in problems
    assert "AppProtocol.pop3s has no probe" in problems
    # an in-band TLS observation without the StartTls hook
    problems = registry_problems([*_without(ProbeKind.pop3), _NoHook()])
    assert any("_NoHook observes in-band TLS" in p and "no StartTls hook" in p for p in problems)
    # a second probe of one kind, speaking a protocol and a port someone else has
    problems = registry_problems([*PROBES, _NtlmOnly()])
    assert "probe kind pop3 is registered twice" in problems
    assert "pop3 is spoken by pop3 and pop3" in problems
    assert any("tcp 110 is claimed by" in p for p in problems)
    # a protocol without a port
    bare = Speaks(AppProtocol.smtp)
    portless = type("Portless", (SmtpProbe,), {"speaks": (bare,)})
    problems = registry_problems([*_without(ProbeKind.smtp), portless()])
    assert "smtp (Portless) has no default port" in problems
    assert "AppProtocol.smtps has no probe" in problems


ROOT = Path(__file__).resolve().parents[2]


def test_every_probe_module_has_a_test() -> None:
    corpus = "\n".join(p.read_text(encoding="utf-8") for p in ROOT.glob("tests/**/*.py"))
    untested = [p.kind for p in PROBES if type(p).__module__ not in corpus]
    assert untested == [], f"probes no test imports: {untested}"


def test_every_protocol_is_documented_in_the_readme() -> None:
    spans = re.findall(r"`([^`\n]+)`", (ROOT / "README.md").read_text(encoding="utf-8"))
    words = {w.strip(",.") for span in spans for w in span.split()}
    missing = [p.value for p in AppProtocol if p.value not in words]
    assert missing == [], f"document these protocols in the README (Live audit): {missing}"


def test_follow_ups_run_after_the_follow_ups_they_plan_from() -> None:
    later_tls = type("LaterTls", (TlsProbe,), {"after": (ProbeKind.ntlm,)})()
    later_ntlm = type("LaterNtlm", (NtlmProbe,), {"after": (ProbeKind.tls,)})()
    others = [p for p in PROBES if p.kind not in (ProbeKind.tls, ProbeKind.ntlm)]
    ordered = [*others, later_tls, NtlmProbe()]
    assert registry_problems(ordered) == []
    assert _follow_up_layers(ordered) == [(ProbeKind.ntlm,), (ProbeKind.tls,), (ProbeKind.ciphers,)]
    # today: TLS versions and NTLM, then the cipher enumeration, which plans from the versions
    assert ((ProbeKind.tls, ProbeKind.ntlm), (ProbeKind.ciphers,)) == registry.FOLLOW_UPS
    cycle = registry_problems([*others, later_tls, later_ntlm])
    assert cycle == ["follow-up probes wait for each other in a cycle: ciphers, ntlm, tls"]
    wrong = type("Early", (SmtpProbe,), {"after": (ProbeKind.tls,)})()
    problems = registry_problems([*_without(ProbeKind.smtp), wrong])
    assert any("only follow-ups order follow-ups" in p for p in problems)
