"""PS-NTLM: what an NTLM challenge discloses (the ``ntlm`` probe runs with ``--ntlm-info``)."""

from __future__ import annotations

from pathsec.audit.checks.model import Check, Context, Evidence
from pathsec.probes.interface import Status
from pathsec.probes.ntlm import NtlmObservation


def disclosure(ctx: Context) -> Evidence:
    """PS-NTLM-001: the challenge names hosts, domains or the OS to an untrusted zone."""
    n = ctx.obs(NtlmObservation)
    if n is None or n.status is not Status.ok or not n.discloses or ctx.target.trusted_source:
        return []
    fields = {
        "NetBIOS domain": n.netbios_domain,
        "NetBIOS computer": n.netbios_computer,
        "DNS domain": n.dns_domain,
        "DNS computer": n.dns_computer,
        "DNS tree": n.dns_tree,
        "OS version": n.os_version,
    }
    return [f"{k}: {v}" for k, v in fields.items() if v]


#: Every endpoint: the ntlm probe runs wherever the application probe saw NTLM offered.
CHECKS = (Check("PS-NTLM-001", disclosure),)
