"""Load JSON input (plans, results documents) with messages that name file:line and field.

The document is parsed once by the standard library; only when validation fails is the
text walked again, down the path the error names only (siblings skipped by the C
decoder), to find its line. That keeps the error path as fast as the success path (a
7 MB results file with one bad field answers in well under a second, where composing it
as YAML took 25 s).
Numbers are bounded on the way in: an integer of more than
:data:`~pathsec.yamlfile.MAX_NUMBER_DIGITS` digits, ``NaN``, ``Infinity`` or a float that
overflows is one input error, not a traceback later.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from json.decoder import scanstring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from pathsec.errors import InputError, InputProblem
from pathsec.yamlfile import MAX_NUMBER_DIGITS, read_text_file, validate_located

M = TypeVar("M", bound=BaseModel)

#: Largest JSON file pathsec reads (plans, results documents).
MAX_JSON_BYTES = 256 * 1024 * 1024

# Strings (escapes included), structural characters, and bare scalars (numbers, literals).
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+', re.DOTALL)


class _BadNumber(ValueError):
    def __init__(self, text: str, why: str) -> None:
        super().__init__(why)
        self.text = text


def _int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_NUMBER_DIGITS:
        raise _BadNumber(text, f"integer with {digits} digits (at most {MAX_NUMBER_DIGITS})")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadNumber(text, f"number {text[:20]!r} is out of range")
    return value


def _constant(text: str) -> Any:
    raise _BadNumber(text, f"{text} is not a JSON value")


class LocatedJson:
    """Plain data loaded from JSON; the line of a value is found from the text on demand."""

    def __init__(self, data: Any, text: str, file: str) -> None:
        self.data = data
        self.text = text
        self.file = file

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """The line of the value at ``loc`` (or of its deepest prefix found)."""
        return json_line_of(self.text, tuple(loc))


def json_line_of(text: str, loc: tuple[str | int, ...]) -> int | None:
    """The 1-based line where the value at ``loc`` starts in the JSON ``text``.

    Walks down ``loc`` only: siblings off the path are skipped by the standard library's
    C decoder (``raw_decode``), so finding ``endpoints[3997].port`` in a 7 MB document takes
    a fraction of the time parsing it did. A key that is missing gives the line of the
    deepest object on the way.
    """
    try:
        pos = _ws(text, 0)
        best = pos
        for part in loc:
            if pos >= len(text):
                break
            c = text[pos]
            if c == "{" and isinstance(part, str):
                pos = _ws(text, pos + 1)
                found = False
                while pos < len(text) and text[pos] == '"':
                    key, pos = scanstring(text, pos + 1)
                    pos = _ws(text, _ws(text, pos) + 1)  # past ':'
                    if key == part:
                        found = True
                        break
                    pos = _ws(text, _DECODER.raw_decode(text, pos)[1])
                    if text[pos] == ",":
                        pos = _ws(text, pos + 1)
                if not found:
                    break
            elif c == "[" and isinstance(part, int):
                pos = _ws(text, pos + 1)
                for _ in range(part):
                    if text[pos] == "]":
                        break
                    pos = _ws(text, _DECODER.raw_decode(text, pos)[1])
                    if text[pos] == ",":
                        pos = _ws(text, pos + 1)
                if text[pos] == "]":
                    break
            else:
                break
            best = pos
    except (ValueError, IndexError, RecursionError):
        pass  # a line is a courtesy: the best one found so far
    return text.count("\n", 0, best) + 1 if text else None


_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")


def _ws(text: str, pos: int) -> int:
    m = _WS.match(text, pos)
    return m.end() if m else pos


def _first_token(text: str, wanted: str) -> int | None:
    for m in _TOKEN.finditer(text):
        if m.group() == wanted:
            return text.count("\n", 0, m.start()) + 1
    return None


def load_json_text(text: str, file: str) -> LocatedJson:
    """Parse JSON text; syntax errors and unbounded numbers become an :class:`InputError`."""
    try:
        data = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise InputError(InputProblem(file, exc.lineno, None, f"not JSON: {exc.msg}")) from None
    except _BadNumber as exc:
        raise InputError(InputProblem(file, _first_token(text, exc.text), None, str(exc))) from None
    except RecursionError:
        raise InputError(InputProblem(file, None, None, "not JSON: nested too deeply")) from None
    if _SURROGATE.search(text):  # a \uD800-\uDFFF escape (or character): maybe a lone one
        bad = _lone_surrogate(data, ())
        if bad is not None:
            from pathsec.yamlfile import format_loc

            raise InputError(
                InputProblem(
                    file,
                    json_line_of(text, bad),
                    format_loc(bad) or None,
                    "a lone surrogate (\\ud800-\\udfff escape) is not Unicode text",
                )
            )
    return LocatedJson(data, text, file)


_SURROGATE = re.compile("\\\\[uU][dD][89a-fA-F]|[\ud800-\udfff]")


def _lone_surrogate(value: Any, loc: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
    """The path of the first string (or key) holding a lone surrogate, or None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return loc
        return None
    if isinstance(value, dict):
        for k, v in value.items():
            found = _lone_surrogate(k, loc) or _lone_surrogate(v, (*loc, k))
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _lone_surrogate(v, (*loc, i))
            if found is not None:
                return found
    return None


def load_json_file(path: str | Path) -> LocatedJson:
    """Read and parse a JSON file of at most :data:`MAX_JSON_BYTES`."""
    return load_json_text(read_text_file(path, MAX_JSON_BYTES), str(path))


def validate_json(model: type[M], doc: LocatedJson) -> M:
    """Validate loaded JSON against ``model``: the first error names file:line and field."""
    return validate_located(model, doc)
