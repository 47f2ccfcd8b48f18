"""What the cipher-suite enumeration observed (:mod:`pathsec.probes.ciphers`): accepted suites
per version with their key exchange, TLS 1.3 groups, the chain as sent."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from pathsec.probes.chain import ChainFacts
from pathsec.probes.interface import Observation
from pathsec.probes.suites import GROUPS, CipherSuite, suite


class SuiteSeen(BaseModel):
    """One accepted suite, with the key exchange the server used for it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    dh_bits: int | None = None
    curve: str | None = None
    curve_bits: int | None = None
    rsa_export_bits: int | None = None


class VersionSuites(BaseModel):
    """The suites one version accepts, in the order the server chose them.

    ``server_order``: True when the server picks by its own preference (the list is that
    preference), False when it follows the client's order, None when fewer than two suites
    or the check failed. ``complete``: the enumeration ended on the server's refusal.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Equal values share one instance in a run's results (:func:`pathsec.compaction.compact`).
    interned: ClassVar[bool] = True

    version: str
    suites: tuple[SuiteSeen, ...] = ()
    server_order: bool | None = None
    complete: bool = True
    weak_curve: str | None = None
    error: str | None = None


class CipherObservation(Observation):
    """Accepted cipher suites per version, key exchange strength, the chain as sent."""

    #: Equal values share one instance in a run's results (:func:`pathsec.compaction.compact`).
    interned: ClassVar[bool] = True

    versions: tuple[VersionSuites, ...] = ()
    tls13_groups: tuple[str, ...] = ()
    chain: ChainFacts | None = None
    ocsp_stapled: bool | None = None
    shared_with: str | None = Field(
        default=None, description="Another endpoint of the run this enumeration was made for."
    )

    def suites(self) -> tuple[tuple[str, CipherSuite], ...]:
        """(version, suite) of every accepted suite the registry knows."""
        out = []
        for v in self.versions:
            for s in v.suites:
                known = suite(int(s.id, 16))
                if known is not None:
                    out.append((v.version, known))
        return tuple(out)

    def with_flag(self, flag: str) -> tuple[str, ...]:
        """``version suite`` of every accepted suite carrying ``flag`` (``null``, ``rc4`` …)."""
        return tuple(f"{v} {s.name}" for v, s in self.suites() if flag in s.flags)

    @property
    def forward_secrecy(self) -> str:
        """``all``, ``some`` or ``none`` of the accepted suites are forward secret; ``unknown``
        without any."""
        seen = [s.forward_secret for _, s in self.suites()]
        if not seen:
            return "unknown"
        return "all" if all(seen) else "some" if any(seen) else "none"

    def dh_sizes(self) -> tuple[int, ...]:
        """The DH group sizes seen, smallest first."""
        return tuple(sorted({s.dh_bits for v in self.versions for s in v.suites if s.dh_bits}))

    def curves(self) -> tuple[tuple[str, int], ...]:
        """(curve, bits) of every ephemeral ECDH key exchange seen, weak curve probes included."""
        out = {(s.curve, s.curve_bits or 0) for v in self.versions for s in v.suites if s.curve}
        for v in self.versions:
            if v.weak_curve:
                out.add((v.weak_curve, GROUPS.get(_group_id(v.weak_curve), ("", 0))[1]))
        return tuple(sorted(out, key=lambda c: c[1]))


def _group_id(name: str) -> int:
    return next((k for k, (n, _) in GROUPS.items() if n == name), -1)
