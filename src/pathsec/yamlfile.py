"""Load YAML while remembering the line of every value, for messages that name file:line.

PyYAML gives node positions only on its node tree, so this module composes the tree,
builds plain Python data from it and keeps a map from each value's path to its line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from pathsec.errors import InputError, InputProblem
from pathsec.ident import explain

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)

#: Largest YAML file pathsec reads (deployments, catalogs, profiles, policies).
MAX_YAML_BYTES = 16 * 1024 * 1024
#: Bounds on the loaded data: aliases can make a small file expand without end.
MAX_YAML_VALUES = 200_000
MAX_YAML_DEPTH = 64


class Located(Protocol):
    """Plain data loaded from a file that can name the line of a value by its path."""

    data: Any
    file: str

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """The line of ``loc`` (or of its deepest known prefix), None when unknown."""
        ...


class LocatedYaml:
    """Plain data loaded from YAML plus the line (1-based) of each value by its path."""

    def __init__(self, data: Any, lines: dict[Loc, int], file: str) -> None:
        self.data = data
        self.lines = lines
        self.file = file

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """Return the line of the deepest known prefix of ``loc``."""
        path = tuple(loc)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)


def _construct(node: yaml.Node, loc: Loc, lines: dict[Loc, int], file: str) -> Any:
    if len(loc) > MAX_YAML_DEPTH or len(lines) > MAX_YAML_VALUES:
        what = (
            f"nested deeper than {MAX_YAML_DEPTH} levels"
            if len(loc) > MAX_YAML_DEPTH
            else f"expands to more than {MAX_YAML_VALUES} values"
        )
        raise InputError(
            InputProblem(file, node.start_mark.line + 1, None, f"document {what} (YAML aliases?)")
        )
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _construct(key_node, (*loc, "__key__"), {}, file)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                raise InputError(
                    InputProblem(
                        file, key_node.start_mark.line + 1, None, "mapping keys must be scalars"
                    )
                )
            if key in out:
                raise InputError(
                    InputProblem(file, key_node.start_mark.line + 1, str(key), "duplicate key")
                )
            skey = key if isinstance(key, str) else str(key)
            lines[(*loc, skey)] = key_node.start_mark.line + 1
            out[skey] = _construct(value_node, (*loc, skey), lines, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*loc, i), lines, file) for i, item in enumerate(node.value)]
    # Scalars: the safe constructor for the tag the composer resolved (int, bool, null ...).
    constructor = _SCALARS.yaml_constructors.get(node.tag)
    if constructor is None:
        raise InputError(
            InputProblem(file, node.start_mark.line + 1, None, f"unsupported tag {node.tag}")
        )
    digits = len(str(node.value).lstrip("+-").replace("_", "")) if node.tag.endswith(":int") else 0
    if digits > MAX_NUMBER_DIGITS:
        raise InputError(
            InputProblem(
                file,
                node.start_mark.line + 1,
                None,
                f"number with {digits} digits (at most {MAX_NUMBER_DIGITS})",
            )
        )
    try:
        return constructor(_SCALARS, node)
    except (ValueError, OverflowError) as exc:  # e.g. a timestamp out of range
        msg = (str(exc).splitlines() or ["invalid value"])[0]
        raise InputError(InputProblem(file, node.start_mark.line + 1, None, msg)) from None


#: Longest integer literal accepted in YAML and JSON input (int64 has 19 digits).
MAX_NUMBER_DIGITS = 19


_SCALARS = yaml.SafeLoader("")


def load_yaml_text(text: str, file: str) -> LocatedYaml:
    """Parse YAML text; syntax errors become an :class:`InputError` with the line."""
    fast = _load_fast(text, file)
    if fast is not None:
        return fast
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        msg = f"YAML syntax error: {exc.problem or exc.context or 'invalid YAML'}"
        raise InputError(InputProblem(file, line, None, msg)) from None
    except yaml.reader.ReaderError as exc:  # a control character: name it and its line
        line = text[: exc.position].count("\n") + 1
        char = chr(exc.character) if isinstance(exc.character, int) else exc.character
        msg = f"character {char!r} is not allowed in YAML"
        raise InputError(InputProblem(file, line, None, msg)) from None
    except yaml.YAMLError as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise InputError(InputProblem(file, None, None, f"YAML error: {first}")) from None
    except RecursionError:
        raise InputError(InputProblem(file, None, None, "YAML nested too deeply")) from None
    if node is None:
        return LocatedYaml(None, {(): 1}, file)
    lines: dict[Loc, int] = {}
    data = _construct(node, (), lines, file)
    return LocatedYaml(data, lines, file)


def _load_fast(text: str, file: str) -> LocatedYaml | None:
    """The document composed by libyaml (PyYAML's C parser, ~5x faster on a 500-server
    deployment); None when PyYAML lacks libyaml or when anything goes wrong, so that the
    Python composer decides and words the error exactly as before (same tags, same marks,
    same bounds)."""
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None:
        return None
    try:
        node = yaml.compose(text, Loader=loader)
        if node is None:
            return None
        lines: dict[Loc, int] = {}
        return LocatedYaml(_construct(node, (), lines, file), lines, file)
    except (yaml.YAMLError, InputError, RecursionError, ValueError, TypeError):
        return None


def read_text_file(path: str | Path, limit: int) -> str:
    """The UTF-8 text of an input file, at most ``limit`` bytes; every problem is an
    :class:`InputError` (a folder, unreadable, too large, not UTF-8). Pipes work
    (``<(…)``, ``/dev/stdin``): the read is bounded, not the file's claimed size."""
    p = Path(path)
    try:
        if p.is_dir():
            raise InputError(InputProblem(str(p), None, None, "is a directory, not a file"))
        with open(p, "rb") as fh:
            raw = fh.read(limit + 1)
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise InputError(InputProblem(str(p), None, None, f"cannot read: {why}")) from None
    if len(raw) > limit:
        raise InputError(InputProblem(str(p), None, None, f"file too large (over {limit:,} bytes)"))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(InputProblem(str(p), line, None, "file is not valid UTF-8")) from None


