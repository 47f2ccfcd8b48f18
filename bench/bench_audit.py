"""Benchmark: pathsec's mail audit against nmap and the machine's TLS-handshake ceiling.

    python bench/bench_audit.py                      # 200 and 1000 endpoints, nmap, ceiling
    python bench/bench_audit.py --sizes 200 --no-nmap
    python bench/bench_audit.py --scaling            # 100 / 1000 / 10000, peak memory
    python bench/bench_audit.py --plan               # also plan + firewall for 500 servers

It starts N SMTP endpoints with STARTTLS on loopback (ports 25 and 587 on N/2 addresses
in 127.<net>.0.0/16, two server processes running ``bench/smtp_server.py``), then in the
same run measures, interleaved, each in its own process:

* ``pathsec audit --targets-file FILE -o results.json`` as a user runs it: the console
  script, defaults on (table on stdout, results file, history store), whole process from
  start to exit; the same with ``--no-store``;
* pathsec's audit through the library in a fresh process, timed from targets in to results
  out (the in-process figure: no start-up, imports, output or store);
* nmap ``-Pn -n --script smtp-commands,ssl-cert`` and the same plus ``ssl-enum-ciphers``
  (whole process; nmap's own elapsed time from its XML is its in-process figure);
* a minimal asyncio client (TCP, banner, EHLO, STARTTLS, handshake, close): the ceiling.

Each figure is the median of the interleaved runs. It checks that nmap and pathsec saw the
same EHLO keywords, certificate subjects and TLS versions on every endpoint, and prints a
table. Not a timed test: it prints the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import json
import logging
import os
import resource
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

HERE = Path(__file__).resolve().parent
PORTS = (25, 587)
SERVER_PROCESSES = 2
CERT_CN = "mail.bench.example"
CEILING_CONCURRENCY = 256
#: Serve on uvloop when it is installed: a Python asyncio server on the stdlib loop is far
#: slower than a real MTA, and the servers must not be what every tool waits for.
SERVER_UVLOOP = importlib.util.find_spec("uvloop") is not None

Endpoint = tuple[str, int]


# --------------------------------------------------------------------------- layout, servers


def layout(n: int, net: int) -> list[Endpoint]:
    """``n`` endpoints: ports 25 and 587 on ``ceil(n/2)`` addresses in 127.<net>.0.0/16.

    nmap's smtp and ssl scripts only run on the well-known SMTP ports without ``-sV``, so
    the endpoints spread over addresses rather than ports.
    """
    out: list[Endpoint] = []
    i = 0
    while len(out) < n:
        ip = f"127.{net}.{i // 250}.{i % 250 + 1}"
        for port in PORTS:
            if len(out) < n:
                out.append((ip, port))
        i += 1
    return out


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed RSA-2048 certificate for CERT_CN (the usual Exchange key size)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, CERT_CN),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pathsec bench"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(CERT_CN)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def process_cpu(pids: Sequence[int]) -> float:
    """CPU seconds (user + system) the processes ``pids`` have used so far (Linux)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@contextmanager
