"""JSON text that is safe to print: C1 control characters and line separators escaped.

``json.dumps(ensure_ascii=False)`` and pydantic keep U+0080-U+009F (C1 controls, which some
terminals act on, e.g. U+009B as CSI) and U+2028/U+2029 verbatim. Server text ends up in
results (banners, certificate subjects), so they are written as ``\\u`` escapes: the same
JSON value, nothing a terminal or a JavaScript parser would act on.
"""

from __future__ import annotations

_ESCAPES = {c: f"\\u{c:04x}" for c in (*range(0x80, 0xA0), 0x2028, 0x2029)}


def escape_controls(json_text: str) -> str:
    """``json_text`` with C1 controls and U+2028/U+2029 as ``\\u`` escapes (same JSON value).

    Only valid for JSON text: there these characters can only stand inside strings.
    """
    return json_text.translate(_ESCAPES)
