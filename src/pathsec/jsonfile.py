"""Load JSON input (plans, results documents) with messages that name file:line and field.

The document is parsed once by the standard library; only when validation fails is the
text scanned again, by a small tokenizer that stops at the value named by the error, to
find its line. That keeps the error path as fast as the success path (a 7 MB results file
with one bad field answers in well under a second, where composing it as YAML took 25 s).
Numbers are bounded on the way in: an integer of more than
:data:`~pathsec.yamlfile.MAX_NUMBER_DIGITS` digits, ``NaN``, ``Infinity`` or a float that
overflows is one input error, not a traceback later.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
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

    A key that is missing gives the line of the deepest object on the way. Stops at the
    value, so an error near the start of a large file is found at once.
    """
    stack: list[list[Any]] = []  # [kind "o"/"a", key or index, expecting a key]
    best = 0
    for m in _TOKEN.finditer(text):
        tok = m.group()
        c = tok[0]
        top = stack[-1] if stack else None
        if top is not None and top[0] == "o" and top[2]:
            if c == '"':
                try:
                    top[1] = json.loads(tok)
                except ValueError:
                    return None
                top[2] = False
                path = tuple(f[1] for f in stack)
                if loc[: len(path)] == path:
                    best = m.start()
                    if path == loc:
                        return text.count("\n", 0, best) + 1
            elif c == "}":
                stack.pop()
            continue
        if c == ":":
            continue
        if c == ",":
            if top is not None:
                if top[0] == "o":
                    top[2] = True
                else:
                    top[1] += 1
            continue
        if c in "}]":
            if stack:
                stack.pop()
            continue
        path = tuple(f[1] for f in stack)
        if path == loc:
            return text.count("\n", 0, m.start()) + 1
        if loc[: len(path)] == path:
            best = m.start()
        if c == "{":
            stack.append(["o", None, True])
        elif c == "[":
            stack.append(["a", 0, False])
    return text.count("\n", 0, best) + 1 if text else None


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
    return LocatedJson(data, text, file)


def load_json_file(path: str | Path) -> LocatedJson:
    """Read and parse a JSON file of at most :data:`MAX_JSON_BYTES`."""
    return load_json_text(read_text_file(path, MAX_JSON_BYTES), str(path))


def validate_json(model: type[M], doc: LocatedJson) -> M:
    """Validate loaded JSON against ``model``: the first error names file:line and field."""
    return validate_located(model, doc)
