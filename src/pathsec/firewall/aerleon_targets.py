"""The aerleon platforms pathsec writes policies for, and rendering through aerleon's API.

Each platform has a shape and a state:

- ``interface``: an ACL applied inbound on one interface (one filter per ingress zone of
  a network firewall): ``juniper``, ``juniperevo``, ``cisco``, ``ciscoxr``, ``cisconx``,
  ``arista``, ``brocade`` (stateless) and ``ciscoasa`` (stateful);
- ``global``: one ruleset for the whole firewall: ``packetfilter`` (pf, ``keep state``) and
  ``nftables`` (``forward`` hook, ``ct state``), both stateful;
- ``zone``: policies per (from-zone, to-zone): ``paloalto`` and ``srx``, stateful;
- ``host``: a host's input filter: ``nftables`` (``input`` hook).

Stateless platforms get return-traffic terms: for every rule a term from its destinations
(source port = the service ports) back to its sources with aerleon's ``established``
option (``tcp-established`` and destination ports 1024-65535 on Juniper, ``established``
on Cisco; UDP replies by ports alone), in the filter of the interface the replies enter.
Stateful platforms keep state themselves and never get those terms: on them a reply term
would be a hole.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pathsec.errors import InputError, InputProblem
from pathsec.firewall.interface import FirewallError, RenderedFile

Shape = Literal["interface", "global", "zone", "host"]


@dataclass(frozen=True)
class Platform:
    """An aerleon target: its shape, whether it keeps state, and its header options."""

    name: str
    shape: Shape
    stateful: bool
    options: str  # after the filter name (interface/global) or the zones (zone) or alone

    def header(self, filter_name: str, from_zone: str = "", to_zone: str = "") -> str:
        """The header target value for one filter (aerleon's nftables takes no name)."""
        if self.shape == "zone":
            return f"from-zone {from_zone} to-zone {to_zone} {self.options}".strip()
        if self.name == "nftables":
            return self.options
        return f"{filter_name} {self.options}".strip()


PLATFORMS: Mapping[str, Platform] = {
    p.name: p
    for p in (
        Platform("juniper", "interface", False, "mixed"),
        Platform("juniperevo", "interface", False, "mixed ingress"),
        Platform("cisco", "interface", False, "mixed"),
        Platform("ciscoxr", "interface", False, "mixed"),
        Platform("cisconx", "interface", False, "mixed"),
        Platform("arista", "interface", False, "mixed"),
        Platform("brocade", "interface", False, "mixed"),
        Platform("ciscoasa", "interface", True, ""),
        Platform("packetfilter", "global", True, "mixed"),
        Platform("nftables", "global", True, "mixed forward"),
        Platform("paloalto", "zone", True, "mixed"),
        Platform("srx", "zone", True, "mixed"),
    )
}
#: Host filters: the one aerleon platform with an input hook pathsec writes for.
HOST_PLATFORM = Platform("nftables", "host", True, "mixed input")
DEFAULT_TARGETS = ("juniper", "cisco", "nftables")


def parse_targets(values: list[str]) -> tuple[str, ...]:
    """``--aerleon-targets juniper,cisco …`` (repeatable, comma-separated) as known names."""
    names: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip().lower()
            if not name:
                continue
            if name not in PLATFORMS:
                known = ", ".join(sorted(PLATFORMS))
                raise InputError(
                    InputProblem(
                        "<command line>",
                        None,
                        "--aerleon-targets",
                        f"{name!r} is not a platform pathsec writes aerleon policies for "
                        f"(known: {known})",
                    )
                )
            names.append(name)
    return tuple(dict.fromkeys(names))


def render_policies(
    policies: Mapping[str, dict[str, Any]], definitions: dict[str, Any], out_dir: str
) -> list[RenderedFile]:
    """The policies (by file name) rendered by aerleon's own generators
    (``aerleon.api.Generate``): ``<out_dir>/<policy>.<platform suffix>``."""
    from aerleon import api  # imported when asked: aerleon loads every generator
    from aerleon.lib import naming

    defs = naming.Naming()
    defs.ParseDefinitionsObject(definitions, "")
    logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))
    try:
        docs: Any = [{"filename": name, **p} for name, p in policies.items()]  # PolicyDicts
        out = api.Generate(docs, defs)
    except Exception as exc:  # aerleon raises its own error tree; one line for the user
        raise FirewallError(f"aerleon could not render the policies: {exc}") from exc
    if out is None:
        raise FirewallError("aerleon rendered nothing")
    return [RenderedFile(f"{out_dir}/{name}", text) for name, text in sorted(out.items())]
