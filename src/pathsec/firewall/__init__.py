"""Stage 3, firewall rules: least-privilege rules from a plan for nftables, iptables,
Windows Firewall, aerleon and a CSV change-request matrix.

Public API: :func:`generate`, :class:`Target`, :class:`Selection`,
:class:`GeneratorOptions`, :class:`RenderedFile`, :class:`FirewallError`; :func:`render`
for the files with a :class:`PointSummary` per enforcement point.
"""

from pathsec.firewall.interface import (
    GENERATORS,
    Capabilities,
    FirewallError,
    Generator,
    GeneratorOptions,
    HostFormat,
    PointSummary,
    Refusal,
    RenderedFile,
    Rendering,
    Selection,
    Target,
    generate,
    generator_for,
    render,
)

__all__ = [
    "GENERATORS",
    "Capabilities",
    "FirewallError",
    "Generator",
    "GeneratorOptions",
    "HostFormat",
    "PointSummary",
    "Refusal",
    "RenderedFile",
    "Rendering",
    "Selection",
    "Target",
    "generate",
    "generator_for",
    "render",
]
