"""Each quoting function of pathsec.quoting against the tool that reads its output.

Property tests (hypothesis, fixed example counts) put hostile strings through every
function; the real consumers judge: nft and iptables-restore/-save in a scratch network
namespace, aerleon's renderer, a tokenizer for the PowerShell subset pathsec emits,
Python's csv reader, markdown-it.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from firewall.conftest import need
from pathsec import quoting as q
from security.hostile import (
    CORPUS,
    aerleon_render,
    assert_inert_text,
    csv_rows,
    hostile_text,
    juniper_comments_balanced,
    markdown_html,
    md_table_cells,
    ps_tokens,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BATCHES = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
batch = st.lists(hostile_text, min_size=20, max_size=20)


def _run(*cmd: str) -> str:
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, f"{' '.join(cmd)}: {res.stderr}"
    return res.stdout


# --- terminal ----------------------------------------------------------------------------


def test_terminal_escapes_the_issue_s_characters() -> None:
    assert q.terminal("a\x1b[31mb") == "a\\x1b[31mb"
    assert q.terminal("\x9b31m") == "\\x9b31m"
    assert q.terminal("\u202eevil\u2066") == "\\u202eevil\\u2066"
    assert q.terminal("a\u2028b\u0085c\nd\x00") == "a\\u2028b\\x85c\\x0ad\\x00"
    assert q.terminal("中文\u3000ok") == "中文\u3000ok"  # ideographic space stays
    assert q.terminal("x" * 50, 10) == "x" * 9 + "…"


@FAST
@given(hostile_text)
def test_terminal_output_is_inert(text: str) -> None:
    out = q.terminal(text)
    assert_inert_text(out)
    assert "\n" not in out and "\t" not in out
    assert all(ch.isprintable() or ch.isspace() for ch in out)


# --- nftables and iptables ---------------------------------------------------------------


def _expected_comment(text: str, limit: int) -> str:
    clean = re.sub(r"[^\x20-\x7e]|[\"'\\`$]", "_", text)
    return clean if len(clean) <= limit else clean[: limit - 3] + "..."


@pytest.mark.root
@BATCHES
@given(texts=batch)
def test_nft_reads_every_comment_back_and_nothing_else(
    texts: list[str], scratch_netns: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    need("nft")
    path = tmp_path_factory.mktemp("nft") / "q.nft"
    lines = [
        "table inet sentinel { chain keep { type filter hook output priority 0; }; }",
        "table inet q",
        "delete table inet q",
        "table inet q {",
        "\tchain c {",
        "\t\ttype filter hook input priority filter; policy drop;",
    ]
    for i, t in enumerate(texts, start=1):
        lines.append("\t\t" + q.nft_comment(t))
        lines.append(f"\t\ttcp dport {i} accept comment {q.nft_string(t)}")
    lines += ["\t}", "}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    _run("ip", "netns", "exec", scratch_netns, "nft", "-f", str(path))
    out = _run("ip", "netns", "exec", scratch_netns, "nft", "-j", "list", "table", "inet", "q")
    rules = [x["rule"] for x in json.loads(out)["nftables"] if "rule" in x]
    assert [r.get("comment") for r in rules] == [_expected_comment(t, 128) for t in texts]
    assert [r["expr"][0]["match"]["right"] for r in rules] == list(range(1, len(texts) + 1))
    assert all(r["expr"][-1] == {"accept": None} for r in rules)
    tables = _run("ip", "netns", "exec", scratch_netns, "nft", "list", "tables")
    assert "table inet sentinel" in tables and "table inet q" in tables


@pytest.mark.root
@BATCHES
@given(texts=batch)
def test_iptables_reads_every_comment_back_and_nothing_else(
    texts: list[str], scratch_netns: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    need("iptables-restore")
    path = tmp_path_factory.mktemp("ipt") / "q.rules"
    lines = ["*filter", ":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]"]
    for i, t in enumerate(texts, start=1):
        lines.append(q.ipt_comment(t))
        lines.append(
            f"-A INPUT -p tcp -m tcp --dport {i} -m comment --comment {q.ipt_comment_arg(t)} "
            "-j ACCEPT"
        )
    lines += ["COMMIT", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    for args in (["--test", str(path)], [str(path)]):
        _run("ip", "netns", "exec", scratch_netns, "iptables-restore", *args)
    saved = _run("ip", "netns", "exec", scratch_netns, "iptables-save", "-t", "filter")
    rules = [ln for ln in saved.splitlines() if ln.startswith("-A ")]
    assert len(rules) == len(texts)
    for i, (rule, t) in enumerate(zip(rules, texts, strict=True), start=1):
        m = re.fullmatch(
            rf'-A INPUT -p tcp -m tcp --dport {i} -m comment --comment ("[^"]*"|\S+) -j ACCEPT',
            rule,
        )
        assert m, rule
        assert m.group(1).strip('"') == _expected_comment(t, 255)
    assert saved.count(":INPUT DROP") == 1


def test_linux_interface_names_are_refused_not_altered() -> None:
    assert q.nft_ifname("eth0") == '"eth0"' and q.ipt_ifname("bond0.100") == "bond0.100"
    for bad in ('eth0" accept', "ge-0/0/0", "Gi0/1:1", "a" * 16, "-j", "eth0\n", ""):
        with pytest.raises(q.QuotingError):
            q.linux_ifname(bad)
    with pytest.raises(q.QuotingError):
        q.ipt_token("10.0.0.1 -j ACCEPT")


# --- PowerShell and .reg -----------------------------------------------------------------


@FAST
@given(hostile_text)
def test_powershell_string_is_one_token_with_the_ascii_text(text: str) -> None:
    skeleton, strings = ps_tokens(f"Write-Output {q.ps_string(text)} | Out-Null")
    assert skeleton == "Write-Output 'S' | Out-Null"
    assert strings == [re.sub(r"[^\x20-\x7e]", "?", text)]


def test_powershell_typographic_quotes_cannot_end_a_string() -> None:
    text = "x\u2019; Remove-NetFirewallRule -All; \u2018"
    literal = q.ps_string(text)
    assert literal == "'x?; Remove-NetFirewallRule -All; ?'"
    assert ps_tokens(literal)[1] == ["x?; Remove-NetFirewallRule -All; ?"]
    assert q.ps_string("it's") == "'it''s'"
    assert q.encode_ps1("# Ē").startswith(b"\xef\xbb\xbf")
    assert q.encode_ps1("# Ē")[3:].decode("utf-8") == "# Ē"


@FAST
@given(hostile_text)
def test_comment_lines_are_one_line(text: str) -> None:
    for fn in (q.nft_comment, q.ipt_comment, q.ps_comment, q.yaml_comment, q.reg_comment):
        line = fn(text)
        assert line[:1] in "#;" and not re.search("[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]", line)
        assert not line.lower().startswith("#requires")
        assert_inert_text(line)


def test_reg_strings_refuse_line_breaks_and_write_utf16() -> None:
    assert q.reg_string('a"b\\c') == '"a\\"b\\\\c"'
    for bad in ("a\r\nb", "a\nb", "\x00"):
        with pytest.raises(q.QuotingError):
            q.reg_string(bad)
        with pytest.raises(q.QuotingError):
            q.reg_key(f"HKEY_LOCAL_MACHINE\\{bad}")
    assert q.reg_multi_sz(["6000-6999"]).startswith("hex(7):36,00,30,00")
    assert q.encode_reg("Windows Registry Editor Version 5.00\r\n")[:4] == b"\xff\xfeW\x00"


# --- cmd.exe and netsh ---------------------------------------------------------------------

CMD_META = set('&|<>^%"!\r\n')


@FAST
@given(hostile_text)
def test_cmd_values_and_rem_lines_never_hold_a_cmd_metacharacter(text: str) -> None:
    quoted = q.cmd_quoted(text)
    assert quoted.startswith('"') and quoted.endswith('"') and quoted.count('"') == 2
    assert not CMD_META & set(quoted[1:-1]) and quoted.isascii()
    assert not CMD_META & set(q.cmd_text(text)) and "," not in q.cmd_text(text)
    rem = q.cmd_rem(text)
    assert rem.startswith("rem") and rem.isascii() and not CMD_META & set(rem)
    assert len(rem) <= 4 + q.COMMENT_MAX


def test_netsh_tokens_are_refused_not_altered() -> None:
    assert q.netsh_token("10.0.0.1,fd00::1/64") == "10.0.0.1,fd00::1/64"
    assert q.netsh_token("RPC-EPMap") == "RPC-EPMap"
    for bad in ("10.0.0.1 & calc", "a%PATH%", 'x"', "a b", "", "x\r\ny"):
        with pytest.raises(q.QuotingError):
            q.netsh_token(bad)
    assert q.cmd_text("EX1 & del /q *") == "EX1 _ del /q _"


# --- aerleon -----------------------------------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(hostile_text, min_size=3, max_size=3))
@example(["'", "{ }", "'"])  # aerleon's Juniper writer counts braces in comments too
def test_aerleon_renders_sanitised_comments_as_comments(texts: list[str]) -> None:
    from pathsec.quoting import aerleon_text

    def files(c: list[str]) -> dict[str, bytes]:
        import yaml

        policy = {
            "filters": [
                {
                    "header": {
                        "targets": {
                            "juniper": "f mixed",
                            "cisco": "f mixed",
                            "nftables": "mixed input",
                        },
                        "comment": c[0],
                    },
                    "terms": [
                        {
                            "name": "t1",
                            "comment": c[1],
                            "source-address": "SRC",
                            "protocol": "tcp",
                            "destination-port": "P",
                            "action": "accept",
                        },
                        {"name": "deny", "comment": "x", "action": "deny"},
                    ],
                }
            ]
        }
        nets = {"networks": {"SRC": {"values": [{"address": "10.0.0.1/32", "comment": c[2]}]}}}
        svcs = {"services": {"P": [{"port": 25, "protocol": "tcp"}]}}
        dump = lambda d: yaml.safe_dump(d, allow_unicode=True).encode()  # noqa: E731
        return {
            "aerleon/aerleon/policies/pol/pathsec.yaml": dump(policy),
            "aerleon/aerleon/def/networks.yaml": dump(nets),
            "aerleon/aerleon/def/services.yaml": dump(svcs),
        }

    clean = aerleon_render(files(["a", "b", "c"]))
    hostile = aerleon_render(files([aerleon_text(t) for t in texts]))
    juniper_comments_balanced(hostile["pathsec.jcl"])
    for name, text in hostile.items():
        assert_inert_text(text)

        def rules(t: str) -> list[str]:
            # Everything but comments: Juniper /* */ blocks, Cisco remarks, nft comments.
            t = re.sub(r"/\*.*?\*/", "", t, flags=re.S)
            t = re.sub(r'comment "[^"\n]*"', "", t)
            return [
                ln.strip()
                for ln in t.splitlines()
                if ln.strip() and not ln.strip().startswith(("remark", "!", "#", "**"))
            ]

        assert rules(text) == rules(clean[name]), name


# --- CSV, Markdown, JSON -----------------------------------------------------------------


@FAST
@given(st.lists(hostile_text, min_size=1, max_size=4))
def test_csv_round_trip_defuses_formulas(cells: list[str]) -> None:
    text = q.csv_text([["h"] * len(cells), cells])
    rows = csv_rows(text)
    assert rows[1] == [q.csv_cell(c) for c in cells]
    for c, got in zip(cells, rows[1], strict=True):
        plain = q.terminal_lines(c)
        assert got in (plain, "'" + plain)
        assert_inert_text(got)


@FAST
@given(hostile_text)
def test_markdown_text_renders_as_exactly_the_text(text: str) -> None:
    shown = q.terminal(text.replace("\n", " "))
    rendered = markdown_html(f"before {q.md_text(text)} after")
    assert rendered.startswith("<p>") and rendered.count("<") == 2  # <p> and </p> only
    assert html.unescape(rendered[3:-5]) == f"before {shown} after".strip()


@FAST
@given(hostile_text, hostile_text)
def test_markdown_cells_stay_in_their_column(a: str, b: str) -> None:
    table = f"| x | y | z |\n|---|---|---|\n| {q.md_cell(a)} | {q.md_code(b)} | end |\n"
    assert md_table_cells(table) == [3, 3]
    rendered = markdown_html(table)
    assert "<a " not in rendered and "<img" not in rendered and "<script" not in rendered
    code = re.search(r"<code>(.*?)</code>", rendered, re.S)
    assert code is not None and html.unescape(code.group(1)) == q.terminal(b)


def test_markdown_block_fence_outlasts_backticks() -> None:
    block = q.md_block(["```", "x ```` y"])
    assert block.startswith("`````text\n") and block.endswith("\n`````")


@FAST
@given(st.dictionaries(hostile_text, hostile_text, max_size=3))
def test_json_text_is_the_same_value_and_inert(data: dict[str, str]) -> None:
    text = q.json_text(data)
    assert json.loads(text) == data
    assert not re.search("[\x80-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", text)


def test_corpus_reaches_every_function() -> None:
    """Sanity: every corpus string goes through every function without an exception."""
    for t in CORPUS:
        q.terminal(t)
        q.nft_string(t)
        q.ipt_comment_arg(t)
        q.ps_string(t)
        q.aerleon_text(t)
        q.csv_cell(t)
        q.md_text(t)
        q.md_code(t)
        q.hash_comment(t)
        assert "*/" not in q.aerleon_text(t) and "/*" not in q.aerleon_text(t)
    assert Path(__file__).exists()


@FAST
@given(hostile_text)
def test_markdown_paragraph_starts_no_other_block(text: str) -> None:
    rendered = markdown_html(q.md_paragraph(text) + "\n")
    shown = q.terminal(text.replace("\n", " ")).lstrip(" ")
    if not shown.strip():
        return  # an empty paragraph renders nothing at all
    assert rendered.startswith("<p>") and rendered.count("<") == 2, rendered
    assert html.unescape(rendered[3:-5]).strip() == shown.strip()
    strong = markdown_html(q.md_strong(text))
    assert strong.startswith("<p><strong>") and strong.count("<") == 4, strong
