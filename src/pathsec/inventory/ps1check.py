"""A static check that a PowerShell script keeps to PowerShell 1.0 (Exchange 2007's shell).

No PowerShell runs here, so this tokenizes the script (comments, strings, here-strings and
the code inside ``$( )`` of expandable strings, variables, type literals, operators,
parameters, command words) and rejects the constructs that later versions added: try/catch,
splatting, block comments, ``-join``/``-split``/``-in``, ``[ordered]``, ``[pscustomobject]``,
advanced-function attributes, ``ConvertTo-Json``, ``Get-CimInstance``, ``-ErrorAction
Ignore``, ``#Requires -Version 3`` and the rest in the tables below. It also requires pure
ASCII (PowerShell 1.0 reads a script without byte-order mark in the ANSI code page).
Hand-written because no Python library parses PowerShell by version.

Limits: it checks syntax and names, not meaning. It cannot see a method or property that
.NET 2.0 lacks, ``.Count`` on a single object (PowerShell 3.0 added it), or a parameter
passed by a shortened name; and a tokenizer is not a parser (tests parse the collector with
tree-sitter's PowerShell grammar for that).

``python -m pathsec.inventory.ps1check FILE...`` prints one line per violation, exit 1.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path


def _words(text: str) -> list[str]:
    return text.split()


#: Commands PowerShell 1.0 (and the Exchange 2007 shell) lacks -> the version adding them.
NEWER_COMMANDS: dict[str, str] = {
    **dict.fromkeys(
        _words(
            "add-type import-module get-module new-module remove-module export-modulemember "
            "invoke-command new-pssession enter-pssession exit-pssession import-pssession "
            "export-pssession get-pssession remove-pssession start-job get-job receive-job "
            "wait-job stop-job remove-job test-connection get-random set-strictmode "
            "convertto-csv convertfrom-csv convertto-xml select-xml out-gridview get-winevent "
            "send-mailmessage convertfrom-stringdata import-localizeddata invoke-wmimethod "
            "remove-wmiobject set-wmiinstance register-wmievent get-hotfix restart-computer "
            "stop-computer test-computersecurechannel update-list start-transaction "
            "add-computer remove-computer get-counter export-counter import-counter "
            "new-webserviceproxy get-transaction complete-transaction"
        ),
        "2.0",
    ),
    **dict.fromkeys(
        _words(
            "convertto-json convertfrom-json invoke-restmethod invoke-webrequest "
            "get-ciminstance new-ciminstance set-ciminstance remove-ciminstance "
            "invoke-cimmethod new-cimsession get-cimsession remove-cimsession "
            "get-cimclass get-cimassociatedinstance register-cimindicationevent "
            "unblock-file show-command rename-computer resolve-dnsname get-netipaddress "
            "get-netipconfiguration new-netfirewallrule get-netfirewallrule "
            "set-netfirewallrule get-scheduledtask register-scheduledtask get-smbshare"
        ),
        "3.0",
    ),
    **dict.fromkeys(_words("get-filehash test-netconnection"), "4.0"),
    **dict.fromkeys(
        _words(
            "new-temporaryfile expand-archive compress-archive get-clipboard set-clipboard "
            "write-information convertfrom-string format-hex"
        ),
        "5.0",
    ),
    **dict.fromkeys(_words("join-string get-error test-json"), "7.0"),
}

#: Operators added after 1.0.
NEWER_OPERATORS: dict[str, str] = {
    **dict.fromkeys(("-join", "-split", "-isplit", "-csplit"), "2.0"),
    **dict.fromkeys(("-in", "-notin", "-shl", "-shr"), "3.0"),
}

#: Type literals and attributes added after 1.0 (lower case, without brackets).
NEWER_TYPES: dict[str, str] = {
    **dict.fromkeys(("cmdletbinding", "parameter", "outputtype"), "2.0"),
    **dict.fromkeys(
        ("ordered", "pscustomobject", "ciminstance", "cimsession", "supportswildcards"), "3.0"
    ),
}

#: Automatic variables added after 1.0 (lower case, without ``$``).
NEWER_VARIABLES: dict[str, str] = {
    **dict.fromkeys(("pscmdlet", "psboundparameters", "psversiontable"), "2.0"),
    **dict.fromkeys(("psscriptroot", "pscommandpath", "psitem", "psdefaultparametervalues"), "3.0"),
}

#: Command -> parameters it gained after 1.0.
NEWER_PARAMETERS: dict[str, dict[str, str]] = {
    "new-object": {"-property": "2.0"},
    "export-csv": {
        "-delimiter": "2.0",
        "-useculture": "2.0",
        "-append": "3.0",
        "-includetypeinformation": "7.0",
        "-quotefields": "7.0",
        "-usequotes": "7.0",
        "-noheader": "7.0",
    },
    "import-csv": {"-header": "2.0", "-delimiter": "2.0", "-useculture": "2.0"},
    "get-content": {"-raw": "3.0", "-tail": "3.0", "-stream": "3.0"},
    "out-file": {"-nonewline": "5.0"},
    "set-content": {"-nonewline": "5.0"},
    "add-content": {"-nonewline": "5.0"},
    "foreach-object": {"-parallel": "7.0"},
    "select-object": {"-skip": "2.0", "-index": "2.0", "-wait": "3.0"},
}
_ALIASES = {"%": "foreach-object", "foreach": "foreach-object", "?": "where-object"}
_ALIASES["where"] = "where-object"

#: Values of -ErrorAction / -WarningAction and -Encoding that 1.0 does not know.
NEWER_VALUES: dict[str, dict[str, str]] = {
    "-erroraction": {"ignore": "3.0", "suspend": "3.0"},
    "-ea": {"ignore": "3.0", "suspend": "3.0"},
    "-warningaction": {"ignore": "3.0", "suspend": "3.0"},
    "-wa": {"ignore": "3.0", "suspend": "3.0"},
    "-encoding": {"utf8nobom": "6.0", "utf8bom": "6.0"},
}
NEWER_COMMON_PARAMETERS = {
    "-pipelinevariable": "4.0",
    "-pv": "4.0",
    "-informationaction": "5.0",
    "-informationvariable": "5.0",
}


@dataclass(frozen=True)
class Violation:
    """One construct the script uses that PowerShell 1.0 lacks."""

    line: int
    column: int
    construct: str
    version: str

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.construct} needs PowerShell {self.version}"


@dataclass(frozen=True)
class Token:
    """A PowerShell token: kind, text, position."""

    kind: str  # word param var type string punct member requires newline
    text: str
    line: int
    column: int


_STRING_VARIABLE = re.compile(r"\$(?:\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*(?::[A-Za-z_][A-Za-z0-9_]*)?)")
_WORD_END = set(" \t\r\n(){}[];,|&=<>+*/!'\"$`@")


class _Lexer:
    """A small PowerShell tokenizer; enough to find the constructs above, no more."""

    def __init__(self, text: str, line: int = 1, column: int = 1) -> None:
        self.text = text
        self.pos = 0
        self.line = line
        self.col = column
        self.tokens: list[Token] = []
        self.violations: list[Violation] = []

    def _advance(self, n: int) -> str:
        chunk = self.text[self.pos : self.pos + n]
        for ch in chunk:
            if ch == "\n":
                self.line += 1
                self.col = 1
            else:
                self.col += 1
        self.pos += n
        return chunk

    def _emit(self, kind: str, text: str, line: int, col: int) -> None:
        self.tokens.append(Token(kind, text, line, col))

    def _flag(self, line: int, col: int, construct: str, version: str) -> None:
        self.violations.append(Violation(line, col, construct, version))

    def run(self) -> None:
        t = self.text
        while self.pos < len(t):
            ch = t[self.pos]
            nxt = t[self.pos + 1] if self.pos + 1 < len(t) else ""
            line, col = self.line, self.col
            if ch == "\n":
                self._advance(1)
                self._emit("newline", "\n", line, col)
            elif ch in " \t\r":
                self._advance(1)
            elif ch == "`":  # escape / line continuation
                self._advance(2)
            elif ch == "<" and nxt == "#":
                end = t.find("#>", self.pos + 2)
                self._flag(line, col, "block comment <# #>", "2.0")
                self._advance((end + 2 if end >= 0 else len(t)) - self.pos)
            elif ch == "#":
                end = t.find("\n", self.pos)
                end = len(t) if end < 0 else end
                comment = self._advance(end - self.pos)
                if comment.lower().startswith("#requires"):
                    self._emit("requires", comment, line, col)
            elif ch == "@" and nxt in "'\"" and t[self.pos + 2 : self.pos + 3] in ("\n", "\r"):
                self._here_string(nxt, line, col)
            elif ch == "'":
                self._single_quoted(line, col)
            elif ch == '"':
                self._double_quoted(line, col)
            elif ch == "$":
                self._variable(line, col)
            elif ch == "@":
                if nxt in "({":
                    self._emit("punct", self._advance(2), line, col)
                elif nxt.isalpha() or nxt == "_":
                    m = re.match(r"@[A-Za-z_][A-Za-z0-9_]*", t[self.pos :])
                    assert m is not None
                    self._flag(line, col, f"splatting {m.group(0)}", "2.0")
                    self._emit("var", self._advance(len(m.group(0))), line, col)
                else:
                    self._emit("punct", self._advance(1), line, col)
            elif ch == "[" and (nxt.isalpha() or nxt == "_"):
                self._type_literal(line, col)
            elif ch == "-" and (nxt.isalpha() or nxt == "_"):
                m = re.match(r"-[A-Za-z_][A-Za-z0-9_]*:?", t[self.pos :])
                assert m is not None
                self._emit("param", self._advance(len(m.group(0))), line, col)
            elif ch == "." and (nxt.isalpha() or nxt == "_") and self._after_value():
                m = re.match(r"\.[A-Za-z_][A-Za-z0-9_]*", t[self.pos :])
                assert m is not None
                self._emit("member", self._advance(len(m.group(0))), line, col)
            elif t.startswith(("&&", "||", "??", "?."), self.pos):
                op = t[self.pos : self.pos + 2]
                if op != "?." or self._after_value():
                    self._flag(line, col, f"operator {op}", "7.0")
                self._emit("punct", self._advance(2), line, col)
            elif ch in "(){}[];,|&=<>+*/!%?:.":
                if t.startswith("::", self.pos):
                    self._emit("punct", self._advance(2), line, col)
                else:
                    self._emit("punct", self._advance(1), line, col)
            else:
                end = self.pos
                while end < len(t) and t[end] not in _WORD_END:
                    end += 1
                end = max(end, self.pos + 1)
                self._emit("word", self._advance(end - self.pos), line, col)

    def _after_value(self) -> bool:
        """Whether the previous token ends a value (so ``.x`` is member access)."""
        if not self.tokens or self.text[self.pos - 1] in " \t\n":
            return False
        prev = self.tokens[-1]
        return prev.kind in ("var", "string", "member", "type") or prev.text in (")", "]")

    def _single_quoted(self, line: int, col: int) -> None:
        t = self.text
        end = self.pos + 1
        while end < len(t):
            if t[end] == "'" and t[end + 1 : end + 2] == "'":
                end += 2
            elif t[end] == "'":
                break
            else:
                end += 1
        self._emit("string", self._advance(end + 1 - self.pos), line, col)

    def _double_quoted(self, line: int, col: int) -> None:
        t = self.text
        end = self.pos + 1
        while end < len(t):
            if t[end] == "`":
                end += 2
            elif t[end] == '"' and t[end + 1 : end + 2] == '"':
                end += 2
            elif t[end] == '"':
                break
            else:
                end += 1
        body_line, body_col = line, col + 1
        raw = self._advance(end + 1 - self.pos)
        self._expandable(raw[1:-1], body_line, body_col)
        self._emit("string", raw, line, col)

    def _here_string(self, quote: str, line: int, col: int) -> None:
        t = self.text
        m = re.compile(r"\r?\n" + quote + "@").search(t, self.pos + 2)
        end = m.end() if m else len(t)
        raw = self._advance(end - self.pos)
        if quote == '"':
            self._expandable(raw[2:], line, col + 2)
        self._emit("string", raw, line, col)

    def _expandable(self, body: str, line: int, col: int) -> None:
        """Check the variables and ``$( )`` code inside an expandable string."""
        i = 0
        while i < len(body):
            if body[i] == "`":
                i += 2
                continue
            if body.startswith("$(", i):
                depth, j = 0, i + 1
                while j < len(body):
                    depth += {"(": 1, ")": -1}.get(body[j], 0)
                    if depth == 0:
                        break
                    j += 1
                before = body[:i]
                sub = _Lexer(body[i + 2 : j], line + before.count("\n"), 1)
                sub.run()
                sub.check()
                self.violations.extend(sub.violations)
                i = j + 1
                continue
            m = _STRING_VARIABLE.match(body, i)
            if m:
                self._check_variable(m.group(0), line + body[:i].count("\n"), col)
                i += len(m.group(0))
                continue
            i += 1

    def _variable(self, line: int, col: int) -> None:
        t = self.text
        rest = t[self.pos :]
        if rest.startswith("$("):
            self._emit("punct", self._advance(2), line, col)
            return
        m = re.match(
            r"\$(?:\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*(?::[A-Za-z_][A-Za-z0-9_]*)?|[_$?^])", rest
        )
        text = m.group(0) if m else "$"
        self._check_variable(text, line, col)
        self._emit("var", self._advance(len(text)), line, col)

    def _check_variable(self, text: str, line: int, col: int) -> None:
        name = text[1:].strip("{}").lower()
        if name.startswith("using:"):
            self._flag(line, col, f"scope modifier {text}", "3.0")
        version = NEWER_VARIABLES.get(name)
        if version:
            self._flag(line, col, f"automatic variable {text}", version)

    def _type_literal(self, line: int, col: int) -> None:
        t = self.text
        depth, end = 0, self.pos
        while end < len(t):
            depth += {"[": 1, "]": -1}.get(t[end], 0)
            if depth == 0 or t[end] == "\n":
                break
            end += 1
        raw = self._advance(end + 1 - self.pos)
        name = re.split(r"[\[\]()]", raw[1:], maxsplit=1)[0].strip().lower()
        version = NEWER_TYPES.get(name)
        if version:
            self._flag(line, col, f"[{name}]", version)
        if name.startswith("microsoft.management.infrastructure"):
            self._flag(line, col, f"[{name}] (CIM)", "3.0")
        self._emit("type", raw, line, col)

    def check(self) -> None:
        """Apply the token rules (commands, keywords, operators, parameters)."""
        toks = self.tokens
        command: str | None = None
        expect_command = True
        for i, tok in enumerate(toks):
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            after = toks[i + 2] if i + 2 < len(toks) else None
            low = tok.text.lower()
            is_command = expect_command and (
                tok.kind == "word" or (tok.kind == "punct" and low in ("%", "?"))
            )
            if is_command:
                command = _ALIASES.get(low, low)
                self._check_simplified(command, low, tok, nxt, toks[i - 1] if i else None)
            if tok.kind == "requires":
                self._check_requires(tok)
            elif tok.kind == "word":
                if low in NEWER_COMMANDS:
                    self._flag(tok.line, tok.column, f"command {tok.text}", NEWER_COMMANDS[low])
                self._check_keyword(low, tok, nxt, after)
            elif tok.kind == "param":
                self._check_parameter(low.rstrip(":"), tok, command, nxt)
            elif tok.kind == "var" and low == "$erroractionpreference":
                value = after.text.strip("'\"").lower() if after is not None else ""
                if nxt is not None and nxt.text == "=" and value in ("ignore", "suspend"):
                    self._flag(tok.line, tok.column, "$ErrorActionPreference = Ignore", "3.0")
            elif tok.kind == "member":
                if low in (".foreach", ".where") and nxt is not None and nxt.text in "({":
                    self._flag(tok.line, tok.column, f"method {tok.text}()", "4.0")
            elif tok.kind == "punct" and low == "::" and nxt is not None and nxt.text == "new":
                self._flag(nxt.line, nxt.column, "::new()", "5.0")
            expect_command = tok.kind == "newline" or tok.text in (
                "|", ";", "{", "(", "$(", "@(", "&", "=",
            )  # fmt: skip

    def _check_parameter(
        self, name: str, tok: Token, command: str | None, nxt: Token | None
    ) -> None:
        if name in NEWER_OPERATORS:
            self._flag(tok.line, tok.column, f"operator {name}", NEWER_OPERATORS[name])
        if name in NEWER_COMMON_PARAMETERS:
            self._flag(tok.line, tok.column, f"parameter {name}", NEWER_COMMON_PARAMETERS[name])
        by_command = NEWER_PARAMETERS.get(command or "", {})
        if name in by_command:
            self._flag(tok.line, tok.column, f"{command} {name}", by_command[name])
        values = NEWER_VALUES.get(name)
        if values and nxt is not None:
            value = nxt.text.strip("'\"").lower()
            if value in values:
                self._flag(nxt.line, nxt.column, f"{name} {nxt.text}", values[value])

    def _check_keyword(self, low: str, tok: Token, nxt: Token | None, after: Token | None) -> None:
        opens = nxt is not None and nxt.text in ("{", "[")
        if low in ("try", "finally") and nxt is not None and nxt.text == "{":
            self._flag(tok.line, tok.column, f"{low} {{ }}", "2.0")
        elif low == "catch" and opens:
            self._flag(tok.line, tok.column, "catch { }", "2.0")
        elif low == "data" and "{" in (nxt.text if nxt else "", after.text if after else ""):
            self._flag(tok.line, tok.column, "data section", "2.0")
        elif low in ("class", "enum") and after is not None and after.text == "{":
            self._flag(tok.line, tok.column, f"{low} definition", "5.0")
        elif (
            low == "using"
            and nxt is not None
            and nxt.text.lower() in ("namespace", "module", "assembly")
        ):
            self._flag(tok.line, tok.column, f"using {nxt.text}", "5.0")
        elif low == "workflow" or (low in ("parallel", "sequence", "inlinescript") and opens):
            self._flag(tok.line, tok.column, f"workflow keyword {tok.text}", "3.0")
        elif low == "foreach" and nxt is not None and nxt.text.lower() == "-parallel":
            self._flag(tok.line, tok.column, "foreach -parallel", "3.0")

    def _check_simplified(
        self, command: str, low: str, tok: Token, nxt: Token | None, prev: Token | None
    ) -> None:
        """``Where-Object Name -eq x`` and ``ForEach-Object Name`` (3.0) need a script block."""
        if command not in ("where-object", "foreach-object") or nxt is None:
            return
        if low == "foreach" and (prev is None or prev.text != "|"):
            return  # the foreach statement, not the alias
        if nxt.kind in ("word", "string") or (
            nxt.kind == "param" and nxt.text.lower() in ("-property", "-membername")
        ):
            self._flag(tok.line, tok.column, f"simplified syntax {tok.text} {nxt.text}", "3.0")

    def _check_requires(self, tok: Token) -> None:
        m = re.search(r"-version\s+(\d+)", tok.text, re.IGNORECASE)
        if m and int(m.group(1)) >= 2:
            self._flag(tok.line, tok.column, f"#Requires -Version {m.group(1)}", m.group(1) + ".0")
        for option, version in (
            ("-modules", "3.0"),
            ("-psedition", "5.1"),
            ("-runasadministrator", "4.0"),
        ):
            if option in tok.text.lower():
                self._flag(tok.line, tok.column, f"#Requires {option}", version)


def check_script(text: str) -> list[Violation]:
    """Every construct in ``text`` that PowerShell 1.0 lacks, in order of position."""
    found: list[Violation] = []
    for n, line in enumerate(text.splitlines(), start=1):
        for c, ch in enumerate(line, start=1):
            if ord(ch) > 126 or (ord(ch) < 32 and ch != "\t"):
                found.append(Violation(n, c, f"character U+{ord(ch):04X} (keep to ASCII)", "-"))
                break
    lexer = _Lexer(text)
    lexer.run()
    lexer.check()
    found.extend(lexer.violations)
    return sorted(set(found), key=lambda v: (v.line, v.column, v.construct))


def main(argv: list[str] | None = None) -> int:
    """Check the files named on the command line; exit 1 when any violation is found."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m pathsec.inventory.ps1check FILE.ps1...", file=sys.stderr)
        return 2
    bad = 0
    for name in args:
        try:
            text = Path(name).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"{name}: cannot read: {exc}", file=sys.stderr)
            return 2
        for v in check_script(text):
            print(f"{name}:{v}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
