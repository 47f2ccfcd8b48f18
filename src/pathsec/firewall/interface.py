"""The generator contract: one ABC, its capabilities, its errors and the registry table.

Every target (nftables, iptables, windows, aerleon, csv) is one module with one
:class:`Generator` subclass. A generator declares what it supports in
:class:`Capabilities`; :func:`generate` refuses a selection the target cannot express
with a :class:`FirewallError` before the generator runs. A flow the plan itself makes
impossible is a :class:`FirewallError`; a flow one target cannot express (a port range on
Windows Server 2003) is a :class:`Refusal` in that point's :class:`PointSummary` and in the
file's header, and no rule is written for it. Nothing is dropped or widened silently.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from pathsec.catalog import Catalog
from pathsec.errors import PathsecError
from pathsec.gctune import paused_gc
from pathsec.plan.models import Plan
from pathsec.quoting import encode_ps1, encode_reg

L4 = Literal["tcp", "udp"]
HostFormat = Literal["own", "any"]
Encoding = Literal["utf-8", "utf-8-bom", "utf-16le-bom"]


class FirewallError(PathsecError):
    """A flow or a selection that a target cannot express; the message names the flow."""


class Target(StrEnum):
    """Output formats of ``pathsec firewall``."""

    nftables = "nftables"
    iptables = "iptables"
    windows = "windows"
    aerleon = "aerleon"
    csv = "csv"


@dataclass(frozen=True)
class Capabilities:
    """What a generator can express; :func:`generate` refuses the rest."""

    network_firewalls: bool
    host_firewalls: bool
    description: str


@dataclass(frozen=True)
class Selection:
    """Which enforcement points to write: one network firewall, one host, or all (both None)."""

    firewall: str | None = None
    host: str | None = None

    def __post_init__(self) -> None:
        if self.firewall is not None and self.host is not None:
            raise ValueError("choose a firewall or a host, not both")


@dataclass(frozen=True)
class GeneratorOptions:
    """Choices the user made explicitly.

    ``protocols`` maps a catalog path id or a flow id to the protocols a flow whose
    protocol the reference leaves open (``protocol: null``) is opened for. Without an
    entry such a flow is refused. ``host_format``: ``own`` writes a host's rules only in
    its own OS family (Windows servers: ``windows``; others: nftables, iptables, aerleon),
    ``any`` in every format asked for. ``aerleon_targets``: aerleon platforms to put in
    the policy headers and render through aerleon's generators (empty: the defaults,
    not rendered).
    """

    catalog: Catalog
    protocols: Mapping[str, tuple[L4, ...]] = field(default_factory=dict)
    host_format: HostFormat = "own"
    aerleon_targets: tuple[str, ...] = ()


@dataclass(frozen=True)
class RenderedFile:
    """One output file: a relative name, its text and how it is encoded on disk.

    ``encoding``: ``utf-8`` (rules, policies, CSV), ``utf-8-bom`` (PowerShell: Windows
    PowerShell 5.1 reads a script without a BOM in the ANSI code page) or ``utf-16le-bom``
    (``.reg``, as regedit writes it).
    """

    name: str
    content: str
    encoding: Encoding = "utf-8"

    def data(self) -> bytes:
        """The file's bytes on disk."""
        if self.encoding == "utf-8-bom":
            return encode_ps1(self.content)
        if self.encoding == "utf-16le-bom":
            return encode_reg(self.content)
        return self.content.encode("utf-8")


@dataclass(frozen=True)
class Refusal:
    """A flow (or a part of it) a target could not express, and why; no rule was written."""

    flow: str
    reason: str


@dataclass(frozen=True)
class PointSummary:
    """What one enforcement point got: flows in, rules out, flows refused."""

    kind: Literal["network", "host"]
    name: str
    format: str
    flows: int
    flow_rules: int
    rules: int
    refused: tuple[Refusal, ...] = ()


@dataclass(frozen=True)
class Rendering:
    """A generator's output: the files and a summary per enforcement point.

    ``skipped``: hosts with a host firewall left out because their rules belong to another
    OS family (``host_format="own"``).
    """

    files: tuple[RenderedFile, ...]
    points: tuple[PointSummary, ...] = ()
    skipped: tuple[str, ...] = ()


class Generator(ABC):
    """A rule writer for one target."""

    target: Target
    capabilities: Capabilities

    @abstractmethod
    def render(self, plan: Plan, selection: Selection, options: GeneratorOptions) -> Rendering:
        """Write the rules of ``selection`` of ``plan`` and summarise them; refuse (raise
        :class:`FirewallError`, or list a :class:`Refusal`) what the target cannot express."""


# The registry: every target, the module and class that writes it. One line per target.
GENERATORS: Mapping[Target, tuple[str, str]] = {
    Target.nftables: ("pathsec.firewall.nftables", "NftablesGenerator"),
    Target.iptables: ("pathsec.firewall.iptables", "IptablesGenerator"),
    Target.windows: ("pathsec.firewall.windows", "WindowsGenerator"),
    Target.aerleon: ("pathsec.firewall.aerleon_policy", "AerleonGenerator"),
    Target.csv: ("pathsec.firewall.csv_matrix", "CsvMatrixGenerator"),
}


def generator_for(target: Target) -> Generator:
    """The generator registered for ``target``."""
    module_name, class_name = GENERATORS[target]
    cls = getattr(importlib.import_module(module_name), class_name)
    gen = cls()
    if not isinstance(gen, Generator) or gen.target is not target:
        raise TypeError(f"{module_name}.{class_name} is not the generator of {target}")
    return gen


def generate(
    plan: Plan, target: Target, selection: Selection, options: GeneratorOptions
) -> tuple[RenderedFile, ...]:
    """Render ``selection`` of ``plan`` for ``target``, refusing what the target cannot express."""
    return render(plan, target, selection, options).files


def render(
    plan: Plan, target: Target, selection: Selection, options: GeneratorOptions
) -> Rendering:
    """Like :func:`generate`, with the summary per enforcement point."""
    gen = generator_for(target)
    caps = gen.capabilities
    if selection.firewall is not None and not caps.network_firewalls:
        raise FirewallError(
            f"target {target} writes host firewalls only; network firewall "
            f"{selection.firewall!r} needs --target nftables, iptables, aerleon or csv"
        )
    if selection.host is not None and not caps.host_firewalls:
        raise FirewallError(f"target {target} cannot write host firewall rules")
    with paused_gc():  # ~10^5 acyclic objects: the collector would find nothing
        return gen.render(plan, selection, options)
