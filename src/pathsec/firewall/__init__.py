"""Stage 3, firewall rules: least-privilege rules from a plan for nftables, iptables,
Windows Firewall, aerleon and a CSV change-request matrix.

Public API: :func:`generate`, :class:`Target`, :class:`Selection`,
:class:`GeneratorOptions`, :class:`RenderedFile`, :class:`FirewallError`.
"""

from pathsec.firewall.interface import (
    GENERATORS,
    Capabilities,
    FirewallError,
    Generator,
    GeneratorOptions,
    RenderedFile,
    Selection,
    Target,
    generate,
    generator_for,
)

__all__ = [
    "GENERATORS",
    "Capabilities",
    "FirewallError",
    "Generator",
    "GeneratorOptions",
    "RenderedFile",
    "Selection",
    "Target",
    "generate",
    "generator_for",
]
