"""One quoting function per target language: every interpolated value goes through one.

pathsec writes files administrators run as root or Administrator and files people open in
spreadsheets, Markdown viewers and terminals. Identifiers are validated where they enter
(:mod:`pathsec.ident`); this module is the second wall: whatever a value holds, the
function of the target language makes it inert there.

- **Terminal** (:func:`terminal`): every character that is not printable is shown as an
  escape, ``\\x1b``, ``\\x9b``, ``\\u202e``: C0 and C1 controls, DEL, line and paragraph
  separators, bidi embeddings, overrides and isolates and every other format character.
  Used for every table, ``history``, ``diff``, ``catalog`` and the error line.
- **Comments** in nftables, iptables-restore, PowerShell, YAML (``#``) and ``.reg``
  (``;``) files: one line of :func:`terminal` text, so no comment can end early.
- **nftables** strings (:func:`nft_string`) and **iptables-restore** ``--comment``
  arguments (:func:`ipt_comment_arg`): printable ASCII without quotes, backslash, ``$`` or
  backtick, cut to the kernel's limit; interface names (:func:`linux_ifname`) are refused,
  not altered, unless Linux accepts them.
- **PowerShell** (:func:`ps_string`): an ASCII allow-list. Printable ASCII is kept, ``'``
  doubled, everything else (the typographic quotes U+2018-U+201B, which PowerShell also
  ends strings on, included) becomes ``?``; scripts are written as UTF-8 with a BOM
  (:func:`encode_ps1`), which Windows PowerShell 5.1 needs to read non-ASCII comments.
- **cmd.exe / netsh** (:func:`cmd_text`, :func:`cmd_quoted`, :func:`cmd_rem`,
  :func:`netsh_token`): a strict allow-list (letters, digits, space, ``_ . : ; / ( ) + -
  # @ '``); ``& | < > ^ % " !`` and every other character never reach a ``.cmd`` file.
- **.reg** (:func:`reg_string`, :func:`reg_comment`): no CR or LF in values or key
  names; files are UTF-16LE with a BOM, as regedit writes them (:func:`encode_reg`).
- **aerleon** (:func:`aerleon_text`, :func:`aerleon_token`, :func:`aerleon_name`): text
  that aclgen copies into Juniper ``/* */`` comments, Cisco remarks and nftables comments
  is printable ASCII without quotes or backslashes, and ``/*`` and ``*/`` are broken up.
- **CSV** (:func:`csv_cell`): a cell starting (after blanks) with ``=``, ``+``, ``-``,
  ``@``, TAB or CR, or their full-width forms, gets a leading ``'`` (OWASP "CSV
  injection"); controls other than newline are escaped as on the terminal.
- **Markdown** (:func:`md_text`, :func:`md_cell`, :func:`md_code`, :func:`md_block`):
  ``\\ ` * _ [ ] ( ) ! | < > & ~ #`` are backslash-escaped, so no link, image, HTML or
  emphasis comes from data; code spans and blocks get fences longer than any backtick run.
- **JSON** (:func:`json_text`): C1 controls, U+2028/U+2029 and bidi controls as ``\\u``
  escapes: the same JSON value, nothing a terminal acts on.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

#: Bidi embeddings, overrides and isolates ("Trojan Source", CVE-2021-42574).
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))


class QuotingError(ValueError):
    """A value the target language cannot carry safely (identifiers are refused, not altered)."""


# --- terminal ----------------------------------------------------------------------------


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _visible(ch: str) -> bool:
    # printable (not Cc, Cf, Cs, Co, Cn, Zl, Zp), or a space separator (U+3000 in Chinese)
    return ch.isprintable() or unicodedata.category(ch) == "Zs"


def terminal(text: object, limit: int | None = None) -> str:
    """``text`` safe to print: non-printable characters as escapes, cut to ``limit``.

    Escaped: C0 and C1 controls, DEL, U+2028/U+2029, bidi embeddings/overrides/isolates
    and every other format, private-use, surrogate or unassigned character. The result
    is one line: newlines are escaped too (``\\x0a``).
    """
    s = str(text)
    if not (s.isascii() and s.isprintable()):
        s = "".join(ch if _visible(ch) else _escape_char(ch) for ch in s)
    if limit is not None and len(s) > limit:
        s = s[: limit - 1] + "…"
    return s


def terminal_lines(text: object, limit: int | None = None) -> str:
    """Like :func:`terminal`, but newlines stay (each line is sanitised on its own)."""
    return "\n".join(terminal(line, limit) for line in str(text).split("\n"))


#: Longest comment line written (iptables-restore reads lines into a 10,240-byte buffer and
#: parses the rest of a longer line as a new line).
COMMENT_MAX = 1000


def hash_comment(text: object) -> str:
    """A ``#`` comment line (nftables, iptables-restore, PowerShell, YAML) holding ``text``,
    one line of at most :data:`COMMENT_MAX` characters."""
    body = terminal(text, COMMENT_MAX)
    return f"# {body}" if body else "#"


# --- nftables and iptables ---------------------------------------------------------------

#: Characters rule comments keep in nftables and iptables (printable ASCII without quotes,
#: backslash, ``$`` and backtick); others become ``_``.
_RULE_COMMENT_BAD = re.compile(r"[^\x20-\x7e]|[\"'\\`$]")
NFT_COMMENT_MAX = 128  # nft refuses longer rule comments
IPT_COMMENT_MAX = 255  # xt_comment's limit
LINUX_IFNAME_MAX = 15  # IFNAMSIZ - 1
_LINUX_IFNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")


def _rule_comment(text: str, limit: int) -> str:
    clean = _RULE_COMMENT_BAD.sub("_", text)
    if len(clean) > limit:
        clean = clean[: limit - 3] + "..."
    return clean


def nft_string(text: str, limit: int = NFT_COMMENT_MAX) -> str:
    """An nftables quoted string (rule comments): ``"…"``, sanitised, at most ``limit``."""
    return f'"{_rule_comment(text, limit)}"'


def nft_comment(text: object) -> str:
    """A ``#`` comment line of an nftables file."""
    return hash_comment(text)


