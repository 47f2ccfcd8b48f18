"""The results document written piece by piece is the same text as written at once."""

from __future__ import annotations

import json
from pathlib import Path

from pathsec.atomic import write_atomic
from pathsec.audit.run import result_json, result_json_pieces
from report.sample import HOSTILE, sample_result


def test_pieces_are_the_document() -> None:
    base = sample_result()
    hosts = [f"h{i}.example.test" for i in range(70)]  # more than one piece of 64
    many = base.model_copy(
        update={
            "endpoints": tuple(
                e.model_copy(update={"host": h}) for h in hosts for e in base.endpoints
            ),
            "findings": tuple(
                f.model_copy(update={"host": h}) for h in hosts for f in base.findings
            ),
        }
    )
    # C1 controls, line separators and bidi controls are escaped in every piece.
    odd = base.model_copy(update={"profile": "p\x85\u2028\u202e"})
    empty = base.model_copy(update={"endpoints": (), "findings": ()})
    for result in (base, many, odd, empty, base.model_copy(update={"findings": ()})):
        pieces = list(result_json_pieces(result))
        assert "".join(pieces) == result_json(result)
        assert json.loads("".join(pieces))["profile"] == result.profile
    assert len(list(result_json_pieces(many))) > 8
    assert (
        HOSTILE in json.loads(result_json(base))["endpoints"][0]["observations"]["smtp"]["banner"]
    )


def test_written_atomically_piece_by_piece(tmp_path: Path) -> None:
    out = write_atomic(tmp_path / "r.json", result_json_pieces(sample_result()))
    assert out.read_text("utf-8") == result_json(sample_result())
    assert (out.stat().st_mode & 0o777) == 0o600
