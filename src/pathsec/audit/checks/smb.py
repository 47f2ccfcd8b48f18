"""PS-SMB: SMB1, signing, SMB3 encryption (CCR/SCR log shipping runs over SMB)."""

from __future__ import annotations

from pathsec.audit.checks.model import Check, Context, Evidence, only
from pathsec.probes.interface import ProbeKind, Status
from pathsec.probes.smb import SmbObservation


def smb1(ctx: Context) -> Evidence:
    """PS-SMB-001: SMB1 negotiated."""
    s = ctx.obs(SmbObservation)
    return ["SMB1 (NT LM 0.12) negotiated"] if s is not None and s.smb1 else []


def signing_not_required(ctx: Context) -> Evidence:
    """PS-SMB-002: signing not required."""
    s = ctx.obs(SmbObservation)
    if s is None or s.status is not Status.ok or s.signing_required is not False:
        return []
    accepted = [d for d, ok in s.dialects.items() if ok]
    return [f"signing not required (dialects: {', '.join(accepted)})"]


def no_encryption(ctx: Context) -> Evidence:
    """PS-SMB-003: no SMB3 encryption capability."""
    s = ctx.obs(SmbObservation)
    if s is None or s.status is not Status.ok or s.encryption is not False:
        return []
    accepted = ", ".join(d for d, ok in s.dialects.items() if ok)
    return [f"no SMB3 encryption capability (dialects: {accepted})"]


_SMB = only(ProbeKind.smb)
CHECKS = (
    Check("PS-SMB-001", smb1, _SMB),
    Check("PS-SMB-002", signing_not_required, _SMB),
    Check("PS-SMB-003", no_encryption, _SMB),
)
