"""DNS probe (53 TCP and UDP): the AD domain's SOA and its ``_ldap._tcp`` / ``_kerberos._tcp`` SRV.

Queries go out without recursion desired (RD=0), so a server never forwards them. Without a
known domain one SOA query for the root zone shows that a DNS server answers at all.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

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

MAX_ANSWERS = 32


class DnsAnswer(BaseModel):
    """One query and its answer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    rdtype: str
    rcode: str
    authoritative: bool
    answers: tuple[str, ...] = ()


class DnsObservation(Observation):
    """The answers to the SOA and SRV queries."""

    transport: str = "tcp"
    queries: tuple[DnsAnswer, ...] = ()
    failed: dict[str, str] = Field(default_factory=dict)

    def answer(self, name: str, rdtype: str) -> DnsAnswer | None:
        """The answer to one query, if it came."""
        want = name.rstrip(".").lower()
        return next(
            (q for q in self.queries if q.name.rstrip(".").lower() == want and q.rdtype == rdtype),
            None,
        )


def queries_for(domain: str | None) -> tuple[tuple[str, str], ...]:
    """(name, type) pairs to ask."""
    if not domain:
        return ((".", "SOA"),)
    d = domain.rstrip(".")
    return ((d, "SOA"), (f"_ldap._tcp.{d}", "SRV"), (f"_kerberos._tcp.{d}", "SRV"))


class DnsProbe(Probe[DnsObservation]):
    """The DNS probe: one query per job over TCP (``dns``) or UDP (``dns-udp``)."""

    kind = ProbeKind.dns
    observation = DnsObservation
    speaks = (
        Speaks(AppProtocol.dns, (53,)),
        Speaks(AppProtocol.dns_udp, (53,), transport="udp"),
    )

    def plan(self, endpoint: Endpoint, settings: ProbeSettings, prior: Prior) -> Sequence[Job]:
        """One job per query."""
        return tuple(Job(self.kind, endpoint, f"{t} {n}") for n, t in queries_for(endpoint.domain))

    async def run(self, job: Job, settings: ProbeSettings) -> Attempt:
        """Ask one question."""
        import dns.asyncquery  # dnspython costs ~45 ms at startup: imported when used
        import dns.exception
        import dns.flags
        import dns.message
        import dns.rcode
        import dns.rdatatype  # make_query resolves type names through it

        ep = job.endpoint
        rdtype, name = job.variant.split(" ", 1)

        async def body(transcript: Transcript) -> BaseModel:
            q = dns.message.make_query(name, rdtype)
            q.flags &= ~dns.flags.RD
            transcript.add("C", f"{rdtype} {name} (RD=0)")
            kw = {"timeout": settings.timeout, "port": ep.port, "source": settings.source_address}
            try:
                if ep.speaks.transport == "udp":
                    r = await dns.asyncquery.udp(q, ep.host, ignore_unexpected=True, **kw)  # type: ignore[arg-type]
                else:
                    r = await dns.asyncquery.tcp(q, ep.host, **kw)  # type: ignore[arg-type]
            except dns.exception.Timeout:
                raise TimeoutError("no answer within the timeout") from None
            except dns.exception.DNSException as exc:
                raise ProtocolError(clean_text(f"DNS: {exc}", 200)) from None
            answers = [clean_text(rr.to_text(), 200) for rrset in r.answer for rr in rrset][
                :MAX_ANSWERS
            ]
            rcode = dns.rcode.to_text(r.rcode())
            transcript.add(
                "S", f"{rcode} {len(answers)} answers" + (f": {answers[0]}" if answers else "")
            )
            return DnsAnswer(
                name=name,
                rdtype=rdtype,
                rcode=rcode,
                authoritative=bool(r.flags & dns.flags.AA),
                answers=tuple(answers),
            )

        return await guarded(job, body, settings)

    def fold(self, endpoint: Endpoint, attempts: Sequence[Attempt]) -> DnsObservation:
        """Every answer; ok when at least one query was answered."""
        answers = tuple(a.value for a in attempts if isinstance(a.value, DnsAnswer))
        bad = [a for a in attempts if a.status is not Status.ok]
        return DnsObservation(
            status=Status.ok if answers else (bad[0].status if bad else Status.error),
            reason=None if answers else (bad[0].reason if bad else "no answer"),
            transcript=tuple(line for a in attempts for line in a.transcript)[:60],
            transport=endpoint.speaks.transport,
            queries=answers,
            failed={a.job.variant: f"{a.status.value}: {a.reason}" for a in bad},
        )

    def summary(self, obs: DnsObservation) -> str:
        """Each query and its answer code."""
        return " ".join(f"{q.rdtype} {q.name} {q.rcode}" for q in obs.queries)

    def facts(self, obs: DnsObservation) -> Facts:
        """The answer code of each query."""
        return {f"dns.{q.rdtype}.{q.name}": q.rcode for q in obs.queries}