def load_yaml_file(path: str | Path) -> LocatedYaml:
    """Read and parse a YAML file; unreadable or oversized files become an InputError."""
    return load_yaml_text(read_text_file(path, MAX_YAML_BYTES), str(path))


def format_loc(loc: Sequence[str | int]) -> str:
    """Render a pydantic location as ``paths[3].ports[0].port``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def validate_located(model: type[M], doc: Located) -> M:
    """Validate loaded data (YAML or JSON) against ``model``; the first error names
    file:line and field, in the same words whatever the file format."""
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise InputError(problem_of(exc, doc)) from None


def problem_of(exc: ValidationError, doc: Located) -> InputProblem:
    """The first error of ``exc`` as a one-line problem naming file, line and field."""
    err = exc.errors(include_url=False)[0]
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    # Drop tagged-union/validator segments pydantic adds that are not data keys.
    data_loc = _data_loc(doc.data, loc)
    msg = explain(err) or err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown field"
    elif err["type"] == "missing":
        msg = "required field is missing"
    elif not data_loc and err["type"] in ("model_type", "dict_type"):
        got = "an empty file" if doc.data is None else f"a {type(doc.data).__name__}"
        msg = f"expected a mapping of fields (name: value) at the top, got {got}"
    return InputProblem(doc.file, doc.line_of(data_loc), format_loc(data_loc) or None, msg)


def _data_loc(data: Any, loc: Loc) -> Loc:
    """Keep only the parts of a pydantic loc that index into the data itself."""
    out: list[str | int] = []
    cur = data
    for part in loc:
        if isinstance(cur, dict) and part in cur:
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, dict) and isinstance(part, str):
            # A missing or extra key: name it but stop descending.
            out.append(part)
            cur = None
        # else: a pydantic-internal segment (union tag etc.): skip it
    return tuple(out)
