"""SMB probe (445): which dialects the server accepts, signing, SMB3 encryption capability.

One NEGOTIATE per dialect (SMB1 "NT LM 0.12", 2.0.2, 2.1, 3.0, 3.0.2, 3.1.1), each on its
own connection and pinned to that one dialect; no session setup, no credentials. impacket
builds and parses the packets; it is synchronous, so each job runs in a thread of the run's
pool (:mod:`pathsec.probes.blocking`) with impacket's socket timeout.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from pathsec.probes.blocking import run_blocking
from pathsec.probes.interface import (
    AppProtocol,
    Attempt,
    Endpoint,
    Facts,
    Job,
    Observation,
    Prior,
    Probe,
    ProbeKind,
    ProbeSettings,
    ProtocolError,
    Speaks,
    Status,
)
from pathsec.probes.runtime import guarded
from pathsec.probes.text import Transcript, clean_text

#: Dialect name -> impacket's dialect constant (``smb.SMB_DIALECT``,
#: ``smb3structs.SMB2_DIALECT_*``), spelled out so that importing this module does not load
#: impacket (~0.1 s); a test holds them equal to impacket's.
DIALECTS: dict[str, str | int] = {
    "SMB1": "NT LM 0.12",
    "2.0.2": 0x0202,
    "2.1": 0x0210,
    "3.0": 0x0300,
    "3.0.2": 0x0302,
    "3.1.1": 0x0311,
}


def _load_impacket() -> None:
    """Import impacket's SMB client on first use, not when pathsec starts."""
    import impacket.smbconnection  # noqa: F401


