"""What discovery concludes, with its evidence: the models of ``draft.evidence.json``.

Every conclusion (a role, a version, a name, a fact of the draft) carries the evidence it
rests on: the rule that matched, the endpoint, and what the server said there (its text
cleaned of control characters and cut). Frozen pydantic models: they are the JSON contract.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pathsec.topology.models import ServerRole


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Certainty(StrEnum):
    """How sure a rule (and the role it supports) is, strongest first.

    ``certain``: only that role answers so (the store's EMSMDB interface, OWA's forms logon,
    Exchange UM's SIP Server header, an AD DS rootDSE). ``likely``: what the role shows, but
    another product could show it too; two likely rules of different ids make a role
    certain.
    """

    certain = "certain"
    likely = "likely"

    @property
    def rank(self) -> int:
        """2 for certain, 1 for likely."""
        return 2 if self is Certainty.certain else 1


class Evidence(_Frozen):
    """One rule that matched at one endpoint: what the server said there."""

    rule: str
    endpoint: str = Field(description="host:port/protocol")
    says: str = Field(description="What was seen (server text, control characters removed).")


class RoleVerdict(_Frozen):
    """A role of a server and why."""

    role: ServerRole
    certainty: Certainty
    evidence: tuple[Evidence, ...]


class Estimate(_Frozen):
    """A value of the draft (a name, a version, a fact) and its basis."""

    value: str | None = Field(description="None: nothing on the wire says (the draft has a TODO).")
    basis: str = Field(description="One line: what the value rests on.")
    evidence: tuple[Evidence, ...] = ()
    conflicts: tuple[str, ...] = Field(default=(), description="Evidence that says otherwise.")


class ServerVerdict(_Frozen):
    """One address with Exchange or Active Directory evidence: a server of the draft."""

    address: str
    name: Estimate
    roles: tuple[RoleVerdict, ...]
    exchange: Estimate | None = None
    windows: Estimate
    facts: dict[str, Estimate] = Field(
        default_factory=dict,
        description="global_catalog, dns, um_sip_mode: the draft's fields beside the roles.",
    )
    open_ports: tuple[str, ...] = ()


class LeftOut(_Frozen):
    """An address that is not a server of the draft, and why."""

    address: str
    reason: str
    open_ports: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()


class DiscoveryReport(_Frozen):
    """The side file ``DRAFT.evidence.json``: every conclusion of one discovery and its basis."""

    schema_version: Literal[1] = 1
    started: str
    finished: str
    targets: tuple[str, ...]
    addresses: int = Field(description="Addresses probed.")
    endpoints: int = Field(description="Endpoints (address, port) probed, both phases.")
    seconds: float
    domain: Estimate
    servers: tuple[ServerVerdict, ...]
    left_out: tuple[LeftOut, ...] = Field(
        default=(), description="Addresses with open ports but no Exchange or AD evidence."
    )
    silent: tuple[str, ...] = Field(
        default=(), description="Address ranges that answered on none of the ports probed."
    )
    complete: bool = True
