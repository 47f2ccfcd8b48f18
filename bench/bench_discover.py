"""Benchmark: ``pathsec discover`` against ``pathsec audit`` on the same endpoints (root).

    python bench/bench_discover.py              # 3 interleaved runs of each
    python bench/bench_discover.py --repeat 5

Starts the lab on its real ports in a network namespace of its own (the round-trip test's
harness, tests/discover/netlab.py), then times whole processes, start to exit, defaults on:
``pathsec discover`` over the lab's /24 (254 addresses x 21 ports) and over its 4 server
addresses, and ``pathsec audit --targets-file`` over exactly the same endpoints (written
from discovery's own target list). Discovery adds a second round (DNS and Kerberos with the
AD domain) and leaves out the audit's follow-up TLS probes; the audit grades what it saw.
Prints best and median seconds, endpoints per second and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from discover.netlab import can_run, lab_in_namespace
from pathsec.discover.scope import endpoint_targets, parse_scope, target_line

SETS = {
    "lab /24": ["127.0.10.0/24"],
    "4 servers": ["127.0.10.10", "127.0.10.11", "127.0.10.12", "127.0.10.130"],
}
#: With --large: the /20 around the lab (4,094 addresses, the default --max-hosts bound).
LARGE = {"lab /20": ["127.0.0.0/20"]}


def main() -> int:
    """Run the comparison and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", default="default")
    ap.add_argument("--large", action="store_true", help="also the /20 (86,000 endpoints)")
    args = ap.parse_args()
    why = can_run()
    if why is not None:
        print(f"bench_discover: {why}", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory() as tmp, lab_in_namespace(args.profile, Path(tmp)) as lab:
        work = Path(tmp)
        for label, targets in (SETS | LARGE if args.large else SETS).items():
            scope = parse_scope(targets)
            lines = [target_line(t) for t in endpoint_targets(scope.addresses)]
            tfile = work / f"targets-{len(lines)}.txt"
            tfile.write_text("\n".join(lines) + "\n")
            times: dict[str, list[float]] = {"discover": [], "audit": []}
            rss: dict[str, int] = {"discover": 0, "audit": 0}
            for _ in range(args.repeat):
                for tool in ("discover", "audit"):
                    if tool == "discover":
                        argv = ["discover", *targets, "-q", "-o", str(work / "d.yaml")]
                        argv.append("--force")
                    else:
                        argv = ["audit", "--targets-file", str(tfile), "-q", "-f", "json"]
                        argv += ["-o", str(work / "a.json"), "--no-store"]
                    start = time.monotonic()
                    proc = lab.run(*argv, prefix=("/usr/bin/time", "-f", "rss-kb %M"))
                    times[tool].append(time.monotonic() - start)
                    kb = [ln for ln in proc.stderr.splitlines() if ln.startswith("rss-kb ")]
                    rss[tool] = max(rss[tool], int(kb[-1].split()[1]) if kb else 0)
                    if tool == "discover" and proc.returncode != 0:
                        print(proc.stderr, file=sys.stderr)
                        return 3
            for tool, ts in times.items():
                mb = rss[tool] / 1024
                rows.append((label, len(lines), tool, min(ts), statistics.median(ts), mb))
    print("| endpoints | set | tool | best s | median s | endpoints/s | vs audit | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    best = {(r[0], r[2]): r[3] for r in rows}
    for label, n, tool, low, mid, mb in rows:
        ratio = best[(label, "audit")] / low
        print(
            f"| {n:,} | {label} | {tool} | {low:.2f} | {mid:.2f} | {n / low:,.0f} "
            f"| {ratio:.2f}x | {mb:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
