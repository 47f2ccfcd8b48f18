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


def observation_facts(observations: BaseModel) -> dict[str, FactValue]:
    """Facts of an endpoint's observations, e.g. ``tls.session.certificate.sha256``."""
    return flatten(observations.model_dump(mode="json"))


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
