"""Bad input wherever a user types or points: one line on stderr, exit code 2, no traceback.

The table covers catalog, deployment, audit profile, lab profile (the lab's server policy),
plan and results files, command-line arguments and target lists. Each case names the files
it writes, the command line (``{tmp}`` is the case's folder) and a regular expression the
one-line message must match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pathsec.cli.main import run

ROOT = Path(__file__).resolve().parents[2]
SMALL = (ROOT / "examples/small.yaml").read_text("utf-8")
CATALOG = (ROOT / "src/pathsec/catalog/data/catalog.yaml").read_text("utf-8")
HARDENED = (
    "name: mine\nmin_tls_version: TLSv1.2\nmin_rsa_bits: 2048\n"
    "checks:\n  PS-TCP-001: high\n  PS-TLS-002: high\n"
)


@dataclass(frozen=True)
class Bad:
    """One bad input: files to write, the argv, and the expected message (a regex)."""

    argv: tuple[str, ...]
    message: str
    files: dict[str, str | bytes] = field(default_factory=dict)


def _once(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


CASES: dict[str, Bad] = {
    # --- catalog files ---------------------------------------------------------------------
    "catalog: port out of range": Bad(
        ("catalog", "--catalog", "{tmp}/c.yaml"),
        r"c\.yaml:\d+: paths\[\d+\]\.ports\[\d+\]\.port: .*65535",
        {"c.yaml": re.sub(r"port: 25\b", "port: 99999", CATALOG, count=1)},
    ),
    "catalog: not YAML": Bad(
        ("catalog", "--catalog", "{tmp}/c.yaml"),
        r"c\.yaml:\d+: .*",
        {"c.yaml": "paths: [\n  - id: x\n    bad: {\n"},
    ),
    "catalog: missing file": Bad(
        ("catalog", "--catalog", "{tmp}/none.yaml"),
        r"none\.yaml: .*(no such|not found|cannot read|does not exist)",
    ),
    "catalog: a list instead of a mapping": Bad(
        ("catalog", "--catalog", "{tmp}/c.yaml"),
        r"c\.yaml:1: expected a mapping of fields \(name: value\) at the top, got a list",
        {"c.yaml": "- 1\n- 2\n"},
    ),
    "catalog: empty file": Bad(
        ("catalog", "--catalog", "{tmp}/c.yaml"),
        r"c\.yaml:1: expected a mapping of fields \(name: value\) at the top, got an empty file",
        {"c.yaml": "# nothing here\n"},
    ),
    "catalog: invalid UTF-8": Bad(
        ("catalog", "--catalog", "{tmp}/c.yaml"),
        r"c\.yaml(:\d+)?: .*(UTF-8|utf-8|decode)",
        {"c.yaml": b"paths:\n  - id: \xff\xfe\n"},
    ),
    "catalog: unknown role in a path": Bad(
        ("catalog", "--catalog", "{tmp}/c.yaml"),
        r"c\.yaml:\d+: paths\[\d+\]\.source_role: ",
        {"c.yaml": _once(CATALOG, "source_role: hub_transport", "source_role: fax_server")},
    ),
    "catalog show: unknown path id": Bad(("catalog", "show", "no.such_path"), r"no\.such_path"),
    "catalog: bad --port": Bad(("catalog", "--port", "eighty"), r"--port"),
    # --- deployment files ------------------------------------------------------------------
    "deployment: empty file": Bad(
        ("plan", "{tmp}/d.yaml"),
        r"d\.yaml:1: expected a mapping .* got an empty file",
        {"d.yaml": ""},
    ),
    "deployment: unknown role": Bad(
        ("plan", "{tmp}/d.yaml"),
        r"d\.yaml:\d+: servers\[1\]\.roles\[1\]: ",
        {"d.yaml": _once(SMALL, "[hub_transport, client_access, mailbox]", "[hub_transport, fax]")},
    ),
    "deployment: address not an IP": Bad(
        ("validate", "{tmp}/d.yaml"),
        r"d\.yaml:\d+: servers\[1\]\.addresses\[0\]: ",
        {"d.yaml": _once(SMALL, "addresses: [10.1.0.20]", "addresses: [ten.one.zero.20]")},
    ),
    "deployment: tab indentation": Bad(
        ("plan", "{tmp}/d.yaml"),
        r"d\.yaml:\d+: ",
        {"d.yaml": _once(SMALL, "  - name: HQ", "\t- name: HQ")},
    ),
    "deployment: directory instead of a file": Bad(("plan", "{tmp}"), r".*(directory|read).*"),
    "deployment: YAML alias bomb": Bad(
        ("plan", "{tmp}/d.yaml"),
        r"d\.yaml:\d+: document expands to more than",
        {
            "d.yaml": "a: &a [x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n"
                for i in range(8)
            )
        },
    ),
    "deployment: recursive YAML alias": Bad(
        ("plan", "{tmp}/d.yaml"),
        r"d\.yaml:\d+: document nested deeper than",
        {"d.yaml": "servers: &s [{name: x, roles: *s}]\n"},
    ),
    "deployment: 5,000 nested lists": Bad(
        ("validate", "{tmp}/d.yaml"),
        r"d\.yaml: YAML nested too deeply",
        {"d.yaml": "[" * 5000 + "]" * 5000},
    ),
    "deployment: control character": Bad(
        ("plan", "{tmp}/d.yaml"),
        r"d\.yaml:15: character '\\x1b' is not allowed in YAML",
        {"d.yaml": _once(SMALL, "  - name: HQ", "  - name: H\x1bQ")},
    ),
    "deployment: schema_version 2": Bad(
        ("plan", "{tmp}/d.yaml"),
        r"d\.yaml:\d+: schema_version: ",
        {"d.yaml": _once(SMALL, "schema_version: 1", "schema_version: 2")},
    ),
    # --- audit profiles --------------------------------------------------------------------
    "profile: unknown name": Bad(
        ("audit", "-t", "127.0.0.1:25", "--profile", "paranoid"), r"paranoid: no such profile"
    ),
    "profile: unknown check id": Bad(
        ("audit", "-t", "127.0.0.1:25", "--profile", "{tmp}/p.yaml"),
        r"p\.yaml:\d+: checks\.PS-XXX-999: unknown check id",
        {"p.yaml": HARDENED + "  PS-XXX-999: high\n"},
    ),
    "profile: bad severity": Bad(
        ("audit", "-t", "127.0.0.1:25", "--profile", "{tmp}/p.yaml"),
        r"p\.yaml:\d+: checks\.PS-TCP-001: ",
        {"p.yaml": _once(HARDENED, "PS-TCP-001: high", "PS-TCP-001: severe")},
    ),
    "profile: bad TLS version": Bad(
        ("audit", "-t", "127.0.0.1:25", "--profile", "{tmp}/p.yaml"),
        r"p\.yaml:\d+: min_tls_version: ",
        {"p.yaml": _once(HARDENED, "min_tls_version: TLSv1.2", "min_tls_version: TLSv9")},
    ),
    "profile: unknown field": Bad(
        ("audit", "-t", "127.0.0.1:25", "--profile", "{tmp}/p.yaml"),
        r"p\.yaml:\d+: min_dsa_bits: unknown field|p\.yaml:\d+: min_dsa_bits: ",
        {"p.yaml": HARDENED + "min_dsa_bits: 2048\n"},
    ),
    "profile: RSA bits out of range": Bad(
        ("audit", "-t", "127.0.0.1:25", "--profile", "{tmp}/p.yaml"),
        r"p\.yaml:\d+: min_rsa_bits: ",
        {"p.yaml": _once(HARDENED, "min_rsa_bits: 2048", "min_rsa_bits: 99")},
    ),
    # --- baseline policies (audit --policy) ----------------------------------------------
    "policy: missing file": Bad(
        ("audit", "-t", "127.0.0.1:25", "--policy", "{tmp}/none.yaml"),
        r"none\.yaml: cannot read",
    ),
    "policy: wrong version": Bad(
        ("audit", "-t", "127.0.0.1:25", "--policy", "{tmp}/pol.yaml"),
        r"pol\.yaml:1: policy_version: ",
        {"pol.yaml": "policy_version: 7\ncreated: today\n"},
    ),
    "policy: endpoint without host": Bad(
        ("audit", "-t", "127.0.0.1:25", "--policy", "{tmp}/pol.yaml"),
        r"pol\.yaml:\d+: endpoints\[0\]\.host: required field is missing",
        {
            "pol.yaml": "created: today\nendpoints:\n  - key: k\n    port: 25\n"
            "    protocol: smtp\n    offers: {}\n"
        },
    ),
    "policy: offers not a mapping": Bad(
        ("audit", "-t", "127.0.0.1:25", "--policy", "{tmp}/pol.yaml"),
        r"pol\.yaml:\d+: endpoints\[0\]\.offers: ",
        {
            "pol.yaml": "created: today\nendpoints:\n  - key: k\n    host: h\n    port: 25\n"
            "    protocol: smtp\n    offers: [1, 2]\n"
        },
    ),
    # --- lab profiles (the policy the lab servers follow) --------------------------------
    "lab profile: unknown name": Bad(("lab", "up", "--profile", "nonesuch"), r"nonesuch"),
    "lab profile: not a mapping": Bad(
        ("lab", "up", "--profile", "{tmp}/lab.yaml"), r"lab\.yaml(:\d+)?: ", {"lab.yaml": "[1, 2"}
    ),
    # --- plan and results files ------------------------------------------------------------
    "firewall: plan JSON is broken": Bad(
        ("firewall", "{tmp}/plan.json", "-t", "nftables"),
        r"plan\.json(:\d+)?: ",
        {"plan.json": '{"schema_version": 1, "flows": [}'},
    ),
    "firewall: unknown target": Bad(
        ("firewall", str(ROOT / "examples/small.yaml"), "-t", "pf"), r"pf"
    ),
    "report: results file is not results": Bad(
        ("report", "{tmp}/r.json"), r"r\.json(:\d+)?: ", {"r.json": '{"hello": "world"}'}
    ),
    "report: results JSON nested 100,000 deep": Bad(
        ("report", "{tmp}/r.json"), r"r\.json(:\d+)?: ", {"r.json": "[" * 100_000}
    ),
    "firewall: plan JSON nested 100,000 deep": Bad(
        ("firewall", "{tmp}/plan.json", "-t", "nftables"),
        r"plan\.json(:\d+)?: ",
        {"plan.json": "[" * 100_000},
    ),
    "report: results file is binary": Bad(
        ("report", "{tmp}/r.json"), r"r\.json(:\d+)?: ", {"r.json": b"\x00\x01\xff\xfe"}
    ),
    # --- command-line arguments ------------------------------------------------------------
    "audit: no targets": Bad(("audit",), r"give --target, --targets-file or a deployment"),
    "audit: timeout zero": Bad(("audit", "-t", "127.0.0.1:25", "--timeout", "0"), r"--timeout"),
    "audit: concurrency zero": Bad(
        ("audit", "-t", "127.0.0.1:25", "--concurrency", "0"), r"--concurrency"
    ),
    "audit: bad source address": Bad(
        ("audit", "-t", "127.0.0.1:25", "--source-address", "localhost!"),
        r"--source-address: not an IP address",
    ),
    "audit: bad --fail-on": Bad(("audit", "-t", "127.0.0.1:25", "--fail-on", "bad"), r"--fail-on"),
    "audit: bad --max-rate": Bad(
        ("audit", "-t", "127.0.0.1:25", "--max-rate", "-1"),
        r"--max-rate.*greater than or equal to 0\.1",
    ),
    "unknown command": Bad(("frobnicate",), r"frobnicate"),
    "unknown option": Bad(("catalog", "--colour"), r"--colour"),
    # --- targets ---------------------------------------------------------------------------
    "target: port 0": Bad(("audit", "-t", "127.0.0.1:0/smtp"), r"port must be between"),
    "target: port 70000": Bad(("audit", "-t", "127.0.0.1:70000/smtp"), r"port must be between"),
    "target: unknown protocol": Bad(("audit", "-t", "127.0.0.1:25/gopher"), r"unknown protocol"),
    "target: no port, no protocol": Bad(("audit", "-t", "mail.example"), r"give a port or"),
    "target: unknown port": Bad(("audit", "-t", "127.0.0.1:8443"), r"no protocol is known"),
    "target: unclosed IPv6 bracket": Bad(("audit", "-t", "[::1:25"), r"expected HOST"),
    "target: bracketed host is not IPv6": Bad(
        ("audit", "-t", "[1:2:3]:25"), r"\[1:2:3\] is not an IPv6 address"
    ),
    "target: IPv4 in brackets": Bad(("audit", "-t", "[10.0.0.1]:25"), r"is not an IPv6 address"),
    "target: spaces inside": Bad(("audit", "-t", "mail example:25"), r"expected HOST"),
    "target: control character": Bad(("audit", "-t", "mx\x1b[2J:25"), r"expected HOST"),
    "targets file: bad line 3": Bad(
        ("audit", "--targets-file", "{tmp}/t.txt"),
        r"t\.txt:3: .*unknown protocol",
        {"t.txt": "# list\n127.0.0.1:25\n127.0.0.1:25/nope\n"},
    ),
    "targets file: missing": Bad(
        ("audit", "--targets-file", "{tmp}/none.txt"), r"none\.txt: cannot read"
    ),
    "targets file: invalid UTF-8": Bad(
        ("audit", "--targets-file", "{tmp}/t.txt"),
        r"t\.txt(:\d+)?: .*",
        {"t.txt": b"127.0.0.1:25\n\xff\xfe\n"},
    ),
    "targets file: is a directory": Bad(
        ("audit", "--targets-file", "{tmp}"), r"(cannot read|is a directory)"
    ),
    # --- discover targets (refused before anything is sent) --------------------------------
    "discover: a /8 without --max-hosts": Bad(
        ("discover", "10.0.0.0/8"),
        r"^pathsec: error: TARGET: '10\.0\.0\.0/8': the targets hold 16,777,214\+ addresses, "
        r"more than --max-hosts 4,096",
    ),
    "discover: two /20s over the bound": Bad(
        ("discover", "10.0.0.0/20", "10.1.0.0/20"), r"'10\.1\.0\.0/20': .*more than --max-hosts"
    ),
    "discover: a /16 over a raised bound": Bad(
        ("discover", "10.0.0.0/16", "--max-hosts", "65000"), r"65,534\+ addresses.*65,000"
    ),
    "discover: garbage target": Bad(
        ("discover", "10.0.0.1", "not/an/address"), r"'not/an/address': not an IP address or CIDR"
    ),
    "discover: host name": Bad(("discover", "mail.example.org"), r"host names are not accepted"),
    "discover: control characters": Bad(
        ("discover", "10.0.0.\x1b[2J"), r"not an IP address or CIDR"
    ),
    "discover: multicast": Bad(("discover", "224.0.0.1"), r"not a host address"),
    "discover: bad CIDR": Bad(("discover", "10.0.0.0/33"), r"not an IP address or CIDR"),
    "discover: --max-hosts 0": Bad(("discover", "10.0.0.1", "--max-hosts", "0"), r"--max-hosts"),
    "discover: bad --source-address": Bad(
        ("discover", "127.0.0.1", "--source-address", "nope"), r"--source-address: not an IP"
    ),
    "discover: output exists": Bad(
        ("discover", "127.0.0.1", "-o", "{tmp}/d.yaml"),
        r"--output: .*d\.yaml exists; use --force",
        {"d.yaml": "mine\n"},
    ),
    "discover: no target": Bad(("discover",), r"(?i)missing argument|targets"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_line_exit_2(name: str, tmp_path: Path, capfd) -> None:
    case = CASES[name]
    for fname, content in case.files.items():
        p = tmp_path / fname
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, "utf-8")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in case.argv]
    rc = run(argv)
    err = capfd.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2, f"exit {rc}; stderr: {err}"
    assert "Traceback" not in err
    assert len(lines) == 1, f"expected one line, got: {err!r}"
    assert lines[0].startswith("pathsec: error: "), lines[0]
    assert re.search(case.message, lines[0]), lines[0]
    assert "\x1b" not in lines[0]


def test_table_has_at_least_30_cases() -> None:
    assert len(CASES) >= 30
