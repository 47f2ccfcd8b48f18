"""Importing the audit loads no protocol library: the probes import theirs when they run."""

from __future__ import annotations

import ast
import subprocess
import sys

HEAVY = ("httpx", "spnego", "impacket", "ldap3", "dns")


def _loaded_after(statement: str) -> list[str]:
    """The HEAVY packages present in ``sys.modules`` of a fresh interpreter after ``statement``."""
    code = f"import sys; {statement}; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return list(ast.literal_eval(out.stdout.strip()))


def test_importing_the_audit_loads_no_protocol_library() -> None:
    assert _loaded_after("import pathsec.audit.run") == []


def test_the_check_sees_a_loaded_library() -> None:
    # the same subprocess check reports what a probe pulls in once it builds a message
    got = _loaded_after(
        "import pathsec.audit.run; from pathsec.probes.kerberos import as_req; "
        "from pathsec.probes.http import spnego_negotiate; as_req('EXAMPLE.TEST', 'x'); "
        "spnego_negotiate()"
    )
    assert got == ["impacket", "spnego"]


def test_smb_dialect_codes_are_impackets() -> None:
    from impacket import smb, smb3structs

    from pathsec.probes.smb import DIALECTS

    assert DIALECTS == {
        "SMB1": smb.SMB_DIALECT,
        "2.0.2": smb3structs.SMB2_DIALECT_002,
        "2.1": smb3structs.SMB2_DIALECT_21,
        "3.0": smb3structs.SMB2_DIALECT_30,
        "3.0.2": smb3structs.SMB2_DIALECT_302,
        "3.1.1": smb3structs.SMB2_DIALECT_311,
    }
