"""Observations as flat facts: ``probe.field.sub`` -> value, generic over every probe.

Reports show observations this way and history compares them this way, so a new probe's
observation type needs no code here: whatever its ``model_dump`` holds becomes facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

#: Fields that differ between two runs of an unchanged server; left out of facts.
VOLATILE = frozenset({"transcript", "connect_ms", "elapsed", "elapsed_ms", "timestamp"})

Scalar = str | int | float | bool
FactValue = Scalar | tuple[Scalar, ...]


def flatten(data: Any, prefix: str = "") -> dict[str, FactValue]:
    """Flatten JSON-like data; lists of scalars stay lists (compared as sets in a diff)."""
    out: dict[str, FactValue] = {}
    _flatten_into(out, data, prefix)
    return out


_SCALARS = (str, int, float, bool)


def _flatten_into(out: dict[str, FactValue], data: Any, prefix: str) -> None:
    # One dict filled in place, plain dicts tested before the Mapping ABC: the history
    # flattens every endpoint of every run it stores.
    if isinstance(data, dict | Mapping):
        for key, value in data.items():
            if key not in VOLATILE:
                _flatten_into(out, value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(data, list | tuple):
        if all(isinstance(x, _SCALARS) for x in data):
            if data:
                out[prefix] = tuple(data)
        else:
            for i, x in enumerate(data):
                _flatten_into(out, x, f"{prefix}[{i}]")
    elif data is not None and prefix:
        out[prefix] = data


#: Facts of observations already flattened, by ``id``, with the observation itself (so
#: that the id stays its own while the memo lives): see :func:`observation_facts`.
FactsMemo = dict[int, tuple[Any, dict[str, FactValue]]]


def observation_facts(
    observations: BaseModel, memo: FactsMemo | None = None
) -> dict[str, FactValue]:
    """Facts of an endpoint's observations, e.g. ``tls.session.certificate.sha256``.

    ``memo`` (one per run, held by the caller; the history's writer does): each probe's
    observation is flattened on its own under its field's name, the same facts, and an
    instance seen before reuses its facts. A live run's equal observations of the classes
    that set ``interned`` are one instance (:func:`pathsec.compaction.compact`), so 1,000
    endpoints with one cipher enumeration flatten it once; only those are kept.
    """
    dumped = observations.model_dump(mode="json")
    if memo is None:
        return flatten(dumped)
    out: dict[str, FactValue] = {}
    for name, data in dumped.items():
        if data is None or name in VOLATILE:
            continue
        obs = getattr(observations, name)
        hit = memo.get(id(obs))
        if hit is not None and hit[0] is obs:
            out.update(hit[1])
        elif getattr(type(obs), "interned", False):  # only these are shared: memory stays flat
            entry = memo[id(obs)] = (obs, flatten(data, name))
            out.update(entry[1])
        else:
            _flatten_into(out, data, name)
    return out


def transcripts(observations: BaseModel) -> dict[str, tuple[str, ...]]:
    """Each probe's transcript (probes without one left out)."""
    out: dict[str, tuple[str, ...]] = {}
    for name, obs in observations.model_dump(mode="json").items():
        if isinstance(obs, Mapping) and obs.get("transcript"):
            out[name] = tuple(str(x) for x in obs["transcript"])
    return out


def fact_text(value: FactValue) -> str:
    """A fact as one line of text."""
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