def linux_ifname(name: str) -> str:
    """``name`` if Linux accepts it as an interface name (``iifname``, ``-i``); else
    :class:`QuotingError`. Names are refused, never altered: a changed name matches
    another interface."""
    if len(name) > LINUX_IFNAME_MAX or not _LINUX_IFNAME.fullmatch(name):
        raise QuotingError(
            f"interface {terminal(name, 80)!r} is not a Linux interface name (letters, "
            f"digits, '.', '_', '-'; at most {LINUX_IFNAME_MAX} characters)"
        )
    return name


def nft_ifname(name: str) -> str:
    """An interface name as an nftables string: ``"eth0"`` (see :func:`linux_ifname`)."""
    return f'"{linux_ifname(name)}"'


_IPT_TOKEN = re.compile(r"[A-Za-z0-9_.:/,\-]+")


def ipt_token(text: str) -> str:
    """One bare iptables-restore token (addresses, ports): refused unless plain."""
    if not _IPT_TOKEN.fullmatch(text):
        raise QuotingError(f"{terminal(text, 80)!r} is not a plain iptables token")
    return text


def ipt_ifname(name: str) -> str:
    """An interface name as an iptables-restore token (see :func:`linux_ifname`)."""
    return linux_ifname(name)


def ipt_comment_arg(text: str, limit: int = IPT_COMMENT_MAX) -> str:
    """The argument of ``-m comment --comment``: ``"…"``, sanitised, at most ``limit``."""
    return f'"{_rule_comment(text, limit)}"'


def ipt_comment(text: object) -> str:
    """A ``#`` comment line of an iptables-restore file."""
    return hash_comment(text)


# --- PowerShell and .reg -----------------------------------------------------------------

_PS_BAD = re.compile(r"[^\x20-\x7e]")


def ps_string(text: str) -> str:
    """A PowerShell single-quoted string: printable ASCII only, ``'`` doubled.

    Every other character becomes ``?``: controls, line breaks and the typographic single
    quotes U+2018-U+201B, on which PowerShell ends a single-quoted string as on ``'``.
    """
    return "'" + _PS_BAD.sub("?", text).replace("'", "''") + "'"


def ps_list(items: Iterable[str]) -> str:
    """A PowerShell array of single-quoted strings: ``@('a', 'b')``."""
    return "@(" + ", ".join(ps_string(i) for i in items) + ")"


def ps_comment(text: object) -> str:
    """A ``#`` comment line of a PowerShell script (never ``#requires``: a space follows)."""
    return hash_comment(text)


def encode_ps1(text: str) -> bytes:
    """A PowerShell script as bytes: UTF-8 with a BOM (Windows PowerShell 5.1 reads a
    script without one as the ANSI code page, where ``Ē`` becomes ``Ä’``)."""
    return b"\xef\xbb\xbf" + text.encode("utf-8")


