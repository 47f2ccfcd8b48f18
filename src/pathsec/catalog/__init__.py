"""Stage 1, the catalog: every data path and rule of the reference as validated data.

Public API: :func:`load_catalog`, :class:`Catalog`, :class:`DataPath`, :class:`Rule`,
:class:`PathFilter` and :func:`select`.
"""

from pathsec.catalog.loader import load_builtin, load_catalog
from pathsec.catalog.models import (
    Auth,
    Catalog,
    DataPath,
    Mechanism,
    Port,
    PortRange,
    Protocol,
    Role,
    Rule,
    RuleKind,
    Scope,
    Section,
)
from pathsec.catalog.query import PathFilter, select

__all__ = [
    "Auth",
    "Catalog",
    "DataPath",
    "Mechanism",
    "PathFilter",
    "Port",
    "PortRange",
    "Protocol",
    "Role",
    "Rule",
    "RuleKind",
    "Scope",
    "Section",
    "load_builtin",
    "load_catalog",
    "select",
]