def servers(endpoints: Sequence[Endpoint], workdir: Path) -> Iterator[list[int]]:
    """Run the SMTP responders in SERVER_PROCESSES processes (yields their PIDs, for
    :func:`process_cpu`); stop them by PID at the end."""
    cert, key = make_certificate(workdir)
    procs: list[subprocess.Popen[str]] = []
    try:
        for k in range(SERVER_PROCESSES):
            part = list(endpoints[k::SERVER_PROCESSES])
            if not part:
                continue
            spec = workdir / f"servers{k}.json"
            spec.write_text(
                json.dumps(
                    {"cert": str(cert), "key": str(key), "endpoints": part, "uvloop": SERVER_UVLOOP}
                ),
                encoding="utf-8",
            )
            procs.append(
                subprocess.Popen(
                    [sys.executable, str(HERE / "smtp_server.py"), str(spec)],
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        deadline = time.monotonic() + 60
        for p in procs:
            assert p.stdout is not None
            line = p.stdout.readline()  # "ready <n>", or "" when the process died
            if not line.startswith("ready") or time.monotonic() > deadline:
                raise RuntimeError(f"server process {p.pid} did not start: {line!r}")
        yield [p.pid for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)


def ensure_bytecode() -> str:
    """Compile pathsec's modules to bytecode once, as installing it does.

    An editable install writes its bytecode on first use, unless the environment sets
    PYTHONDONTWRITEBYTECODE (as this machine's does): then every process compiled every
    module it imported again (about 55 ms of ``pathsec audit``'s start-up), which no user
    of an installed pathsec pays.
    """
    import compileall

    import pathsec

    folder = Path(pathsec.__file__).resolve().parent
    compileall.compile_dir(str(folder), quiet=1)
    return f"bytecode compiled in {folder}"


def raise_nofile() -> None:
    """Raise the open-file limit to the hard limit (10,000 endpoints need many sockets).

    Also quiets asyncio's "returning true from eof_received()" warning, which the stdlib
    logs for every TLS stream the peer closes first.
    """
    logging.getLogger("asyncio").setLevel(logging.ERROR)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB: ``VmHWM`` (the peak of this image;
    ``ru_maxrss`` would also count the parent's image this process replaced at exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------- what each tool saw


@dataclass
class Seen:
    """What one tool learnt about one endpoint (None: that tool does not learn it)."""

    keywords: tuple[str, ...] | None = None
    subject_cn: str | None = None
    versions: tuple[str, ...] | None = None


@dataclass
class Run:
    """One measured run of one tool.

    ``seconds``: the whole process, start to exit (the headline); ``inproc``: the tool's
    own measure of its work (pathsec's library audit, nmap's elapsed time, the ceiling's
    handshake loop), None when the run has none.
    """

    tool: str
    endpoints: int
    seconds: float
    inproc: float | None = None
    handshakes: int = 0
    attempts: int = 0
    full: int = 0  # pathsec: handshakes completed (the others stop at the server's first flight)
    rss_mb: float | None = None
    seen: dict[str, Seen] = field(default_factory=dict)
    note: str = ""
    server_cpu: float = 0.0  # CPU seconds the SMTP servers used during the run
    cpu: float | None = None  # whole process: user + system seconds (the machine is shared)


def _key(ip: str, port: int) -> str:
    return f"{ip}:{port}"


#: GNU time reports its child's peak RSS. ``wait4`` from this process would not do: Linux
#: keeps the peak of the image a child replaced at exec, i.e. this bench's own size.
TIME = "/usr/bin/time"
_RSS_MARK = "pathsec-bench-rss-kb "


def timed(cmd: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, int, float, float]:
    """Run ``cmd`` (stdout discarded, stderr kept); wall seconds from start to exit, exit
    status, the process's peak RSS in MB (through GNU time when it is installed) and its
    CPU seconds (user + system, with the processes it waited for)."""
    wrapped = [TIME, "-f", _RSS_MARK + "%M", *cmd] if os.path.exists(TIME) else list(cmd)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        wrapped, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True
    )
    assert proc.stderr is not None
    err = proc.stderr.read()  # ends when the process exits (or closes stderr)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    if proc.returncode not in (0, 1):  # pathsec: 1 = findings
        raise RuntimeError(f"{cmd[0]} exited {proc.returncode}: {err[-2000:]}")
    marks = [ln for ln in err.splitlines() if ln.startswith(_RSS_MARK)]
    rss = int(marks[-1][len(_RSS_MARK) :]) / 1024 if marks else usage.ru_maxrss / 1024
    return wall, proc.returncode, rss, usage.ru_utime + usage.ru_stime


def seen_in_results(doc: dict[str, Any]) -> tuple[dict[str, Seen], dict[str, int]]:
    """What pathsec saw per endpoint (those it audited after STARTTLS), from its results
    document, and counts: handshakes answered, completed, offers, endpoints failed."""
    seen: dict[str, Seen] = {}
    n = {"handshakes": 0, "full": 0, "attempts": 0, "failed": 0}
    for r in doc["endpoints"]:
        obs = r.get("observations") or {}
        smtp, tls = obs.get("smtp"), obs.get("tls")
        if r["status"] != "ok" or not smtp or not smtp.get("ehlo_before"):
            n["failed"] += 1
            continue
        session = smtp.get("tls")
        if session is not None or smtp.get("starttls_error"):
            n["attempts"] += 1
            n["handshakes"] += session is not None
            n["full"] += session is not None
        cert = (session or {}).get("certificate") or {}
        versions: tuple[str, ...] = ()
        if tls:
            verdicts = tls.get("versions") or {}
            versions = tuple(v for v, verdict in verdicts.items() if verdict == "accepted")
            # Versions pathsec offered itself (not the one the SMTP handshake showed); an
            # accepted one is a handshake the server answered with its whole first flight
            # (ServerHello, certificate, signed key exchange), where pathsec stops.
            reasons = tls.get("version_reasons") or {}
            tried = [
                v
                for v, verdict in (tls.get("versions") or {}).items()
                if verdict != "unknown" and "negotiated by" not in reasons.get(v, "")
            ]
            n["attempts"] += len(tried)
            n["handshakes"] += sum(tls["versions"][v] == "accepted" for v in tried)
        if smtp.get("ehlo_after") is not None:
            seen[_key(r["host"], r["port"])] = Seen(
                tuple(smtp["ehlo_before"]["keywords"]), cert.get("subject_cn"), versions
            )
    return seen, n


# --------------------------------------------------------------------------- pathsec

#: pathsec's console script beside this Python (the venv's), as a user runs it.
PATHSEC = str(Path(sys.executable).with_name("pathsec"))


@dataclass(frozen=True)
class Variant:
    """A way of running pathsec: its row name and its extra command-line arguments."""

    name: str
    args: tuple[str, ...] = ()
    #: Also timed in-process through the library (the row's in-process column).
    library: bool = True
    #: ``--tls`` of the library run (None: the default).
    tls: str | None = None
    #: Handshakes per second and the share of the ceiling mean something for this row (the
    #: version checks only; a cipher enumeration's rounds are not counted).
    handshakes: bool = True


def variants() -> tuple[Variant, ...]:
    """The default audit; with the cipher enumeration (``--tls``), also ``--tls quick``;
    the default without the store."""
    from pathsec.probes.interface import ProbeSettings

    if "tls_depth" not in ProbeSettings.__dataclass_fields__:
        return (Variant("pathsec"), Variant("pathsec --no-store", ("--no-store",), library=False))
    return (
        Variant("pathsec", handshakes=False),
        Variant("pathsec --tls quick", ("--tls", "quick"), tls="quick"),
        Variant("pathsec --no-store", ("--no-store",), library=False, handshakes=False),
    )


def run_cli(
    endpoints: Sequence[Endpoint], workdir: Path, variant: Variant, concurrency: int | None
) -> Run:
    """``pathsec audit --targets-file FILE -o FILE`` in its own process, store on (one
    history file per bench size, kept across runs like a user's)."""
    targets, out = workdir / "targets.txt", workdir / "pathsec-cli.json"
    targets.write_text("".join(f"{ip}:{port}/smtp\n" for ip, port in endpoints), "utf-8")
    cmd = [PATHSEC, "audit", "--targets-file", str(targets), "-o", str(out), *variant.args]
    if concurrency:
        cmd += ["--concurrency", str(concurrency)]
    env = dict(os.environ, PATHSEC_DB=f"sqlite:///{workdir / 'history.sqlite3'}")
    wall, _, rss, cpu = timed(cmd, env)
    seen, n = seen_in_results(json.loads(out.read_text(encoding="utf-8")))
    return Run(
        variant.name,
        len(endpoints),
        wall,
        rss_mb=rss,
        cpu=cpu,
        seen=seen,
        note=f"{n['failed']} failed",
        **{k: n[k] for k in ("handshakes", "full", "attempts")},
    )


def worker_pathsec(
    spec_file: Path, out_file: Path, concurrency: int | None, tls: str | None = None
) -> None:
    """Audit the endpoints in ``spec_file`` through the library, timed from targets in to
    results out; write the time and the results document."""
    raise_nofile()
    from pathsec.audit.engine import Limits
    from pathsec.audit.profiles import load_profile
    from pathsec.audit.run import audit
    from pathsec.audit.targets import parse_target
    from pathsec.probes.interface import ProbeSettings

    endpoints = json.loads(spec_file.read_text(encoding="utf-8"))
    targets = [parse_target(f"{ip}:{port}/smtp") for ip, port in endpoints]  # as the CLI does
    profile = load_profile("reference")
    limits = Limits(concurrency=concurrency) if concurrency else Limits()
    t0, c0 = time.perf_counter(), time.process_time()
    settings = ProbeSettings(tls_depth=cast(Any, tls)) if tls else ProbeSettings()
    result = audit(targets, profile, settings, limits)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = peak_rss_mb()  # the audit's own peak, before the report below is made
    out_file.write_text(
        json.dumps(
            {
                "seconds": seconds,
                "cpu": cpu,
                "rss_mb": rss,
                "findings": len(result.findings),
                "result": json.loads(result.model_dump_json()),
            }
        ),
        encoding="utf-8",
    )


def run_library(
    endpoints: Sequence[Endpoint],
    workdir: Path,
    concurrency: int | None = None,
    variant: Variant = Variant("pathsec"),
) -> Run:
    """Run :func:`worker_pathsec` in a fresh process and read its report."""
    spec, out = workdir / "targets.json", workdir / "pathsec-lib.json"
    spec.write_text(json.dumps(list(endpoints)), encoding="utf-8")
    cmd = [sys.executable, str(Path(__file__).resolve()), "worker-pathsec", str(spec), str(out)]
    if concurrency:
        cmd += ["--concurrency", str(concurrency)]
    if variant.tls:
        cmd += ["--tls", variant.tls]
    wall, _, _, _ = timed(cmd)
    data = json.loads(out.read_text(encoding="utf-8"))
    seen, n = seen_in_results(data["result"])
    rss = data["rss_mb"]
    return Run(
        f"{variant.name} (library)",
        len(endpoints),
        wall,
        inproc=data["seconds"],
        rss_mb=rss,
        seen=seen,
        note=f"{n['failed']} failed, {data['findings']} findings, {data['cpu']:.2f} s CPU",
        **{k: n[k] for k in ("handshakes", "full", "attempts")},
    )


# --------------------------------------------------------------------------- the ceiling


async def _minimal(ip: str, port: int, ctx: ssl.SSLContext) -> bool:
    """TCP, banner, EHLO, STARTTLS, handshake, close: the least a STARTTLS audit does.

    The handshake is driven over memory BIOs (no asyncio TLS transport): the cheapest way
    to shake hands from asyncio, so the ceiling is as high as this machine allows.
    """
    reader, writer = await asyncio.open_connection(ip, port)
    try:
        await reader.readuntil(b"\n")
        writer.write(b"EHLO ceiling.invalid\r\n")
        while (await reader.readuntil(b"\n"))[3:4] == b"-":
            pass
        writer.write(b"STARTTLS\r\n")
        if not (await reader.readuntil(b"\n")).startswith(b"220"):
            return False
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(incoming, outgoing)
        while True:
            try:
                obj.do_handshake()
                done = True
            except ssl.SSLWantReadError:
                done = False
            if out := outgoing.read():
                writer.write(out)
            if done:
                return True
            data = await reader.read(65536)
            if not data:
                return False
            incoming.write(data)
    finally:
        writer.transport.abort()


async def _ceiling(endpoints: Sequence[Endpoint], total: int) -> tuple[int, float]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    sem = asyncio.Semaphore(CEILING_CONCURRENCY)
    ok = 0

    async def one(i: int) -> None:
        nonlocal ok
        ip, port = endpoints[i % len(endpoints)]
        async with sem:
            try:
                async with asyncio.timeout(30):
                    done = await _minimal(ip, port, ctx)
                ok += done
            except (OSError, TimeoutError, ssl.SSLError, asyncio.IncompleteReadError):
                pass

    t0 = time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        for i in range(total):
            tg.create_task(one(i))
    return ok, time.perf_counter() - t0


def worker_ceiling(spec_file: Path, out_file: Path, total: int) -> None:
    """Measure the minimal client's handshakes per second."""
    raise_nofile()
    endpoints = [tuple(e) for e in json.loads(spec_file.read_text(encoding="utf-8"))]
    ok, seconds = asyncio.run(_ceiling(endpoints, total))  # type: ignore[arg-type]
    out_file.write_text(
        json.dumps({"ok": ok, "seconds": seconds, "rss_mb": peak_rss_mb()}), encoding="utf-8"
    )


#: Handshakes of one ceiling run (at least one per endpoint); --ceiling-handshakes sets it.
CEILING_HANDSHAKES = 2000


def run_ceiling(endpoints: Sequence[Endpoint], workdir: Path) -> Run:
    """Run the minimal client in a fresh process over CEILING_HANDSHAKES handshakes."""
    spec, out = workdir / "ceiling.json", workdir / "ceiling-out.json"
    spec.write_text(json.dumps(list(endpoints)), encoding="utf-8")
    total = max(len(endpoints), CEILING_HANDSHAKES)
    wall, _, rss, _ = timed(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "worker-ceiling",
            str(spec),
            str(out),
            "--total",
            str(total),
        ]
    )
    data = json.loads(out.read_text(encoding="utf-8"))
    return Run(
        "ceiling",
        total,
        wall,
        inproc=data["seconds"],
        handshakes=data["ok"],
        attempts=total,
        rss_mb=rss,
        note=f"{total - data['ok']} failed",
    )


# --------------------------------------------------------------------------- nmap


def run_nmap(endpoints: Sequence[Endpoint], scripts: str, workdir: Path) -> Run:
    """nmap -Pn -n -p 25,587 --script SCRIPTS over the addresses; parse its XML."""
    ips = list(dict.fromkeys(ip for ip, _ in endpoints))
    wanted = {_key(ip, port) for ip, port in endpoints}
    for ip in ips:  # loopback only, always
        assert ip.startswith("127."), ip
    hosts = workdir / "nmap-hosts.txt"
    hosts.write_text("\n".join(ips) + "\n", encoding="utf-8")
    xml = workdir / "nmap.xml"
    cmd = [
        "nmap",
        "-Pn",
        "-n",
        "-p",
        ",".join(str(p) for p in PORTS),
        "--script",
        scripts,
        "-oX",
        str(xml),
        "-iL",
        str(hosts),
    ]
    wall, _, rss, _ = timed(cmd)
    root = ET.parse(xml).getroot()
    finished = root.find("runstats/finished")
    elapsed = float(finished.get("elapsed", wall)) if finished is not None else wall
    seen: dict[str, Seen] = {}
    for host in root.iter("host"):
        addr_el = host.find("address")
        if addr_el is None:
            continue
        ip = addr_el.get("addr", "")
        for port_el in host.iter("port"):
            key = _key(ip, int(port_el.get("portid", "0")))
            if key not in wanted:
                continue
            s = Seen()
            for script in port_el.iter("script"):
                sid = script.get("id")
                if sid == "smtp-commands":
                    parts = [p.strip() for p in script.get("output", "").split("\n")[0].split(",")]
                    s.keywords = tuple(p.split()[0].upper() for p in parts[1:] if p)
                elif sid == "ssl-cert":
                    for table in script.iter("table"):
                        if table.get("key") == "subject":
                            for elem in table.iter("elem"):
                                if elem.get("key") == "commonName":
                                    s.subject_cn = elem.text
                elif sid == "ssl-enum-ciphers":
                    s.versions = tuple(
                        sorted(
                            t.get("key", "")
                            for t in script.findall("table")
                            if (t.get("key") or "").startswith(("TLS", "SSL"))
                        )
                    )
            seen[key] = s
    return Run("nmap " + scripts, len(endpoints), wall, inproc=elapsed, rss_mb=rss, seen=seen)


def compare(pathsec: Run, other: Run) -> list[str]:
    """Differences between what pathsec and ``other`` saw (empty: a fair comparison)."""
    problems: list[str] = []
    for key in sorted(set(pathsec.seen) | set(other.seen)):
        a, b = pathsec.seen.get(key), other.seen.get(key)
        if a is None or b is None:
            problems.append(f"{key}: seen by {'pathsec' if a else other.tool} only")
            continue
        if b.keywords is not None and b.keywords != a.keywords:
            problems.append(f"{key}: EHLO {a.keywords} vs {b.keywords}")
        if (b.subject_cn is not None or "ssl-cert" in other.tool) and b.subject_cn != a.subject_cn:
            problems.append(f"{key}: certificate CN {a.subject_cn} vs {b.subject_cn}")
        if b.versions is not None and tuple(sorted(b.versions)) != tuple(sorted(a.versions or ())):
            problems.append(f"{key}: TLS versions {a.versions} vs {b.versions}")
    return problems


# --------------------------------------------------------------------------- table


COLUMNS = (
    "endpoints",
    "tool",
    "seconds",
    "in-process s",
    "endpoints/s",
    "vs nmap cmd+cert",
    "vs nmap +enum",
    "handshakes/s",
    "% of ceiling",
    "peak RSS MB",
)


def table(rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table with COLUMNS."""
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
    line = "| " + " | ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    return "\n".join([line, sep, *body])


@dataclass
class Row:
    """One tool at one size: medians of its interleaved runs."""

    tool: str
    endpoints: int
    seconds: float  # whole process, start to exit
    inproc: float | None
    handshakes: int = 0
    rss_mb: float | None = None

    @property
    def rate(self) -> float:
        """Endpoints per second, whole process."""
        return self.endpoints / self.seconds if self.seconds else 0.0

    @property
    def hs_rate(self) -> float:
        """Handshakes per second over the in-process time."""
        return self.handshakes / self.inproc if self.inproc else 0.0


def median_row(
    runs: Sequence[Run],
    inproc_runs: Sequence[Run] = (),
    name: str | None = None,
    handshakes: bool = True,
) -> Row:
    """Medians of ``runs`` (whole process) and of ``inproc_runs`` (default: the same runs)."""
    inner = [r.inproc for r in (inproc_runs or runs) if r.inproc is not None]
    rss = [r.rss_mb for r in runs if r.rss_mb is not None]
    return Row(
        name or runs[0].tool,
        runs[0].endpoints,
        statistics.median(r.seconds for r in runs),
        statistics.median(inner) if inner else None,
        handshakes=(inproc_runs or runs)[0].handshakes if handshakes else 0,
        rss_mb=max(rss) if rss else None,
    )


def _row(row: Row, n1: Row | None, n2: Row | None, ceiling: Row | None) -> list[str]:
    def ratio(other: Row | None) -> str:
        if other is None or row is other or not other.rate:
            return "-"
        return f"{row.rate / other.rate:.1f}x"

    hs = f"{row.hs_rate:,.0f}" if row.handshakes and row.inproc else "-"
    pct = (
        f"{100 * row.hs_rate / ceiling.hs_rate:.0f}%"
        if ceiling and row.handshakes and row.inproc and ceiling.hs_rate
        else "-"
    )
    return [
        str(row.endpoints),
        row.tool,
        f"{row.seconds:.2f}",
        f"{row.inproc:.2f}" if row.inproc is not None else "-",
        f"{row.rate:,.0f}",
        ratio(n1),
        ratio(n2),
        hs,
        pct,
        f"{row.rss_mb:.0f}" if row.rss_mb is not None else "-",
    ]


# --------------------------------------------------------------------------- runs


SCRIPTS_CERT = "smtp-commands,ssl-cert"
SCRIPTS_ENUM = "smtp-commands,ssl-cert,ssl-enum-ciphers"


def _runs(runs: Sequence[Run], inproc: bool = False) -> str:
    return ", ".join(f"{(r.inproc if inproc else r.seconds) or 0:.2f}" for r in runs)


@dataclass(frozen=True)
class Options:
    """What one bench invocation runs."""

    nmap: bool = True
    concurrency: int | None = None
    repeat: int = 3
    enum_repeat: int = 3
    variants: tuple[Variant, ...] = ()


#: Issue 20's targets: (endpoints, the nmap run compared with, the ratio asked for).
TARGETS = ((200, "nmap cmd+cert", 1.5), (1000, "nmap cmd+cert", 2.0), (200, "nmap+enum", 10.0))


def floors(n: int, clis: dict[str, list[Run]], n1s: Sequence[Run], n2s: Sequence[Run]) -> list[str]:
    """What no client can beat on this machine, from this run's CPU figures (medians).

    The SMTP servers share the machine's CPUs with the client, so a run cannot end before
    the servers have done the work its connections ask for: their CPU seconds spread over
    their processes (at most the machine's CPUs). With the client's own CPU added, both
    spread over every CPU, the bound tightens. A target whose required seconds lie below
    the first bound cannot be met by any client making the same connections here; above
    it, what the servers leave of the CPUs in that time is the client's whole budget
    (start-up, audit, output and store).
    """
    cpus = os.cpu_count() or 1
    nmaps = {"nmap cmd+cert": n1s, "nmap+enum": n2s}
    out = []
    for name, runs in clis.items():
        if "--no-store" in name:
            continue
        servers_cpu = statistics.median(r.server_cpu for r in runs)
        client_cpu = statistics.median(r.cpu or 0 for r in runs)
        servers_only = servers_cpu / min(cpus, SERVER_PROCESSES)
        with_client = max(client_cpu, (servers_cpu + client_cpu) / cpus)
        line = (
            f"[{n}] {name}: lower bounds of the wall clock here: servers' work alone "
            f"{servers_only:.2f} s, with pathsec's CPU {with_client:.2f} s (measured "
            f"{statistics.median(r.seconds for r in runs):.2f} s)"
        )
        for size, other, ratio in TARGETS:
            if size != n or not nmaps[other]:
                continue
            # nmap's runs can be bimodal (a 1 s retransmission): its median and its fastest.
            times = [r.seconds for r in nmaps[other]]
            bases = {"median": statistics.median(times), "fastest": min(times)}
            if bases["fastest"] > 0.8 * bases["median"]:  # not bimodal: the median alone
                del bases["fastest"]
            for label, base in bases.items():
                need = base / ratio
                budget = min(need, need * cpus - servers_cpu)  # CPU left for the client
                verdict = (
                    "out of reach for any client making these connections"
                    if need < servers_only
                    else f"leaves pathsec {budget:.2f} s of CPU (it used {client_cpu:.2f} s)"
                )
                line += (
                    f"; {ratio:g}x {other} ({label} {base:.2f} s) needs <= {need:.2f} s: {verdict}"
                )
        out.append(line)
    return out


def compare_size(n: int, net: int, opts: Options) -> list[list[str]]:
    """One size: servers up, then every tool ``repeat`` times, interleaved; table rows."""
    endpoints = layout(n, net)
    ceilings: list[Run] = []
    clis: dict[str, list[Run]] = {v.name: [] for v in opts.variants}
    libs: dict[str, list[Run]] = {v.name: [] for v in opts.variants if v.library}
    n1s: list[Run] = []
    n2s: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="pathsec-bench-") as tmp:
        work = Path(tmp)
        with servers(endpoints, work) as pids:
            # The servers' own CPU during each run: on a shared machine it bounds what any
            # client can reach (the default audit's TLS 1.2 rounds each make the server sign).
            def served(run: Run, before: float) -> Run:
                run.server_cpu = process_cpu(pids) - before
                return run

            # The machine may be busy with other work during any one run: every tool runs
            # `repeat` times, interleaved, and the median counts. nmap with
            # ssl-enum-ciphers is slow; it runs `enum_repeat` times.
            for i in range(opts.repeat):
                ceilings.append(served(run_ceiling(endpoints, work), process_cpu(pids)))
                for v in opts.variants:
                    c0 = process_cpu(pids)
                    clis[v.name].append(served(run_cli(endpoints, work, v, opts.concurrency), c0))
                    if v.library:
                        c0 = process_cpu(pids)
                        lib = run_library(endpoints, work, opts.concurrency, v)
                        libs[v.name].append(served(lib, c0))
                if opts.nmap:
                    c0 = process_cpu(pids)
                    n1s.append(served(run_nmap(endpoints, SCRIPTS_CERT, work), c0))
                    if i < opts.enum_repeat:
                        c0 = process_cpu(pids)
                        n2s.append(served(run_nmap(endpoints, SCRIPTS_ENUM, work), c0))
    ceiling = median_row(ceilings)
    n1 = median_row(n1s) if n1s else None
    n2 = median_row(n2s) if n2s else None
    rows = [
        median_row(clis[v.name], libs.get(v.name, ()), v.name, handshakes=v.handshakes)
        for v in opts.variants
    ]
    print(
        f"[{n}] whole-process seconds per run: "
        + "; ".join(f"{name} {_runs(runs)}" for name, runs in clis.items())
        + (f"; nmap {_runs(n1s)}; nmap+enum {_runs(n2s)}" if opts.nmap else "")
        + f"; ceiling {_runs(ceilings)}"
    )
    print(
        f"[{n}] whole-process CPU seconds per run (user + system): "
        + "; ".join(
            f"{name} {', '.join(f'{r.cpu or 0:.2f}' for r in runs)} (median "
            f"{statistics.median(r.cpu or 0 for r in runs):.2f})"
            for name, runs in clis.items()
        )
    )
    print(
        f"[{n}] in-process seconds per run: "
        + "; ".join(f"{name} library {_runs(runs, True)}" for name, runs in libs.items())
        + (f"; nmap {_runs(n1s, True)}; nmap+enum {_runs(n2s, True)}" if opts.nmap else "")
        + f"; ceiling {_runs(ceilings, True)}"
    )
    for name, runs in libs.items():
        print(f"[{n}] {name} library: {runs[-1].note}")
    served_by = {
        **{name: runs for name, runs in clis.items()},
        **({"nmap": n1s, "nmap+enum": n2s} if opts.nmap else {}),
    }
    print(
        f"[{n}] servers' CPU seconds per run (median, {SERVER_PROCESSES} processes): "
        + "; ".join(
            f"{name} {statistics.median(r.server_cpu for r in runs):.2f}"
            for name, runs in served_by.items()
            if runs
        )
    )
    for v in opts.variants:
        last = clis[v.name][-1]
        got = len(last.seen)
        print(f"[{n}] {v.name}: {last.note}; {got}/{n} endpoints with STARTTLS + certificate")
        if got < n:
            print(f"[{n}] WARNING: {n - got} endpoints not fully audited by {v.name}")
        if "--no-store" in v.args:
            continue
        for other in (*libs.get(v.name, ())[-1:], *n1s[-1:], *n2s[-1:]):
            diff = compare(last, other)
            print(f"[{n}] {v.name} vs {other.tool}: {'same' if not diff else diff[:5]}")
            if diff:
                print(f"[{n}] {len(diff)} differences: the comparison is not fair")
    for v in opts.variants:
        if not (v.library and v.handshakes):
            continue
        lib = libs[v.name][-1]
        row = next(r for r in rows if r.tool == v.name)
        print(
            f"[{n}] {v.name}: {lib.handshakes} handshakes answered ({lib.full} completed, "
            f"{lib.handshakes - lib.full} to the server's first flight), {lib.attempts} offers"
        )
        if ceiling.hs_rate and row.inproc:
            full_rate = lib.full / row.inproc
            print(
                f"[{n}] {v.name}: completed handshakes alone {full_rate:,.0f}/s = "
                f"{100 * full_rate / ceiling.hs_rate:.0f}% of the ceiling's "
                f"{ceiling.hs_rate:,.0f}/s"
            )
    if opts.nmap and n1s:
        for line in floors(n, clis, n1s, n2s):
            print(line)
    nostore = [v.name for v in opts.variants if "--no-store" in v.args]
    if nostore:
        with_store = statistics.median(r.seconds for r in clis[opts.variants[0].name])
        without = statistics.median(r.seconds for r in clis[nostore[0]])
        print(
            f"[{n}] history store: {with_store - without:+.2f} s whole process "
            f"({with_store:.2f} s with, {without:.2f} s without; medians)"
        )
    return [_row(r, n1, n2, ceiling) for r in (*rows, n1, n2, ceiling) if r is not None]


def scaling(sizes: Sequence[int], net: int, opts: Options) -> list[list[str]]:
    """Each pathsec variant once per size: whole process (and in-process where it has a
    library run); peak memory."""
    out: list[list[str]] = []
    for n in sizes:
        endpoints = layout(n, net)
        with tempfile.TemporaryDirectory(prefix="pathsec-bench-") as tmp:
            work = Path(tmp)
            with servers(endpoints, work):
                for v in opts.variants:
                    cli = run_cli(endpoints, work, v, opts.concurrency)
                    line = (
                        f"[{n}] {cli.tool}: {cli.note}, {len(cli.seen)}/{n} with STARTTLS + "
                        f"certificate, peak RSS {cli.rss_mb:.0f} MB"
                    )
                    lib: list[Run] = []
                    if v.library:
                        lib.append(run_library(endpoints, work, opts.concurrency, v))
                        line += (
                            f"; library: {lib[0].note}, peak RSS of the audit alone "
                            f"{lib[0].rss_mb:.0f} MB"
                        )
                    print(line)
                    row = median_row([cli], lib, cli.tool, handshakes=v.handshakes)
                    out.append(_row(row, None, None, None))
    return out


def plan_and_firewall() -> str:
    """bench_plan.py's 500-server deployment: load + plan + nftables rules for every point."""
    sys.path.insert(0, str(HERE))
    import bench_plan

    from pathsec.catalog import load_catalog
    from pathsec.firewall import GeneratorOptions, Selection, Target, generate
    from pathsec.plan import build_plan
    from pathsec.topology import load_deployment_text

    catalog = load_catalog()
    text = bench_plan.generate()
    t0 = time.perf_counter()
    dep = load_deployment_text(text, "<bench>")
    t1 = time.perf_counter()
    plan = build_plan(catalog, dep)
    t2 = time.perf_counter()
    # Paths whose protocol the reference leaves open need an explicit choice (as
    # `pathsec firewall --protocol PATH=both` would give): both, for the bench.
    open_paths = {f.path_id: ("tcp", "udp") for f in plan.flows if f.protocol is None}
    options = GeneratorOptions(catalog=catalog, protocols=open_paths)  # type: ignore[arg-type]
    t2 = time.perf_counter()  # (the choice above is the user's input, not generation)
    try:
        files = generate(plan, Target.nftables, Selection(), options)
        fw = f"{len(files)} nftables files, {sum(len(f.content) for f in files):,} bytes"
    except Exception as exc:  # a flow the target refuses: report, do not hide
        fw = f"nftables refused: {str(exc)[:160]}"
    t3 = time.perf_counter()
    return (
        f"{len(dep.servers)} servers, {len(dep.sites)} sites: load {t1 - t0:.3f} s, "
        f"plan {t2 - t1:.3f} s ({len(plan.flows)} flows), firewall {t3 - t2:.3f} s ({fw}); "
        f"total {t3 - t0:.3f} s"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Parse flags, run the selected measurements, print the table."""
    global CEILING_HANDSHAKES
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd")
    wp = sub.add_parser("worker-pathsec")
    wp.add_argument("spec", type=Path)
    wp.add_argument("out", type=Path)
    wp.add_argument("--concurrency", type=int)
    wp.add_argument("--tls", help="the library run's --tls (default: pathsec's default)")
    wc = sub.add_parser("worker-ceiling")
    wc.add_argument("spec", type=Path)
    wc.add_argument("out", type=Path)
    wc.add_argument("--total", type=int, default=2000)
    p.add_argument("--sizes", default="200,1000", help="comma-separated endpoint counts")
    p.add_argument("--no-nmap", action="store_true", help="skip the nmap runs")
    p.add_argument("--scaling", action="store_true", help="pathsec at 100/1000/10000 endpoints")
    p.add_argument("--scaling-sizes", default="100,1000,10000")
    p.add_argument("--plan", action="store_true", help="also time plan + firewall (500 servers)")
    p.add_argument("--net", type=int, default=77, help="second octet of the 127.x addresses")
    p.add_argument("--concurrency", type=int, help="pathsec's global connection limit")
    p.add_argument("--repeat", type=int, default=5, help="runs per tool; the median counts")
    p.add_argument(
        "--enum-repeat", type=int, default=3, help="runs of nmap with ssl-enum-ciphers (slow)"
    )
    p.add_argument("--ceiling-handshakes", type=int, default=CEILING_HANDSHAKES)
    args = p.parse_args(argv)
    if args.cmd == "worker-pathsec":
        worker_pathsec(args.spec, args.out, args.concurrency, args.tls)
        return 0
    if args.cmd == "worker-ceiling":
        worker_ceiling(args.spec, args.out, args.total)
        return 0
    CEILING_HANDSHAKES = args.ceiling_handshakes
    raise_nofile()
    from pathsec.audit.engine import loop_factory

    print(f"bench_audit: {ensure_bytecode()}")
    python = sys.version.split()[0]
    loop = "uvloop" if loop_factory() else "asyncio"
    print(
        f"bench_audit: {os.cpu_count()} CPUs, {ssl.OPENSSL_VERSION}, Python {python}, "
        f"pathsec event loop: {loop}, servers on {'uvloop' if SERVER_UVLOOP else 'asyncio'}, "
        f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    if not Path(PATHSEC).exists():
        print(f"bench_audit: no pathsec console script at {PATHSEC}", file=sys.stderr)
        return 2
    opts = Options(
        variants=variants(),
        nmap=not args.no_nmap,
        concurrency=args.concurrency,
        repeat=args.repeat,
        enum_repeat=min(args.enum_repeat, args.repeat),
    )
    rows: list[list[str]] = []
    sizes = [int(s) for s in args.sizes.split(",") if s]
    for n in sizes:
        rows += compare_size(n, args.net, opts)
    if args.scaling:
        rows += scaling([int(s) for s in args.scaling_sizes.split(",")], args.net, opts)
    if rows:
        print()
        print(table(rows))
    if args.plan:
        print()
        print("plan + firewall: " + plan_and_firewall())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