def encode_reg(text: str) -> bytes:
    """A ``.reg`` file as bytes: UTF-16LE with a BOM, as regedit exports it."""
    return b"\xff\xfe" + text.encode("utf-16-le")


def reg_comment(text: object) -> str:
    """A ``;`` comment line of a ``.reg`` file: one line, no CR or LF."""
    body = terminal(text, COMMENT_MAX)
    return f"; {body}" if body else ";"


def reg_string(text: str) -> str:
    """A ``.reg`` string (value name or REG_SZ data): ``"…"`` with ``\\`` and ``"``
    escaped; CR, LF and other controls are refused (regedit would start a new entry)."""
    if any(not _visible(ch) for ch in text):
        raise QuotingError(f"{terminal(text, 80)!r}: control characters in a .reg string")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def reg_key(path: str) -> str:
    """A ``.reg`` key line: ``[HKEY_…\\…]``; no CR, LF, controls or brackets inside."""
    if any(not _visible(ch) for ch in path) or "[" in path or "]" in path:
        raise QuotingError(f"{terminal(path, 80)!r}: not a registry key path")
    return f"[{path}]"


def reg_multi_sz(values: Sequence[str]) -> str:
    """REG_MULTI_SZ data as ``hex(7):…`` (UTF-16LE strings, each NUL-ended, then a NUL)."""
    for v in values:
        reg_string(v)  # refuses controls, NUL included
    raw = ("".join(v + "\0" for v in values) + "\0").encode("utf-16-le")
    return "hex(7):" + ",".join(f"{b:02x}" for b in raw)


# --- cmd.exe and netsh -------------------------------------------------------------------

#: What reaches a ``.cmd`` file from data: letters, digits, space and ``_ . : ; / ( ) + - # @ '``.
#: Everything cmd.exe or netsh treat specially (``& | < > ^ % " ! , =``, controls and every
#: non-ASCII character: cmd.exe reads the OEM code page) becomes ``_``.
_CMD_BAD = re.compile(r"[^A-Za-z0-9 _.:;/()+\-#@']")
#: ``rem`` lines may also hold ``,`` and ``=`` (cmd.exe ignores the rest of a ``rem`` line,
#: but still expands ``%``, and a caret could continue it: those stay out).
_REM_BAD = re.compile(r"[^A-Za-z0-9 _.:;/()+\-#@',=]")
_NETSH_TOKEN = re.compile(r"[A-Za-z0-9_.:/,\-]+")


def cmd_text(text: str, limit: int = 1000) -> str:
    """``text`` reduced to the cmd.exe allow-list, cut to ``limit`` characters."""
    clean = _CMD_BAD.sub("_", text)
    return clean if len(clean) <= limit else clean[: limit - 3] + "..."


def cmd_quoted(text: str, limit: int = 1000) -> str:
    """A double-quoted netsh argument value (``name="…"``, ``description="…"``): the
    allow-list of :func:`cmd_text` inside one pair of quotes, so no ``"`` can end it and
    no ``%`` expand in it."""
    return f'"{cmd_text(text, limit)}"'


def cmd_rem(text: object) -> str:
    """A ``rem`` comment line of a ``.cmd`` file: one line from the allow-list (with ``,``
    and ``=``)."""
    body = _REM_BAD.sub("_", str(text))[:COMMENT_MAX]
    return f"rem {body}" if body else "rem"


def netsh_token(text: str) -> str:
    """A bare netsh value (addresses, address lists, ports, keywords): refused unless
    plain (letters, digits, ``_ . : / , -``)."""
    if not _NETSH_TOKEN.fullmatch(text):
        raise QuotingError(f"{terminal(text, 80)!r} is not a plain netsh value")
    return text


# --- aerleon -----------------------------------------------------------------------------

#: aerleon's Juniper writer counts braces over its whole output, comments included, and
#: refuses unbalanced ones: braces go too.
_AERLEON_BAD = re.compile(r"[^\x20-\x7e]|[\"\\`${}]")


def aerleon_text(text: str) -> str:
    """Text aclgen copies into comments (Juniper ``/* */``, Cisco ``remark``, nftables
    ``comment "…"``): printable ASCII, no quotes, backslash or braces, ``/*`` and ``*/``
    broken."""
    clean = _AERLEON_BAD.sub("?", text)
    while "*/" in clean or "/*" in clean:
        clean = clean.replace("*/", "* /").replace("/*", "/ *")
    return clean


