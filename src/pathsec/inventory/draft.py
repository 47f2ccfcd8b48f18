"""Write a draft deployment as YAML with comments: values through PyYAML's emitter, comments
through :func:`yaml_comment`, the one function that makes text safe inside a YAML comment.

One writer for every draft (``pathsec import exchange``, ``pathsec discover``). The text is
read back with the deployment loader before it is returned, so what is written is exactly
the validated draft.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from pathsec.errors import PathsecError
from pathsec.topology import load_deployment_text
from pathsec.topology.models import Deployment


@dataclass
class Draft:
    """A draft deployment: the data, and notes for the people who finish it."""

    data: dict[str, Any]
    deployment: Deployment
    header: list[str] = field(default_factory=list)
    notes: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DraftSource:
    """Where a draft comes from: its opening comment lines (plain text, made safe here) and
    how its TODO notes say that something was not in that source."""

    intro: Sequence[str]
    absent: str = "in the inventory"
    absent_long: str = "in Exchange's inventory"
    noted: str = "Noted while importing:"
    left_out: str = "Left out (not enough facts):"


MAX_COMMENT = 240
#: Characters YAML treats as line breaks, besides CR and LF.
_BREAKS = {"\x85", "\u2028", "\u2029"}


def yaml_comment(text: str) -> str:
    """``text`` made safe for one YAML comment line: no line break or control character
    (YAML's NEL, LS and PS included), no bidirectional override, at most 240 characters."""
    out = []
    for ch in text:
        if ch in _BREAKS or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(" ")
        else:
            out.append(ch)
    clean = " ".join("".join(out).split())
    return clean if len(clean) <= MAX_COMMENT else clean[: MAX_COMMENT - 3] + "..."


class _Dumper(yaml.SafeDumper):
    """Block style with indented sequences, as the shipped examples are written."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _dump(value: Any, flow: bool | None = None) -> str:
    """YAML for ``value``: lists of scalars in flow style ([a, b]) unless ``flow`` is False."""
    return yaml.dump(
        value,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=flow,
        width=1000,
    )


def _indent(text: str, prefix: str) -> list[str]:
    return [prefix + line for line in text.splitlines()]


SECTIONS = ("sites", "zones", "servers", "clusters", "ip_gateways", "edge_subscriptions")


def render_draft(draft: Draft, source: DraftSource) -> str:
    """The draft as commented YAML (checked by loading it back)."""
    c = yaml_comment
    lines = [f"# {c(line)}" for line in source.intro]
    if draft.header:
        lines.append("#")
        lines.append(f"# {yaml_comment(source.noted)}")
        lines.extend(f"#   - {c(h)}" for h in draft.header)
    if draft.left_out:
        lines.append("#")
        lines.append(f"# {yaml_comment(source.left_out)}")
        lines.extend(f"#   - {c(h)}" for h in draft.left_out)
    data = draft.data
    lines.append(_dump({"schema_version": data["schema_version"]}, flow=False).rstrip("\n"))
    lines.append("")
    lines.extend(_dump({"organization": data["organization"]}, flow=False).splitlines())
    if "TODO" in str(data["organization"]):
        lines.append(f"  # TODO: organisation, forest or domain was not {source.absent}")
    for section in SECTIONS:
        items = data.get(section)
        if not items:
            continue
        lines.append("")
        lines.append(f"{section}:")
        for item in items:
            key = str(item.get("name", item.get("edge", "")))
            for note in draft.notes.get((section, key), []):
                lines.append(f"  # {c(note)}")
            lines.extend(_indent(_dump([item]), "  "))
    first_zone, first_site = data["zones"][0]["name"], data["sites"][0]["name"]
    lines.append("")
    lines.append(f"# TODO: client populations are not {source.absent_long}; add yours, e.g.")
    lines.append(f"#   - {{name: users, kind: internal_users, zone: {c(first_zone)}, site: "
                 f"{c(first_site)}}}")  # fmt: skip
    lines.append("#   - {name: internet-users, kind: internet_users, zone: internet}")
    lines.append("client_populations: []")
    lines.append("")
    zones = ", ".join(z["name"] for z in data["zones"])
    lines.append(f"# TODO: firewalls are not {source.absent}; which of {c(zones)} are separated?")
    lines.append("#   - {name: fw-inner, zones: [ZONE-A, ZONE-B], interfaces: {ZONE-A: eth0}}")
    lines.append("firewalls: []")
    text = "\n".join(lines) + "\n"
    reloaded = load_deployment_text(text, "<draft>")
    if reloaded != draft.deployment:
        raise PathsecError("the written draft does not read back as the validated one")
    return text
