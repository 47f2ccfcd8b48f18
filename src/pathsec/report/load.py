"""Read a results document or a plan from a file; mistakes become one-line input errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from pathsec.audit.models import AuditResult
from pathsec.errors import InputError, InputProblem
from pathsec.plan.models import Plan
from pathsec.yamlfile import format_loc, load_yaml_text

M = TypeVar("M", bound=BaseModel)

MAX_BYTES = 256 * 1024 * 1024


def _read(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(InputProblem(str(path), None, None, f"file too large ({size} bytes)"))
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(
            InputProblem(str(path), None, None, f"cannot read: {exc.strerror}")
        ) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(InputProblem(str(path), line, None, "file is not valid UTF-8")) from None


def _line_of(text: str, file: str, loc: tuple[Any, ...]) -> int | None:
    """The line of ``loc`` in the document (JSON is YAML, so the YAML loader knows lines)."""
    try:
        doc = load_yaml_text(text, file)
    except InputError:
        return None
    return doc.line_of(loc)


def _validate(model: type[M], data: Any, text: str, file: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = tuple(err["loc"])
        msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        if err["type"] == "missing":
            msg = "required field is missing"
        data_loc = tuple(p for p in loc if isinstance(p, int) or not str(p).startswith("function"))
        raise InputError(
            InputProblem(file, _line_of(text, file, data_loc), format_loc(data_loc) or None, msg)
        ) from None


def _json(text: str, file: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(InputProblem(file, exc.lineno, None, f"not JSON: {exc.msg}")) from None
    except RecursionError:
        raise InputError(InputProblem(file, None, None, "not JSON: nested too deeply")) from None


def load_result(path: str | Path) -> AuditResult:
    """A results document (``pathsec audit --format json`` or ``report --format json``)."""
    p = Path(path)
    text = _read(p)
    return _validate(AuditResult, _json(text, str(p)), text, str(p))


def load_plan(path: str | Path) -> Plan:
    """A plan JSON file (``pathsec plan --format json``), or a deployment YAML file to plan."""
    p = Path(path)
    if p.suffix.lower() == ".json":
        text = _read(p)
        return _validate(Plan, _json(text, str(p)), text, str(p))
    from pathsec.catalog.loader import load_builtin
    from pathsec.plan import build_plan
    from pathsec.topology.loader import load_deployment

    return build_plan(load_builtin(), load_deployment(p), str(p))
