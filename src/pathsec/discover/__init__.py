"""Discovery: find an Exchange 2007 organisation on the network and write a draft deployment.

``pathsec discover TARGET...`` probes the Exchange and Active Directory ports of every
address given (:mod:`~pathsec.discover.scope`) through the audit's engine, fingerprints
each address with data-driven rules (:mod:`~pathsec.discover.rules`), estimates names and
versions (:mod:`~pathsec.discover.versions`) and writes a draft deployment whose comments,
and side file, give the evidence for every value (:mod:`~pathsec.discover.draft`).

Public API: :func:`parse_scope`, :func:`discover` (probe, then :func:`conclude`),
:func:`report_json`.
"""

from __future__ import annotations

from pathsec.discover.run import Discovery, conclude, discover, report_json
from pathsec.discover.scope import DEFAULT_MAX_HOSTS, Scope, parse_scope

__all__ = [
    "DEFAULT_MAX_HOSTS",
    "Discovery",
    "Scope",
    "conclude",
    "discover",
    "parse_scope",
    "report_json",
]
