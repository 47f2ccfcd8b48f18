"""Hostile strings, field walkers and checkers that read artefacts as the real tools do.

The checkers are the judges of the property tests: an artefact is accepted only when the
tool that consumes it reads exactly the rules of the clean input (nft's JSON listing,
iptables-save, aerleon's rendering, a PowerShell tokenizer for the subset pathsec emits,
regedit's line format, Python's csv reader, markdown-it's HTML).
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from pathsec.catalog import load_catalog
from pathsec.firewall import GeneratorOptions, RenderedFile, Selection, Target, generate
from pathsec.plan.models import Plan

REPO = Path(__file__).resolve().parents[2]

#: Every kind of value the issue names, and what attackers put in such files.
CORPUS: tuple[str, ...] = (
    "'",
    '"',
    "`",
    "\u2018",
    "\u2019",
    "\u201a",
    "\u201b",
    "\u201c",
    "\u201d",
    "\r",
    "\n",
    "\r\n",
    "\u0085",
    "\u2028",
    "\u2029",
    ";",
    "#",
    "{ }",
    "*/",
    "/*",
    "$(id)",
    "`id`",
    "\x1b[31m",
    "\x1b]8;;https://evil.example/\x07link\x1b]8;;\x07",
    "\x9b31m",
    "\x1b]0;title\x07",
    "\u202e",
    "\u2066",
    "\u2069",
    "\x00",
    "\ud800",
    "a\udfffb",
    "\t",
    "x" * 10240,
    'eth0" accept\n\t}\n}\nflush ruleset\ntable inet x {\n\tchain y {\n\t\tiifname "eth0',
    "eth0 -j ACCEPT\n-I FORWARD 1 -j ACCEPT\n#",
    "eth0 */ then accept; /*",
    "x'; Remove-NetFirewallRule -All; '",
    "x\u2019; Remove-NetFirewallRule -All; \u2018",
    "x\r\n[HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Run]\r\n",
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1",
    "-1+1",
    "\t=1",
    " =1",
    "\uff1d1+1",
    "![img](https://evil.example/i.png)",
    "[click](javascript:alert(1))",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "a | b",
    "**bold** _em_ ~~s~~",
    "&#x202e;",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "::",
    "fe80::1%eth0;flush ruleset",
    "10.0.0.1/32\nflush ruleset",
    "EX1",
    "ex1",
    "9" * 5000,
)

_INTERESTING = st.sampled_from(
    list(
        "'\"`\u2018\u2019\u201a\u201b\r\n\u0085\u2028\u2029;#{}*/$()\x1b\x9b\u202e\u2066\x00\t=+-@|[]!<>&\\%:>"
    )
)

#: A hostile string: one from the corpus, one wrapped in harmless text, or a random mix.
hostile_text = st.one_of(
    st.sampled_from(CORPUS),
    st.builds(
        lambda a, b, c: a + b + c,
        st.text(alphabet="abcXYZ019._-", max_size=6),
        st.sampled_from(CORPUS),
        st.text(alphabet="abcXYZ019._-", max_size=6),
    ),
    st.text(alphabet=st.one_of(_INTERESTING, st.characters()), min_size=1, max_size=40),
)

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

#: Hostile strings free-text fields accept (no control characters): quotes of every kind,
#: comment terminators, shell, formula and Markdown syntax, HTML.
printable_hostile = st.one_of(
    st.sampled_from([c for c in CORPUS if not _CONTROL.search(c) and len(c) < 200]),
    st.text(
        alphabet=st.sampled_from(list("'\"`\u2018\u2019\u201a\u201b;#{}*/$()=+-@|[]!<>&\\~_ aZ9")),
        min_size=1,
        max_size=40,
    ),
)

Path_ = tuple[Any, ...]
KEY = "__key__"


def string_fields(data: Any, path: Path_ = ()) -> Iterator[Path_]:
    """Paths to every string value, and to every mapping key (``(..., key, KEY)``)."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield (*path, k, KEY)
            yield from string_fields(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from string_fields(v, (*path, i))
    elif isinstance(data, str):
        yield path


def put(data: Any, path: Path_, value: str) -> Any:
    """A deep copy of ``data`` with the string (or key) at ``path`` replaced by ``value``."""
    out = copy.deepcopy(data)
    if path and path[-1] == KEY:
        *parents, key, _ = path
        holder = out
        for p in parents:
            holder = holder[p]
        items = list(holder.items())
        holder.clear()
        for k, v in items:
            holder[value if k == key else k] = v
        return out
    holder = out
    for p in path[:-1]:
        holder = holder[p]
    holder[path[-1]] = value
    return out


def yaml_text(data: Any) -> str:
    """YAML that PyYAML writes for ``data`` (control characters as escapes)."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10**6)


# --- artefacts ---------------------------------------------------------------------------


def base_deployment() -> dict[str, Any]:
    """examples/small.yaml with host firewalls on EX1 (configured RPC range) and DC1."""
    data = yaml.safe_load((REPO / "examples" / "small.yaml").read_text("utf-8"))
    for s in data["servers"]:
        if s["name"] in ("EX1", "DC1"):
            s["host_firewall"] = True
        if s["name"] == "EX1":
            s["rpc_range"] = "6000-6999"
    data["sites"][0]["description"] = "head office"
    return data


def options_for(plan: Plan) -> GeneratorOptions:
    """Options opening TCP and UDP for every flow the reference gives no protocol."""
    null_paths = {f.path_id for f in plan.flows if f.protocol is None and not f.local}
    protocols = dict.fromkeys(null_paths, ("tcp", "udp"))
    # host_format "any": every target writes every host, so hostile text meets every writer
    return GeneratorOptions(  # type: ignore[arg-type]
        catalog=load_catalog(), protocols=protocols, host_format="any"
    )


def render_all(plan: Plan, catalog_options: GeneratorOptions | None = None) -> dict[str, bytes]:
    """Every file of every target, by ``target/name``, as the bytes written to disk."""
    opts = catalog_options or options_for(plan)
    out: dict[str, bytes] = {}
    for target in Target:
        files: tuple[RenderedFile, ...] = generate(plan, target, Selection(), opts)
        for f in files:
            out[f"{target.value}/{f.name}"] = f.data()
    return out


def non_comment_lines(text: str, marks: tuple[str, ...] = ("#",)) -> list[str]:
    """The lines that are not comments (comments: first non-blank character in ``marks``)."""
    return [ln for ln in text.splitlines() if not ln.lstrip().startswith(marks)]


#: Characters that end a line for some consumer (Python, PowerShell, YAML, JavaScript).
LINE_BREAKS = re.compile("[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]"
)


def assert_inert_text(text: str) -> None:
    """No control character, C1 control, line separator or bidi control (tab/LF allowed)."""
    m = _CONTROLS.search(text)
    assert m is None, (
        f"raw U+{ord(m.group()):04X} in output: {text[max(0, m.start() - 40) :][:80]!r}"
    )


def assert_comment_lines_one_line(text: str, newline: str = "\n") -> None:
    """Each physical line (split on ``newline`` only) holds no other line break."""
    for line in text.split(newline):
        assert not LINE_BREAKS.search(line.rstrip("\r" if newline == "\n" else "")), repr(line)


# --- PowerShell: a tokenizer for exactly the subset pathsec emits --------------------------

_PS_QUOTES = "'\u2018\u2019\u201a\u201b"  # PowerShell ends a single-quoted string on any


def ps_tokens(line: str) -> tuple[str, list[str]]:
    """(skeleton, strings) of one PowerShell line: each single-quoted string becomes
    ``'S'`` in the skeleton and its value is decoded as PowerShell does (two quote
    characters of any of the five kinds are one literal quote). A double quote, ``$(``,
    backtick or ``;`` outside strings makes the line foreign to pathsec's subset."""
    out: list[str] = []
    strings: list[str] = []
    i = 0
    while i < len(line):
        ch = line[i]
        if ch in _PS_QUOTES:
            j = i + 1
            value = []
            while True:
                assert j < len(line), f"unterminated string in {line!r}"
                if line[j] in _PS_QUOTES:
                    if j + 1 < len(line) and line[j + 1] in _PS_QUOTES:
                        value.append(line[j])
                        j += 2
                        continue
                    break
                value.append(line[j])
                j += 1
            strings.append("".join(value))
            out.append("'S'")
            i = j + 1
            continue
        assert ch not in '"`;' and not line.startswith("$(", i), f"foreign syntax in {line!r}"
        out.append(ch)
        i += 1
    return "".join(out), strings


def ps_program(data: bytes) -> list[tuple[str, list[str]]]:
    """A ``.ps1`` as (skeleton, strings) per statement line; comments must be one line."""
    assert data.startswith(b"\xef\xbb\xbf"), "PowerShell script without a UTF-8 BOM"
    text = data[3:].decode("utf-8")
    lines = text.split("\r\n")
    out = []
    for line in lines:
        assert not LINE_BREAKS.search(line), f"line break inside {line!r}"
        if line.startswith("#"):
            assert line.startswith("# ") or line in ("#", "#Requires -Version 3.0"), line
            continue
        out.append(ps_tokens(line))
    return out


def reg_entries(data: bytes) -> list[str]:
    """A ``.reg`` file's lines other than comments; it must be UTF-16LE with a BOM and
    no line break inside a line."""
    assert data.startswith(b"\xff\xfe"), ".reg without a UTF-16LE BOM"
    text = data[2:].decode("utf-16-le")
    lines = text.split("\r\n")
    for line in lines:
        assert not LINE_BREAKS.search(line), f"line break inside {line!r}"
    return [ln for ln in lines if not ln.startswith(";")]


# --- CSV and Markdown --------------------------------------------------------------------

FORMULA = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_rows(text: str) -> list[list[str]]:
    """Rows as a spreadsheet's CSV reader sees them; no cell may start a formula."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    for row in rows:
        for cell in row:
            assert not cell.lstrip(" ").startswith(FORMULA), f"formula cell {cell!r}"
    return rows


_MD = MarkdownIt("commonmark").enable("table").enable("strikethrough")


def markdown_html(text: str) -> str:
    """Markdown rendered to HTML by markdown-it (CommonMark + GFM tables, raw HTML on)."""
    return _MD.render(text)


def markdown_tags(text: str) -> list[str]:
    """The sequence of HTML elements markdown-it renders from ``text``."""
    return [
        m.group(1).lower() for m in re.finditer(r"<([a-zA-Z][a-zA-Z0-9]*)", markdown_html(text))
    ]


_CLEAN_TAGS: dict[str, list[str]] = {}


def assert_markdown_inert(text: str, clean: str | None = None) -> None:
    """Rendered Markdown holds no element that data put there: exactly the elements of the
    ``clean`` document, or (without one) no link, image, emphasis or raw HTML at all."""
    tags = markdown_tags(text)
    if clean is not None:
        if clean not in _CLEAN_TAGS:
            _CLEAN_TAGS[clean] = markdown_tags(clean)
        assert tags == _CLEAN_TAGS[clean], "data changed the Markdown's elements"
        return
    for tag in tags:
        assert tag in _ALLOWED_TAGS and tag not in ("em", "strong"), f"<{tag}> from data"


_ALLOWED_TAGS = {
    "h1", "h2", "h3", "p", "ul", "li", "table", "thead", "tbody", "tr", "th", "td",
    "code", "pre", "strong", "em", "br", "blockquote",
}  # fmt: skip


def md_table_cells(text: str) -> list[int]:
    """The number of cells of every table row markdown-it renders."""
    html = markdown_html(text)
    return [
        len(re.findall(r"<t[dh][ >]", row)) for row in re.findall(r"<tr>(.*?)</tr>", html, re.S)
    ]


def nft_listing(netns: str, path: Path) -> Any:
    """Check (``nft -c -f``) and load an nft file in ``netns``; return ``nft -j list
    ruleset`` without handles."""
    subprocess.run(
        ["ip", "netns", "exec", netns, "nft", "-c", "-f", str(path)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    subprocess.run(
        ["ip", "netns", "exec", netns, "nft", "-f", str(path)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    res = subprocess.run(
        ["ip", "netns", "exec", netns, "nft", "-j", "list", "ruleset"],
        check=True,
        capture_output=True,
        timeout=30,
        text=True,
    )
    doc = json.loads(res.stdout)
    return _strip_handles([x for x in doc["nftables"] if "metainfo" not in x])


def _strip_handles(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_handles(v) for k, v in value.items() if k != "handle"}
    if isinstance(value, list):
        return [_strip_handles(v) for v in value]
    return value


def iptables_listing(netns: str, path: Path, v6: bool) -> list[str]:
    """Restore an iptables file in ``netns``; ``iptables-save`` without comments/counters."""
    restore = "ip6tables-restore" if v6 else "iptables-restore"
    save = "ip6tables-save" if v6 else "iptables-save"
    subprocess.run(
        ["ip", "netns", "exec", netns, restore, "--test", str(path)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    subprocess.run(
        ["ip", "netns", "exec", netns, restore, str(path)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    res = subprocess.run(
        ["ip", "netns", "exec", netns, save, "-t", "filter"],
        check=True,
        capture_output=True,
        timeout=30,
        text=True,
    )
    return [
        re.sub(r"\[\d+:\d+\]", "", ln) for ln in res.stdout.splitlines() if not ln.startswith("#")
    ]


def aerleon_render(files: dict[str, bytes]) -> dict[str, str]:
    """Render pathsec's aerleon policy with aerleon's API, as aclgen does."""
    from aerleon import api
    from aerleon.lib import naming

    prefix = "aerleon/aerleon/policies/pol/"
    policies = [  # one policy per enforcement point
        {"filename": name[len(prefix) :].removesuffix(".yaml"), **yaml.safe_load(data)}
        for name, data in sorted(files.items())
        if name.startswith(prefix)
    ]
    defs = naming.Naming()
    defs.ParseDefinitionsObject(
        {
            **yaml.safe_load(files["aerleon/aerleon/def/networks.yaml"]),
            **yaml.safe_load(files["aerleon/aerleon/def/services.yaml"]),
        },
        "",
    )
    out = api.Generate(policies, defs)
    assert out is not None
    return dict(out)


def juniper_comments_balanced(jcl: str) -> None:
    """Every ``/*`` in a Juniper filter is closed by the next ``*/``, none nested."""
    depth = 0
    for m in re.finditer(r"/\*|\*/", jcl):
        depth += 1 if m.group() == "/*" else -1
        assert depth in (0, 1), (
            f"comment nesting broken near {jcl[max(0, m.start() - 60) :][:120]!r}"
        )
    assert depth == 0