def aerleon_token(text: str) -> str:
    """A definition name (networks, services): upper case, ``[A-Z0-9_]``."""
    return re.sub(r"[^A-Z0-9_]", "_", text.upper())


def aerleon_name(text: str) -> str:
    """A filter or term name: ``[A-Za-z0-9._-]``, every other character ``_``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text) or "_"


def yaml_comment(text: object) -> str:
    """A ``#`` comment line of a YAML file."""
    return hash_comment(text)


# --- CSV ---------------------------------------------------------------------------------

#: First characters that make a spreadsheet evaluate a cell (and their full-width forms).
CSV_FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: formula starts get a leading ``'``.

    Controls other than newline are escaped as on the terminal, so a cell printed to a
    terminal is inert too.
    """
    text = terminal_lines(value)
    stripped = text.lstrip(" ")
    if text[:1] in CSV_FORMULA_STARTS or stripped[:1] in CSV_FORMULA_STARTS:
        return "'" + text
    return text


def csv_text(rows: Iterable[Sequence[object]], lineterminator: str = "\n") -> str:
    """RFC 4180 CSV of ``rows`` (the first is the header), every cell through :func:`csv_cell`."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=lineterminator)
    for row in rows:
        writer.writerow([csv_cell(c) for c in row])
    return buf.getvalue()


# --- Markdown ----------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]()!|<>&~#])")


def md_text(text: object) -> str:
    """Inline Markdown text: one line, controls escaped, every Markdown character escaped."""
    return _MD_SPECIAL.sub(r"\\\1", terminal(str(text).replace("\n", " ")))


def md_paragraph(text: object) -> str:
    """Markdown text that starts a block (a paragraph of its own): like :func:`md_text`,
    and no list, thematic break, setext underline or indented code can start it."""
    body = md_text(text).lstrip(" ")
    if body[:1] in ("-", "+", "="):
        body = "\\" + body
    m = re.match(r"[0-9]{1,9}([.)])", body)
    if m:
        body = body[: m.start(1)] + "\\" + body[m.start(1) :]
    return body


def md_strong(text: object) -> str:
    """``**text**`` that is bold whatever ``text`` holds (blank text shows as ``–``)."""
    body = md_text(str(text).strip()) or "–"
    return f"**{body}**"


def md_cell(text: object) -> str:
    """A Markdown table cell: like :func:`md_text`; newlines become ``<br>``."""
    return "<br>".join(md_text(line) for line in str(text).split("\n"))


def md_code(text: object) -> str:
    """An inline code span holding ``text`` (one line; pipes escaped for tables)."""
    body = terminal(text).replace("|", "\\|")
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    fence = "`" * (longest + 1)
    if body[:1] in ("`", " ") or body[-1:] in ("`", " "):
        body = f" {body} "  # CommonMark strips one space at each end when both have one
    return f"{fence}{body}{fence}"


def md_block(lines: Iterable[object], info: str = "text") -> str:
    """A fenced code block whose fence is longer than any backtick run inside."""
    body = "\n".join(terminal(x) for x in lines)
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{body}\n{fence}"


# --- JSON --------------------------------------------------------------------------------

_JSON_ESCAPES = {
    c: f"\\u{c:04x}"
    for c in (0x7F, *range(0x80, 0xA0), 0x2028, 0x2029, *(ord(b) for b in sorted(BIDI_CONTROLS)))
}
_JSON_ESCAPE_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in _JSON_ESCAPES) + "]")


def escape_json_controls(json_text: str) -> str:
    """``json_text`` with DEL, C1 controls, U+2028/U+2029 and bidi controls as ``\\u``
    escapes (``json.dumps`` escapes only C0 controls).

    The same JSON value; only valid for JSON text, where these can only stand in strings.
    """
    # One C-speed scan first: str.translate looks every character up in a dict (0.1 s for
    # the 2 MB result of 200 endpoints), and most documents hold none of these characters.
    if _JSON_ESCAPE_RE.search(json_text) is None:
        return json_text
    return _JSON_ESCAPE_RE.sub(lambda m: _JSON_ESCAPES[ord(m.group())], json_text)


def json_text(data: Any, indent: int | None = 2) -> str:
    """``data`` as JSON (UTF-8 text kept readable) that is safe to print."""
    return escape_json_controls(json.dumps(data, ensure_ascii=False, indent=indent))
