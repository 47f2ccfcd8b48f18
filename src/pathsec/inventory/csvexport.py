"""Read one CSV file of the collector into validated rows, or fail naming file, line, field.

The files come from PowerShell's ``Export-Csv`` (UTF-8 with a byte-order mark, every cell
quoted, maybe a ``#TYPE`` first line) or from a person's spreadsheet: UTF-16 with a BOM is
accepted too. Everything is bounded (file size, rows, cell size); NUL bytes and undecodable
text are refused with the line they are on.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from pathsec.errors import InputError, InputProblem

MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_ROWS = 100_000
MAX_CELL = 65_536

R = TypeVar("R", bound=BaseModel)


def _fail(file: str, line: int | None, field: str | None, message: str) -> InputError:
    return InputError(InputProblem(file, line, field, message))


def _decode(raw: bytes, file: str) -> str:
    for bom, codec in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if raw.startswith(bom):
            raw, encoding = raw[len(bom) :], codec
            break
    else:
        encoding = "utf-8"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _fail(file, line, None, f"not {encoding} text (byte {exc.start})") from None
    nul = text.find("\x00")
    if nul >= 0:
        raise _fail(file, text[:nul].count("\n") + 1, None, "NUL character: not a CSV file")
    return text


def read_rows(path: Path, model: type[R]) -> list[tuple[int, R]]:
    """Rows of the CSV file at ``path`` validated as ``model``, each with its line number.

    The header must name every field of ``model`` that has no default (by its alias);
    extra columns are ignored. An empty file has no rows (``Export-Csv`` of nothing).
    """
    file = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _fail(file, None, None, f"file too large ({size} bytes)")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _fail(
            file, None, None, "missing: the collector writes every file; run it again"
        ) from None
    except OSError as exc:
        raise _fail(file, None, None, f"cannot read: {exc.strerror}") from None
    text = _decode(raw, file)
    if not text.strip():
        return []
    offset = 0
    if text.startswith("#TYPE"):
        offset = 1
        text = text.split("\n", 1)[1] if "\n" in text else ""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise _fail(file, offset + 1, None, f"not CSV: {exc}") from None
    if header is None:
        return []
    header = [h.strip() for h in header]
    _check_header(file, offset + 1, header, model)
    rows: list[tuple[int, R]] = []
    while True:
        start = offset + reader.line_num + 1
        try:
            cells = next(reader, None)
        except csv.Error as exc:
            raise _fail(file, offset + reader.line_num, None, f"not CSV: {exc}") from None
        if cells is None:
            break
        if not cells or cells == [""]:
            continue
        if len(rows) >= MAX_ROWS:
            raise _fail(file, start, None, f"more than {MAX_ROWS} rows")
        if len(cells) != len(header):
            raise _fail(file, start, None, f"{len(cells)} values for {len(header)} columns")
        for name, cell in zip(header, cells, strict=True):
            if len(cell) > MAX_CELL:
                raise _fail(file, start, name, f"value longer than {MAX_CELL} characters")
        rows.append((start, _validate(file, start, model, dict(zip(header, cells, strict=True)))))
    return rows


def _check_header(file: str, line: int, header: list[str], model: type[BaseModel]) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise _fail(file, line, name, "column appears twice")
        seen.add(name)
    columns = [f.alias or n for n, f in model.model_fields.items()]
    for name, info in model.model_fields.items():
        column = info.alias or name
        if info.is_required() and column not in seen:
            have = ", ".join(header[:12]) or "nothing"
            raise _fail(
                file,
                line,
                column,
                f"column missing (the collector writes {', '.join(columns)}; this file has {have})",
            )


def _validate(file: str, line: int, model: type[R], row: dict[str, str]) -> R:
    try:
        return model.model_validate(row)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        field = str(err["loc"][0]) if err["loc"] else None
        value = row.get(field or "", "")
        shown = value if len(value) <= 60 else value[:57] + "..."
        shown = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in shown)
        message = str(err["msg"]).removeprefix("Value error, ")
        raise _fail(file, line, field, f"{message} (value {shown!r})") from None
