"""What a check is: an id, what it applies to, when it runs, and a function of a :class:`Context`.

A check returns evidence lines when the endpoint deviates (nothing: no finding). Its title
and remediation are data (``texts.yaml``); which checks run and at what severity is the
profile's to say. Checks live one module per area in this package and are collected in
:mod:`pathsec.audit.checks.registry`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from pathsec.audit.models import EndpointResult, Expectations, Target
from pathsec.audit.profiles import Profile
from pathsec.probes import registry
from pathsec.probes.certs import TlsSession
from pathsec.probes.interface import Observation, ProbeKind, Status
from pathsec.probes.tls import TlsObservation

ObsT = TypeVar("ObsT", bound=Observation)
Evidence = Sequence[str]
#: ``open``: grades an endpoint the plan expects to answer; ``closed``: one it keeps closed.
When = Literal["open", "closed"]


@dataclass(frozen=True)
class Context:
    """What a check sees: the target, its result and the profile."""

    target: Target
    result: EndpointResult
    profile: Profile

    @property
    def app_kind(self) -> ProbeKind | None:
        """The kind of the endpoint's application probe (None for bare tcp/tls)."""
        probe = registry.app_probe(self.target.protocol)
        return probe.kind if probe is not None else None

    def obs(self, model: type[ObsT]) -> ObsT | None:
        """The observation of type ``model``, if its probe ran."""
        return self.result.observations.of(model)

    def app(self) -> Observation | None:
        """The application probe's observation."""
        kind = self.app_kind
        return self.result.observations.get(kind) if kind is not None else None

    def auth_rows(self) -> Expectations | None:
        """The expectations whose authentication rows grade this endpoint: those of a
        planned flow or a path named with ``--path``; those a bare target's port suggests
        only when the endpoint identifies itself as Exchange or Active Directory (a Postfix
        on port 25 is not graded against Exchange's connectors)."""
        exp = self.target.expectations
        if exp is None or not exp.assumed:
            return exp
        app = self.app()
        return exp if app is not None and app.identifies_microsoft() else None

    def app_ok(self) -> bool:
        """True when the application dialogue completed."""
        obs = self.app()
        return obs is not None and obs.status is Status.ok

    def session(self) -> TlsSession | None:
        """The best TLS session seen (TLS probe first, then the application probe's own)."""
        tls = self.obs(TlsObservation)
        if tls is not None and tls.session is not None:
            return tls.session
        app = self.app()
        return app.tls_session() if app is not None else None

    @property
    def implicit_tls(self) -> bool:
        """True when the endpoint's protocol starts with TLS."""
        return registry.speaks(self.target.protocol).implicit_tls

    @property
    def udp(self) -> bool:
        """True when the endpoint's protocol runs over UDP."""
        return registry.speaks(self.target.protocol).transport == "udp"


CheckFn = Callable[[Context], Evidence]


@dataclass(frozen=True)
class Check:
    """One finding type.

    ``applies_to``: the application probes whose endpoints it grades (None: every
    endpoint); ``when``: whether it grades endpoints the plan expects open or closed.
    """

    id: str
    fn: CheckFn
    applies_to: frozenset[ProbeKind] | None = None
    when: When = "open"

    def applies(self, target: Target) -> bool:
        """True when this check grades ``target``."""
        if target.expect != self.when:
            return False
        if self.applies_to is None:
            return True
        probe = registry.app_probe(target.protocol)
        return probe is not None and probe.kind in self.applies_to


def only(*kinds: ProbeKind) -> frozenset[ProbeKind]:
    """``applies_to`` for endpoints of these application probes."""
    return frozenset(kinds)


class DuplicateCheck(Exception):
    """Two checks share one id (ids are stable: never reuse one)."""


def collect(checks: Iterable[Check]) -> Mapping[str, Check]:
    """Checks by id, in order; a duplicate id raises :class:`DuplicateCheck`."""
    out: dict[str, Check] = {}
    for check in checks:
        if check.id in out:
            raise DuplicateCheck(f"check id {check.id} is defined twice")
        out[check.id] = check
    return out
