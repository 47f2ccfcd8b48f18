"""TLS audit bench: pathsec beside testssl.sh and sslscan on a matrix of real servers.

    python bench/bench_tls.py                          # the whole matrix, all three tools
    python bench/bench_tls.py --no-testssl             # quick look (testssl takes ~1 min/endpoint)
    python bench/bench_tls.py --only nginx-modern,gnutls-rc4 --output bench/tls-last-run.txt

Starts the matrix of ``tests/servers/tls_matrix.py`` (nginx, Postfix, Dovecot, gnutls-serv on
loopback, each configuration with the weaknesses it was built with; run as root), then:

* **pathsec**: ``pathsec audit --targets-file … --profile hardened --ca-file ROOT`` over the
  whole matrix in one process (best of ``--repeat`` runs, process start to exit), and once
  more per endpoint (one process each) for the per-endpoint column;
* **testssl.sh** (Debian's ``testssl``, default full run, ``--add-ca ROOT``, ``-t smtp|imap``
  on STARTTLS ports), one run per endpoint;
* **sslscan** (``--xml``, ``--starttls-smtp|imap``), one run per endpoint.

Each tool's output is mapped to the weakness classes of the matrix; a class counts as flagged
when the tool reports it as a problem (testssl: a severity above INFO on the matching id;
sslscan: the weak property in its XML). The table shows per configuration the weaknesses
present and how many each tool flagged, with its time; the totals give flagged/present,
flags on clean controls or absent weaknesses (false positives), and the speed ratios. Facts
are checked too: every suite sslscan saw accepted must be in pathsec's list, and every suite
pathsec lists that the local OpenSSL knows must be in sslscan's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from servers.tls_matrix import (  # noqa: E402
    MATRIX,
    WEAKNESSES,
    Config,
    Matrix,
    missing_tools,
    pathsec_flags,
    running,
    target_of,
)

PATHSEC = [str(Path(sys.executable).with_name("pathsec"))]
STARTTLS = {"smtp": "smtp", "imap": "imap"}


def _pathsec_cmd(targets: Path, ca: Path, out: Path) -> list[str]:
    return [
        *PATHSEC, "audit", "--targets-file", str(targets), "--profile", "hardened",
        "--ca-file", str(ca), "-o", str(out), "-f", "json", "--no-store", "-q",
    ]  # fmt: skip


def run_pathsec(m: Matrix, work: Path, repeat: int) -> tuple[float, dict[str, object], dict[str, float]]:  # fmt: skip
    """Best wall time over the matrix, its results, and the per-endpoint times."""
    targets = work / "targets.txt"
    targets.write_text("".join(target_of(c) + "\n" for c in m.configs))
    best, doc = float("inf"), {}
    for i in range(repeat):
        out = work / f"pathsec-{i}.json"
        start = time.monotonic()
        subprocess.run(_pathsec_cmd(targets, m.ca_file, out), capture_output=True, timeout=600)
        best = min(best, time.monotonic() - start)
        doc = json.loads(out.read_text())
    per: dict[str, float] = {}
    for c in m.configs:
        one = work / f"one-{c.name}.txt"
        one.write_text(target_of(c) + "\n")
        start = time.monotonic()
        subprocess.run(_pathsec_cmd(one, m.ca_file, work / f"one-{c.name}.json"), capture_output=True, timeout=300)  # fmt: skip
        per[c.name] = time.monotonic() - start
    return best, doc, per


def _offered(finding: str) -> bool:
    return finding.lower().startswith("offered")


def testssl_flags(doc: dict[str, object]) -> set[str]:
    """Weakness classes testssl.sh flags in its -oJ document."""
    items = {}
    for section in doc["scanResult"][0].values():  # type: ignore[index]
        if isinstance(section, list):
            for it in section:
                items[it["id"]] = (it.get("severity", ""), it.get("finding", ""))
    bad = lambda i: items.get(i, ("OK", ""))[0] not in ("OK", "INFO", "")  # noqa: E731
    text = lambda i: items.get(i, ("", ""))[1]  # noqa: E731
    out = set()
    for ident, cls in (
        ("SSLv2", "sslv2"),
        ("SSLv3", "sslv3"),
        ("TLS1", "tls10"),
        ("TLS1_1", "tls11"),
    ):
        if _offered(text(ident)):
            out.add(cls)
    if "not offered" in text("TLS1_2") and "not offered" in text("TLS1_3"):
        out.add("no_tls12")
    for ident, cls in (("cipherlist_NULL", "null"), ("cipherlist_aNULL", "anon"), ("cipherlist_EXPORT", "export"), ("cipherlist_3DES_IDEA", "3des")):  # fmt: skip
        if bad(ident) and _offered(text(ident)):
            out.add(cls)
    if bad("RC4"):
        out.add("rc4")
    if bad("SWEET32"):
        out.add("3des")
    if "not offered" in text("cipherlist_STRONG") and "not offered" in text("TLS1_3"):
        out.add("cbc_only")
    if bad("PFS") or bad("FS"):
        out.add("no_fs")
    for ident in ("LOGJAM", "LOGJAM-common_primes", "DH_groups", "FS_DH_groups"):
        if bad(ident):
            out.add("weak_dh")
    chain = text("cert_chain_of_trust").lower()
    if bad("cert_chain_of_trust"):
        if "expired" in chain:
            out.add("cert_expired")  # the leaf's expiry, reported as the chain's verdict
        elif "incomplete" in chain:
            out.add("chain_incomplete")
        elif "self signed ca" in chain or "self-signed ca" in chain:
            out.add("chain_untrusted")
        elif "self signed" in chain or "self-signed" in chain:
            out.add("self_signed")
        else:
            out.add("chain_untrusted")
    if "expired" in text("cert_expirationStatus").lower():
        out.add("cert_expired")
    if bad("cert_signatureAlgorithm"):
        out.add("weak_sig")
    if bad("cert_keySize"):
        out.add("weak_key")
    if bad("HSTS"):
        out.add("hsts_missing")
    return out


def testssl_aborted(doc: dict[str, object]) -> str | None:
    """Why testssl.sh stopped before testing (Debian's build on OpenSSL 3 cannot connect to
    the most legacy servers), or None."""
    if doc.get("scanTime") == "Scan interrupted":
        first = doc["scanResult"][0]  # type: ignore[index]
        return str(first.get("finding", "scan interrupted"))
    return None


ABORTED: dict[str, str] = {}


def run_testssl(c: Config, m: Matrix, work: Path) -> tuple[float, set[str]]:
    out = work / f"testssl-{c.name}.json"
    cmd = ["testssl", "--quiet", "--color", "0", "--warnings", "batch", "--nodns", "none",
           "--add-ca", str(m.ca_file), "-oJ", str(out)]  # fmt: skip
    if c.protocol in STARTTLS:
        cmd += ["-t", STARTTLS[c.protocol]]
    start = time.monotonic()
    subprocess.run([*cmd, f"127.0.0.1:{c.port}"], capture_output=True, timeout=900, cwd=work)
    took = time.monotonic() - start
    try:
        doc = json.loads(out.read_text())
        why = testssl_aborted(doc)
        if why:
            ABORTED[c.name] = why
            return took, set()
        return took, testssl_flags(doc)
    except (OSError, ValueError, KeyError, IndexError):
        ABORTED[c.name] = "no JSON written"
        return took, set()


def sslscan_facts(path: Path) -> tuple[set[str], set[tuple[str, str]]]:
    """Weakness classes sslscan shows, and the (version, suite) pairs it saw accepted."""
    out: set[str] = set()
    suites: set[tuple[str, str]] = set()
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return out, suites
    test = root.find("ssltest")
    if test is None:
        return out, suites
    enabled = {(p.get("type"), p.get("version")) for p in test.iter("protocol") if p.get("enabled") == "1"}  # fmt: skip
    for key, cls in ((("ssl", "2"), "sslv2"), (("ssl", "3"), "sslv3"), (("tls", "1.0"), "tls10"), (("tls", "1.1"), "tls11")):  # fmt: skip
        if key in enabled:
            out.add(cls)
    if enabled and not {("tls", "1.2"), ("tls", "1.3")} & enabled:
        out.add("no_tls12")
    for c in test.iter("cipher"):
        name, strength = c.get("cipher", ""), c.get("strength", "")
        suites.add((c.get("sslversion", ""), c.get("id", name)))
        if strength == "null" or "NULL" in name:
            out.add("null")
        if strength == "anonymous" or name.startswith(("ADH", "AECDH")):
            out.add("anon")
        if "EXP" in name:
            out.add("export")
        if "RC4" in name:
            out.add("rc4")
        if "DES-CBC3" in name:
            out.add("3des")
        if c.get("dhebits") and int(c.get("dhebits", "0")) < 2048:
            out.add("weak_dh")
    for cert in test.iter("certificate"):
        if (cert.findtext("self-signed") or "").strip() == "true":
            out.add("self_signed")
        if (cert.findtext("expired") or "").strip() == "true":
            out.add("cert_expired")
        sig = (cert.findtext("signature-algorithm") or "").lower()
        if "sha1" in sig or "md5" in sig:
            out.add("weak_sig")
        pk = cert.find("pk")
        if pk is not None and pk.get("type") == "RSA" and int(pk.get("bits", "4096")) < 2048:
            out.add("weak_key")
    return out, suites


def run_sslscan(c: Config, work: Path) -> tuple[float, set[str], set[tuple[str, str]]]:
    out = work / f"sslscan-{c.name}.xml"
    cmd = ["sslscan", "--no-colour", f"--xml={out}"]
    if c.protocol in STARTTLS:
        cmd.append(f"--starttls-{STARTTLS[c.protocol]}")
    start = time.monotonic()
    subprocess.run([*cmd, f"127.0.0.1:{c.port}"], capture_output=True, timeout=300)
    took = time.monotonic() - start
    flags, suites = sslscan_facts(out)
    return took, flags, suites


def _openssl_ids() -> set[str]:
    """Two-byte ids (``0x009E``) of every suite the local OpenSSL has."""
    got = subprocess.run(["openssl", "ciphers", "-V", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"], capture_output=True, text=True)  # fmt: skip
    out = set()
    for line in got.stdout.splitlines():
        parts = line.split()
        if parts and parts[0].startswith("0x"):
            hi, lo = parts[0].split(",")
            out.add(f"0x{hi[2:]}{lo[2:]}".upper().replace("0X", "0x"))
    return out


def fact_mismatches(c: Config, endpoint: dict[str, object], scanned: set[tuple[str, str]], known: set[str]) -> list[str]:  # fmt: skip
    """By suite id, up to TLS 1.2: suites sslscan saw that pathsec did not list, and suites
    pathsec lists that sslscan, whose OpenSSL knows them, did not see."""
    versions = ("TLSv1.0", "TLSv1.1", "TLSv1.2")
    obs = endpoint["observations"]["ciphers"] or {}  # type: ignore[index]
    ours = {(v["version"], s["id"].upper().replace("0X", "0x")) for v in obs.get("versions", ()) for s in v["suites"] if v["version"] in versions}  # fmt: skip
    theirs = {(v, i.upper().replace("0X", "0x")) for v, i in scanned if v in versions}
    out = [f"{c.name}: sslscan saw {v} {i}, pathsec did not" for v, i in sorted(theirs - ours)]
    out += [f"{c.name}: pathsec lists {v} {i}, sslscan did not" for v, i in sorted(ours - theirs) if i in known]  # fmt: skip
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-testssl", action="store_true", help="skip testssl.sh (slow)")
    ap.add_argument("--no-sslscan", action="store_true", help="skip sslscan")
    ap.add_argument("--only", help="comma-separated configuration names")
    ap.add_argument("--repeat", type=int, default=3, help="pathsec matrix runs (best counts)")
    ap.add_argument("--output", type=Path, help="also write the report here")
    args = ap.parse_args()
    missing = missing_tools()
    if missing:
        print(f"bench_tls: missing server binaries: {', '.join(missing)}", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("bench_tls: run as root (Postfix and Dovecot start as root)", file=sys.stderr)
        return 2
    use_testssl = not args.no_testssl and shutil.which("testssl") is not None
    use_sslscan = not args.no_sslscan and shutil.which("sslscan") is not None
    configs = MATRIX
    if args.only:
        wanted = set(args.only.split(","))
        configs = tuple(c for c in MATRIX if c.name in wanted)
    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # unwinds through running(): every server is stopped

    signal.signal(signal.SIGTERM, stop)
    work = Path(tempfile.mkdtemp(prefix="pathsec-bench-tls-"))
    with running(configs) as m:
        say(f"bench_tls: {len(m.configs)} configurations, {os.cpu_count()} CPUs")
        matrix_s, doc, per = run_pathsec(m, work, args.repeat)
        endpoints = {e["port"]: e for e in doc["endpoints"]}  # type: ignore[index]
        known = _openssl_ids()
        rows, facts = [], []
        ts_total = ss_total = 0.0
        totals = {"present": 0, "pathsec": 0, "testssl": 0, "sslscan": 0}
        fps = {"pathsec": 0, "testssl": 0, "sslscan": 0}
        for c in m.configs:
            ours = pathsec_flags([f for f in doc["findings"] if f["port"] == c.port])  # type: ignore[index]
            ts_t, ts = run_testssl(c, m, work) if use_testssl else (0.0, set())
            ss_t, ss, scanned = run_sslscan(c, work) if use_sslscan else (0.0, set(), set())
            if use_sslscan:
                facts += fact_mismatches(c, endpoints[c.port], scanned, known)
            ts_total, ss_total = ts_total + ts_t, ss_total + ss_t
            totals["present"] += len(c.weaknesses)
            for tool, flags in (("pathsec", ours), ("testssl", ts), ("sslscan", ss)):
                totals[tool] += len(flags & c.weaknesses)
                fps[tool] += len(flags - c.weaknesses)
            rows.append((c, ours, ts, ss, per[c.name], ts_t, ss_t))
            print(f"  {c.name}: pathsec {sorted(ours)} testssl {sorted(ts)} sslscan {sorted(ss)}", file=sys.stderr)  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)
    n = len(rows)
    say()
    say("| configuration | server | present weaknesses | pathsec | testssl.sh | sslscan | pathsec s | testssl s | sslscan s |")  # fmt: skip
    say("|---|---|---|---|---|---|---|---|---|")
    for c, ours, ts, ss, p_t, ts_t, ss_t in rows:
        present = ", ".join(w for w in WEAKNESSES if w in c.weaknesses) or "(clean control)"

        def score(flags: set[str], c: Config = c) -> str:
            extra = flags - c.weaknesses
            return f"{len(flags & c.weaknesses)}/{len(c.weaknesses)}" + (f" +{','.join(sorted(extra))}" if extra else "")  # fmt: skip

        ts_cell = (score(ts) + (" (aborted)" if c.name in ABORTED else "")) if use_testssl else "-"
        say(f"| {c.name} | {c.server} {c.protocol} | {present} | {score(ours)} | {ts_cell} | {score(ss) if use_sslscan else '-'} | {p_t:.2f} | {ts_t:.1f} | {ss_t:.2f} |")  # fmt: skip
    say()
    say(f"present weaknesses: {totals['present']} in {n} configurations ({sum(1 for r in rows if r[0].clean)} clean controls)")  # fmt: skip
    say(f"flagged: pathsec {totals['pathsec']}, testssl.sh {totals['testssl'] if use_testssl else '-'}, sslscan {totals['sslscan'] if use_sslscan else '-'}")  # fmt: skip
    say(f"flags where the matrix has no such weakness: pathsec {fps['pathsec']}, testssl.sh {fps['testssl'] if use_testssl else '-'}, sslscan {fps['sslscan'] if use_sslscan else '-'}")  # fmt: skip
    for name, why in ABORTED.items():
        say(f"testssl.sh stopped on {name}: {why}")
    clean_fp = [r[0].name for r in rows if r[0].clean and r[1]]
    say(f"pathsec flags on clean controls: {len(clean_fp)} {clean_fp or ''}")
    say(f"facts (suites up to TLS 1.2, pathsec vs sslscan): {len(facts)} mismatches" + ("" if use_sslscan else " (not checked)"))  # fmt: skip
    for f in facts[:20]:
        say(f"  {f}")
    per_ep = sum(r[4] for r in rows) / n
    say(f"pathsec: whole matrix {matrix_s:.2f} s in one process (best of {args.repeat}); {per_ep:.2f} s per endpoint in a process of its own")  # fmt: skip
    if use_testssl:
        say(f"testssl.sh: {ts_total:.1f} s in all, {ts_total / n:.1f} s per endpoint; per endpoint {ts_total / n / per_ep:.1f}x pathsec's own-process time, {ts_total / matrix_s:.0f}x over the matrix")  # fmt: skip
    if use_sslscan:
        say(f"sslscan: {ss_total:.2f} s over the matrix (one run per endpoint): pathsec is {ss_total / matrix_s:.1f}x faster")  # fmt: skip
    if args.output:
        args.output.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
