"""PS-KRB: the KDC serves the AD domain's realm."""

from __future__ import annotations

from pathsec.audit.checks.model import Check, Context, Evidence, only
from pathsec.probes.interface import ProbeKind
from pathsec.probes.kerberos import KerberosObservation


def wrong_realm(ctx: Context) -> Evidence:
    """PS-KRB-001: the KDC answered KDC_ERR_WRONG_REALM for the AD domain's realm."""
    k = ctx.obs(KerberosObservation)
    if k is None or not k.kdc or ctx.target.domain is None or k.error_code != 68:
        return []
    return [
        f"asked for realm {k.realm_asked}; KDC answered {k.error_name} (realm {k.server_realm})"
    ]


CHECKS = (Check("PS-KRB-001", wrong_realm, only(ProbeKind.kerberos)),)
