"""Benchmark: pathsec's start-up and what storing a run adds (no root, no network).

    python bench/bench_startup.py                 # 21 runs each, medians
    python bench/bench_startup.py --runs 51 --endpoints 200,1000

* ``pathsec --version``, ``pathsec --help`` and ``pathsec audit --help``: whole processes
  through the console script, start to exit.
* The history store: a fresh process loads a results document of N endpoints (like those
  of bench_audit.py: STARTTLS SMTP, three findings each), then times
  ``from pathsec.store import save_run; save_run(...)`` into a history file that already
  holds runs: the import and the write, which is what the store adds to ``pathsec audit``.

Prints medians (and the fastest run) per measurement.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PATHSEC = str(Path(sys.executable).with_name("pathsec"))

#: Runs in a fresh interpreter: load the results (untimed), then import the store and save.
_SAVE = """
import sys, time
from pathlib import Path
from pathsec.audit.resultfile import load_result
result = load_result(Path(sys.argv[1]))
t0 = time.perf_counter()
from pathsec.store import save_run
save_run(result, sys.argv[2])
print(time.perf_counter() - t0, "sqlalchemy" in sys.modules)
"""


def whole_process(argv: list[str], runs: int) -> list[float]:
    """Seconds from start to exit of ``pathsec ARGV``, ``runs`` times."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([PATHSEC, *argv], stdout=subprocess.DEVNULL, check=True, timeout=60)
        out.append(time.perf_counter() - t0)
    return out


def results_document(n: int) -> str:
    """A results document of ``n`` STARTTLS SMTP endpoints shaped like bench_audit's."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from report.sample import sample_result

    base = sample_result()
    ep = next(e for e in base.endpoints if e.port == 25)
    found = [f for f in base.findings if f.port == 25][:3]
    endpoints = [
        ep.model_copy(update={"host": f"127.77.{i // 250}.{i % 250 + 1}"}) for i in range(n)
    ]
    findings = [f.model_copy(update={"host": e.host}) for e in endpoints for f in found]
    return base.model_copy(
        update={"endpoints": tuple(endpoints), "findings": tuple(findings)}
    ).model_dump_json()


def store_seconds(n: int, runs: int) -> tuple[list[float], bool]:
    """What ``save_run`` takes for ``n`` endpoints in a fresh process, ``runs`` times."""
    with tempfile.TemporaryDirectory(prefix="pathsec-bench-") as tmp:
        results = Path(tmp) / "r.json"
        results.write_text(results_document(n), "utf-8")
        url = f"sqlite:///{Path(tmp) / 'history.sqlite3'}"
        times: list[float] = []
        imported = False
        for i in range(runs + 1):
            out = subprocess.run(
                [sys.executable, "-c", _SAVE, str(results), url],
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
            ).stdout.split()
            if i:  # the first run sets up a new file (SQLAlchemy creates the tables)
                times.append(float(out[0]))
                imported |= out[1] == "True"
        return times, imported


def _fmt(label: str, ts: list[float]) -> str:
    return (
        f"{label}: median {statistics.median(ts):.3f} s, fastest {min(ts):.3f} s ({len(ts)} runs)"
    )


def main() -> int:
    """Run the measurements and print them."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--endpoints", default="200", help="comma-separated store sizes")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_audit import ensure_bytecode

    print(f"bench_startup: {ensure_bytecode()}")
    for argv in (["--version"], ["--help"], ["audit", "--help"]):
        print(_fmt("pathsec " + " ".join(argv), whole_process(argv, args.runs)))
    for n in (int(x) for x in args.endpoints.split(",") if x):
        ts, imported = store_seconds(n, args.runs)
        sa = "SQLAlchemy imported" if imported else "no SQLAlchemy"
        print(_fmt(f"store, {n} endpoints (import + save_run, {sa})", ts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
