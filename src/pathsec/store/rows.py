"""The rows one audit run adds to the history, as plain values (both writers use them).

The columns are those of :mod:`pathsec.store.models` (a test checks they match).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from pathsec.audit.models import AuditResult
from pathsec.report.facts import FactsMemo, observation_facts

RUN_COLUMNS = (
    "stored_at",
    "started",
    "finished",
    "profile",
    "complete",
    "schema_version",
    "label",
    "endpoint_count",
    "finding_count",
    "worst",
    "result",
)
#: Endpoint and finding columns; each row also has ``run_id``, set when the run is inserted.
ENDPOINT_COLUMNS = ("host", "port", "protocol", "path_id", "flow_id", "status", "reason", "facts")
FINDING_COLUMNS = (
    "finding_id",
    "severity",
    "host",
    "port",
    "protocol",
    "path_id",
    "flow_id",
    "title_en",
    "title_zh",
    "evidence",
)


@dataclass(frozen=True)
class RunRows:
    """One run's row (values in :data:`RUN_COLUMNS` order) and its endpoint and finding
    rows, made one at a time as a writer takes them (10,000 endpoints' facts are 40 MB of
    text, which no writer needs at once)."""

    run: tuple[Any, ...]
    result: AuditResult
    stored_at: dt.datetime

    def endpoints(self) -> Iterator[tuple[Any, ...]]:
        """The endpoint rows, in :data:`ENDPOINT_COLUMNS` order."""
        memo: FactsMemo = {}
        for ep in self.result.endpoints:
            yield (
                ep.host,
                ep.port,
                ep.protocol.value,
                ep.path_id,
                ep.flow_id,
                ep.status.value,
                ep.reason,
                json.dumps(observation_facts(ep.observations, memo), sort_keys=True),
            )

    def findings(self) -> Iterator[tuple[Any, ...]]:
        """The finding rows, in :data:`FINDING_COLUMNS` order."""
        for f in self.result.findings:
            yield (
                f.id,
                f.severity.value,
                f.host,
                f.port,
                f.protocol.value,
                f.path_id,
                f.flow_id,
                f.title.en,
                f.title.zh,
                json.dumps(list(f.evidence)),
            )


#: How a compressed results document starts (the ``result`` column); a document stored
#: before compression is the JSON itself and starts with ``{``.
DOCUMENT_PREFIX = "zlib+base64:"
#: zlib's level: JSON results compress 40-80 times at any level; 6 is zlib's default.
_LEVEL = 6


def document(result: AuditResult) -> str:
    """The results document as the history keeps it: :data:`DOCUMENT_PREFIX` and the
    base64 of its compact UTF-8 JSON (``model_dump_json()``), zlib-compressed.

    Compressed piece by piece (one per endpoint and finding), so the JSON is never one
    string: at 10,000 endpoints it is 47-70 MB, which the store held as a string, its
    pieces and SQLite's two copies while inserting (275 MB); compressed it is about 1 MB.
    Text, not bytes, so the column stays TEXT on every database (old rows still read).
    """
    comp = zlib.compressobj(_LEVEL)
    packed = [comp.compress(piece) for piece in json_pieces(result)]
    packed.append(comp.flush())
    return DOCUMENT_PREFIX + base64.b64encode(b"".join(packed)).decode("ascii")


def json_pieces(result: AuditResult) -> Iterator[bytes]:
    """``result.model_dump_json()`` as UTF-8, one piece per endpoint and finding."""
    head = result.model_copy(update={"endpoints": (), "findings": ()}).model_dump_json()
    start, sep, tail = head.partition(_LISTS)
    if not sep or tail:  # another layout: one call
        yield result.model_dump_json().encode()
        return
    yield (start + '"endpoints":[').encode()
    yield from _listed(result.endpoints)
    yield b'],"findings":['
    yield from _listed(result.findings)
    yield b"]}"


def _listed(models: Sequence[BaseModel]) -> Iterator[bytes]:
    """Each model's JSON (as ``model_dump_json()`` makes it), with commas between."""
    for i, m in enumerate(models):
        if i:
            yield b","
        yield m.__pydantic_serializer__.to_json(m)


#: How ``model_dump_json()`` ends a result whose two lists are empty.
_LISTS = '"endpoints":[],"findings":[]}'


def document_json(stored: str) -> bytes | str:
    """The JSON of a stored ``result`` value: compressed (:func:`document`) or, in rows
    written before compression, the JSON itself. ValueError when it cannot be read."""
    if not stored.startswith(DOCUMENT_PREFIX):
        return stored
    try:
        return zlib.decompress(base64.b64decode(stored[len(DOCUMENT_PREFIX) :], validate=True))
    except (binascii.Error, zlib.error) as exc:
        raise ValueError(f"the compressed document is damaged: {exc}") from None


def run_rows(result: AuditResult, label: str | None = None) -> RunRows:
    """The rows that store ``result`` (``label`` names the run in ``pathsec history``)."""
    worst = max((f.severity for f in result.findings), key=lambda s: s.rank, default=None)
    stored_at = dt.datetime.now(dt.UTC)
    run = (
        stored_at,
        result.started,
        result.finished,
        result.profile,
        result.complete,
        result.schema_version,
        label,
        len(result.endpoints),
        len(result.findings),
        worst.value if worst else None,
        document(result),
    )
    return RunRows(run, result, stored_at)