class DialectResult(BaseModel):
    """The answer to a NEGOTIATE pinned to one dialect."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dialect: str
    accepted: bool
    signing_enabled: bool | None = None
    signing_required: bool | None = None
    encryption: bool | None = None
    reason: str | None = None


class SmbObservation(Observation):
    """Dialects, signing and encryption."""

    dialects: dict[str, bool] = Field(default_factory=dict)
    signing_required: bool | None = None
    signing_enabled: bool | None = None
    encryption: bool | None = None
    details: tuple[DialectResult, ...] = ()

    @property
    def smb1(self) -> bool:
        """True when SMB1 was accepted."""
        return bool(self.dialects.get("SMB1"))


def _negotiate(ep: Endpoint, name: str, settings: ProbeSettings) -> DialectResult:
    from impacket import smb, smb3structs
    from impacket.smbconnection import SMBConnection

    try:
        conn = SMBConnection(
            ep.host,
            ep.host,
            sess_port=ep.port,
            timeout=int(max(1, settings.timeout)),
            preferredDialect=DIALECTS[name],
        )
    except smb.SessionError as exc:
        return DialectResult(dialect=name, accepted=False, reason=clean_text(str(exc), 160))
    except (OSError, TimeoutError):
        raise
    except Exception as exc:  # impacket raises its own and bare exceptions for refusals
        text = str(exc)
        if "refused" in text.lower():
            raise ConnectionRefusedError("connection refused") from None
        if "timed out" in text.lower():
            raise TimeoutError(text) from None
        return DialectResult(
            dialect=name, accepted=False, reason=clean_text(text or type(exc).__name__, 160)
        )
    try:
        server = conn.getSMBServer()
        if name == "SMB1":
            params = getattr(server, "_dialects_parameters", None)
            mode = int(params["SecurityMode"]) if params is not None else 0
            return DialectResult(
                dialect=name,
                accepted=True,
                signing_enabled=bool(mode & smb.SMB.SECURITY_SIGNATURES_ENABLED),
                signing_required=bool(mode & smb.SMB.SECURITY_SIGNATURES_REQUIRED),
                encryption=False,
            )
        c = server._Connection
        got = conn.getDialect()
        if got != DIALECTS[name]:
            return DialectResult(dialect=name, accepted=False, reason=f"server chose 0x{got:x}")
        if (
            "ServerSecurityMode" in c
            and c["ServerSecurityMode"] is not None
            and got >= smb3structs.SMB2_DIALECT_30
        ):
            mode = int(c["ServerSecurityMode"])
            required = bool(mode & smb3structs.SMB2_NEGOTIATE_SIGNING_REQUIRED)
        else:
            required = bool(c["RequireSigning"])
        if got == smb3structs.SMB2_DIALECT_311:
            encryption = bool(c.get("CipherId")) if hasattr(c, "get") else bool(c["CipherId"])
        elif got >= smb3structs.SMB2_DIALECT_30:
            encryption = bool(int(c["ServerCapabilities"]) & smb3structs.SMB2_GLOBAL_CAP_ENCRYPTION)
        else:
            encryption = False
        # SMB2 and later always support signing; only "required" varies.
        return DialectResult(
            dialect=name,
            accepted=True,
            signing_enabled=True,
            signing_required=required,
            encryption=encryption,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError(f"unexpected SMB negotiate state: {type(exc).__name__}") from None
    finally:
        # closing a half-dead impacket connection may raise anything
        with contextlib.suppress(Exception):
            conn.close()


class SmbProbe(Probe[SmbObservation]):
    """The SMB probe: one NEGOTIATE per dialect."""

    kind = ProbeKind.smb
    observation = SmbObservation
    speaks = (Speaks(AppProtocol.smb, (445,)),)

    def plan(self, endpoint: Endpoint, settings: ProbeSettings, prior: Prior) -> Sequence[Job]:
        """One job per dialect."""
        return tuple(Job(self.kind, endpoint, name) for name in DIALECTS)

    async def run(self, job: Job, settings: ProbeSettings) -> Attempt:
        """Negotiate the one dialect in a worker thread."""
        _load_impacket()  # here, not first in the worker threads

        async def body(transcript: Transcript) -> BaseModel:
            transcript.add("C", f"NEGOTIATE {job.variant}")
            res = await run_blocking(
                lambda: _negotiate(job.endpoint, job.variant, settings), settings.timeout * 2
            )
            transcript.add(
                "S",
                f"{job.variant}: {'accepted' if res.accepted else 'rejected'}"
                + (
                    f" signing_required={res.signing_required}"
                    if res.accepted
                    else f" ({res.reason})"
                ),
            )
            return res

        return await guarded(job, body, settings)

    def fold(self, endpoint: Endpoint, attempts: Sequence[Attempt]) -> SmbObservation:
        """The dialect table; signing and encryption from the newest accepted dialect."""
        results = [a.value for a in attempts if isinstance(a.value, DialectResult)]
        accepted = [r for r in results if r.accepted]
        best = accepted[-1] if accepted else None
        bad = next((a for a in attempts if a.status is not Status.ok), None)
        ok = bool(accepted)
        return SmbObservation(
            status=Status.ok if ok else (bad.status if bad else Status.protocol_error),
            reason=None if ok else (bad.reason if bad else "no SMB dialect was accepted"),
            transcript=tuple(line for a in attempts for line in a.transcript)[:60],
            dialects={r.dialect: r.accepted for r in results},
            signing_required=best.signing_required if best else None,
            signing_enabled=best.signing_enabled if best else None,
            encryption=any(bool(r.encryption) for r in accepted) if accepted else None,
            details=tuple(results),
        )

    def summary(self, obs: SmbObservation) -> str:
        """The accepted dialects and whether signing is required."""
        dialects = " ".join(d for d, ok in obs.dialects.items() if ok)
        return f"SMB {dialects}; signing required: {obs.signing_required}"

    def facts(self, obs: SmbObservation) -> Facts:
        """Accepted dialects, signing required, encryption."""
        return {
            "smb.dialects": sorted(d for d, ok in obs.dialects.items() if ok),
            "smb.signing_required": obs.signing_required,
            "smb.encryption": obs.encryption,
        }
