"""csv: the change-request matrix firewall teams ask for.

One row per enforcement point, flow and protocol: where it is enforced, source and
destination with their addresses, protocol, port, purpose in English and Chinese (the
catalog path's name) and the path and flow ids.
"""

from __future__ import annotations

import csv
import io

from pathsec.firewall.interface import (
    Capabilities,
    Generator,
    GeneratorOptions,
    RenderedFile,
    Rendering,
    Selection,
    Target,
)
from pathsec.firewall.rules import enforcement_points
from pathsec.plan.models import Plan

HEADER = (
    "enforced at",
    "source",
    "source addresses",
    "destination",
    "destination addresses",
    "protocol",
    "port",
    "purpose",
    "purpose (zh)",
    "path id",
    "flow id",
)
MATRIX_FILE = "firewall-matrix.csv"


def render_matrix(plan: Plan, selection: Selection, options: GeneratorOptions) -> str:
    """The matrix as CSV text (RFC 4180, ``\\r\\n`` line ends)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADER)
    for point in enforcement_points(plan, selection, options):
        where = f"{'firewall' if point.kind == 'network' else 'host'} {point.name}"
        for rule in point.rules:
            writer.writerow(
                (
                    where,
                    rule.flow.source,
                    " ".join(t for fm in rule.families for t in fm.source_texts),
                    rule.flow.destination,
                    " ".join(t for fm in rule.families for t in fm.destination_texts),
                    rule.protocol,
                    str(rule.ports),
                    rule.path.name.en,
                    rule.path.name.zh,
                    rule.flow.path_id,
                    rule.flow.id,
                )
            )
    return buf.getvalue()


class CsvMatrixGenerator(Generator):
    """The firewall change-request matrix as CSV."""

    target = Target.csv
    capabilities = Capabilities(
        network_firewalls=True,
        host_firewalls=True,
        interfaces=False,
        description="change-request matrix, one row per enforcement point, flow and protocol",
    )

    def render(self, plan: Plan, selection: Selection, options: GeneratorOptions) -> Rendering:
        """One file, ``firewall-matrix.csv``."""
        return Rendering((RenderedFile(MATRIX_FILE, render_matrix(plan, selection, options)),))
