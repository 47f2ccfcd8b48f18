"""What an audit is run on, from what a user gives: target strings, a targets file, a deployment.

The CLI's ``audit`` and ``baseline`` commands (and any program) call :func:`assemble`; a
deployment's targets come from :func:`pathsec.audit.deployment.deployment_targets`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pathsec.audit.models import Target
from pathsec.audit.targets import parse_target, read_targets_file, with_path
from pathsec.errors import InputError, InputProblem

if TYPE_CHECKING:
    from pathsec.plan.models import Plan


@dataclass(frozen=True)
class AuditTargets:
    """The targets of one audit, and the plan they came from (None: ad-hoc targets only)."""

    targets: tuple[Target, ...]
    plan: Plan | None = None


def assemble(
    targets: Sequence[str] = (),
    targets_file: Path | None = None,
    deployment: Path | None = None,
    from_zone: str | None = None,
    ad_domain: str | None = None,
    where: str = "pathsec audit",
    path_id: str | None = None,
) -> AuditTargets:
    """Ad-hoc targets (``HOST[:PORT][/PROTO]`` strings, then a targets file) followed by every
    planned flow of ``deployment`` (a deployment YAML or a plan JSON), audited from
    ``from_zone``; ``ad_domain`` is the AD domain of the DNS and Kerberos checks;
    ``path_id`` grades every ad-hoc target against that catalog path (``--path``).

    Bad input raises :class:`~pathsec.errors.InputError` naming ``where``, the file and line.
    """
    out: list[Target] = [parse_target(t) for t in targets]
    if targets_file is not None:
        out += read_targets_file(targets_file)
    if path_id is not None:
        out = [with_path(t, path_id) for t in out]
    if ad_domain is not None:
        out = [t.model_copy(update={"domain": ad_domain}) for t in out]
    plan: Plan | None = None
    if deployment is not None:
        from pathsec.audit.deployment import deployment_targets, load_plan

        loaded = load_plan(deployment)
        planned = deployment_targets(loaded, from_zone, ad_domain)
        if not planned:
            raise InputError(
                InputProblem(str(deployment), None, None, "the plan has no flow to audit")
            )
        out += planned
        plan = loaded.plan
    if not out:
        raise InputError(
            InputProblem(where, None, None, "give --target, --targets-file or a deployment")
        )
    return AuditTargets(tuple(out), plan)
