"""The ``observations`` of an endpoint result: one optional field per registered probe.

The model is built from :data:`pathsec.probes.registry.PROBES` (field name = probe kind,
type = the probe's observation model, in registry order), so a new probe needs no field
here. Code reads it through :meth:`ObservationsBase.of` and :meth:`ObservationsBase.get`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict, create_model

from pathsec.probes.interface import AppProtocol, Observation, ProbeKind, Stage
from pathsec.probes.registry import KIND_OF, PROBES, SERVED_BY

ObsT = TypeVar("ObsT", bound=Observation)


class ObservationsBase(BaseModel):
    """Each probe's observation of one endpoint (absent: the probe did not run)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def get(self, kind: ProbeKind) -> Observation | None:
        """The observation of the probe ``kind``, if it ran."""
        value = self.__dict__.get(kind.value)
        return value if isinstance(value, Observation) else None

    def of(self, model: type[ObsT]) -> ObsT | None:
        """The observation of type ``model`` (e.g. ``SmtpObservation``), if its probe ran."""
        value = self.__dict__.get(KIND_OF[model].value)
        return value if isinstance(value, model) else None

    def summary(self, protocol: AppProtocol) -> str:
        """One line for tables: what the probe of ``protocol`` saw, then the follow-up
        probes (TLS versions, NTLM names); server text as received (callers make it inert)."""
        first = SERVED_BY[protocol]
        order = [first, *(p for p in PROBES if p is not first and p.stage is not Stage.connect)]
        parts = [p.summary(obs) for p in order if (obs := self.get(p.kind)) is not None]
        return "; ".join(x for x in parts if x)

    def items(self) -> Iterator[tuple[ProbeKind, Observation]]:
        """(kind, observation) of every probe that ran, in registry order."""
        for p in PROBES:
            value = self.get(p.kind)
            if value is not None:
                yield p.kind, value


def _model() -> type[ObservationsBase]:
    fields: dict[str, Any] = {p.kind.value: (p.observation | None, None) for p in PROBES}
    return create_model(
        "Observations",
        __base__=ObservationsBase,
        __doc__=ObservationsBase.__doc__,
        __module__=__name__,
        **fields,
    )


if TYPE_CHECKING:
    Observations = ObservationsBase
else:
    Observations = _model()


def observations(seen: dict[ProbeKind, Observation]) -> ObservationsBase:
    """The ``observations`` of what the probes of one endpoint saw."""
    return Observations(**{k.value: v for k, v in seen.items()})
