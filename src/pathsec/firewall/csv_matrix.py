"""csv: the change-request matrix firewall teams ask for.

One row per enforcement point and consolidated rule: where it is enforced, the rule,
source and destination (set name, hosts, addresses), protocol, ports, the purposes in
English and Chinese (the catalog paths' names), every catalog path id and the flows (their
ids, or their count and the point's ``.flows`` side file when a cell would be too long
for a spreadsheet).
"""

from __future__ import annotations

from pathsec.firewall.consolidate import consolidated_points, side_file_text
from pathsec.firewall.interface import (
    Capabilities,
    Generator,
    GeneratorOptions,
    RenderedFile,
    Rendering,
    Selection,
    Target,
)
from pathsec.plan.models import Plan
from pathsec.quoting import csv_text

HEADER = (
    "enforced at",
    "rule",
    "source",
    "source hosts",
    "source addresses",
    "destination",
    "destination hosts",
    "destination addresses",
    "protocol",
    "ports",
    "purpose",
    "purpose (zh)",
    "path ids",
    "flows",
    "flow ids",
)
MATRIX_FILE = "firewall-matrix.csv"
#: Longest flow-id cell written in full (spreadsheets hold 32,767 characters a cell).
CELL_MAX = 30_000


def render_matrix(plan: Plan, selection: Selection, options: GeneratorOptions) -> Rendering:
    """The matrix as CSV text (RFC 4180, ``\\r\\n`` line ends; every cell through
    :func:`~pathsec.quoting.csv_cell`, so no formula can start a cell), side files and
    summary."""
    rows: list[tuple[str, ...]] = [HEADER]
    files: list[RenderedFile] = []
    summaries = []
    for c in consolidated_points(plan, selection, options, None):
        point = c.point
        where = f"{'firewall' if point.kind == 'network' else 'host'} {point.name}"
        side_needed = False
        for rule in c.rules:
            paths = list(dict.fromkeys(r.path.id for r in rule.flows))
            names = {r.path.id: r.path.name for r in rule.flows}
            labels = rule.flow_labels()
            ids = "\n".join(labels)
            if len(ids) > CELL_MAX:
                ids = f"{len(labels)} flows: see {point.slug}.flows"
                side_needed = True
            rows.append(
                (
                    where,
                    rule.tag,
                    rule.sources.label,
                    " ".join(rule.sources.hosts),
                    " ".join(rule.sources.texts()),
                    rule.destinations.label,
                    " ".join(rule.destinations.hosts),
                    " ".join(rule.destinations.texts()),
                    rule.protocol,
                    " ".join(rule.port_texts()),
                    "; ".join(names[p].en for p in paths),
                    "; ".join(names[p].zh for p in paths),
                    " ".join(paths),
                    str(len(labels)),
                    ids,
                )
            )
        if side_needed:
            files.append(RenderedFile(f"{point.slug}.flows", side_file_text(point.name, c.rules)))
        summaries.append(c.summary("csv"))
    matrix = RenderedFile(MATRIX_FILE, csv_text(rows, lineterminator="\r\n"))
    return Rendering((matrix, *files), tuple(summaries))


class CsvMatrixGenerator(Generator):
    """The firewall change-request matrix as CSV."""

    target = Target.csv
    capabilities = Capabilities(
        network_firewalls=True,
        host_firewalls=True,
        description="change-request matrix, one row per enforcement point and rule",
    )

    def render(self, plan: Plan, selection: Selection, options: GeneratorOptions) -> Rendering:
        """``firewall-matrix.csv`` (and side files for rules with very many flows)."""
        return render_matrix(plan, selection, options)
