"""Shared helpers of the part-2 probe tests: run an audit in-process, read results."""

from __future__ import annotations

from pathsec.audit.models import AuditResult, Target
from pathsec.audit.profiles import load_profile
from pathsec.audit.run import audit
from pathsec.audit.targets import expectations_for
from pathsec.probes.interface import AppProtocol, ProbeSettings


def target(host: str, port: int, proto: str, path_id: str | None = None, **kw) -> Target:
    """A target with the catalog expectations of ``path_id``."""
    return Target(
        host=host,
        port=port,
        protocol=AppProtocol(proto),
        path_id=path_id,
        expectations=expectations_for(path_id) if path_id else None,
        **kw,
    )


def run(*targets: Target, profile: str = "reference", **settings) -> AuditResult:
    """Audit the targets with a short timeout."""
    settings.setdefault("timeout", 3.0)
    return audit(list(targets), load_profile(profile), ProbeSettings(**settings))


def ids(result: AuditResult, port: int | None = None) -> set[str]:
    """Finding ids (of one port)."""
    return {f.id for f in result.findings if port is None or f.port == port}
