"""The application probe's own connect is the tcp check: one connection less, same results."""

from __future__ import annotations

import asyncio
import socket

from pathsec.audit.checks.registry import evaluate
from pathsec.audit.engine import Engine, Limits, NullObserver, stages
from pathsec.audit.models import EndpointResult, Target, compact
from pathsec.audit.profiles import load_profile
from pathsec.probes import registry
from pathsec.probes.interface import AppProtocol, Attempt, Job, ProbeKind, ProbeSettings, Status
from pathsec.probes.registry import endpoint
from pathsec.probes.runtime import ConnectRecord
from pathsec.probes.smtp import SmtpObservation
from pathsec.probes.tcp import from_connect


async def _plain_smtp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """An SMTP server without STARTTLS: banner, EHLO, QUIT."""
    try:
        writer.write(b"220 plain ESMTP\r\n")
        await writer.drain()
        for _ in range(5):
            line = await reader.readline()
            if not line:
                return
            quit_ = line.upper().startswith(b"QUIT")
            writer.write(b"221 bye\r\n" if quit_ else b"250-plain\r\n250 8BITMIME\r\n")
            await writer.drain()
            if quit_:
                return
    finally:
        writer.close()


def _audit(targets: list[Target]) -> tuple[list[EndpointResult], int]:
    """Audit ``targets`` (port 1: the test server's port); results and connections accepted."""
    accepted = 0

    async def main() -> list[EndpointResult]:
        nonlocal accepted

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal accepted
            accepted += 1
            await _plain_smtp(reader, writer)

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            engine = Engine(ProbeSettings(timeout=3), Limits(), NullObserver())
            return await engine.run(
                [t.model_copy(update={"port": port}) if t.port == 1 else t for t in targets]
            )

    results = asyncio.run(main())
    return results, accepted


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_mail_protocols_have_no_separate_tcp_stage() -> None:
    for proto in (AppProtocol.smtp, AppProtocol.pop3s, AppProtocol.imap):
        first = stages(Target(host="127.0.0.1", port=2, protocol=proto))[0]
        assert ProbeKind.tcp not in first and registry.served_by(proto) in first
    # protocols whose probe does not connect through probes.runtime keep the tcp stage
    assert stages(Target(host="127.0.0.1", port=2, protocol=AppProtocol.http))[0] == (
        ProbeKind.tcp,
    )


def test_open_smtp_port_one_connection_with_tcp_observation() -> None:
    results, accepted = _audit([Target(host="127.0.0.1", port=1, protocol=AppProtocol.smtp)])
    assert accepted == 1  # the smtp probe's connection only (no STARTTLS: no tls stage)
    (res,) = results
    tcp = res.observations.tcp
    assert tcp is not None and tcp.state == "open" and tcp.status is Status.ok
    assert tcp.connect_ms is not None and tcp.connect_ms >= 0
    assert len(tcp.transcript) == 1 and tcp.transcript[0].startswith("*: connected in ")
    assert res.observations.smtp is not None and res.observations.smtp.status is Status.ok
    assert res.status is Status.ok


def test_refused_port_is_closed_with_no_application_observation() -> None:
    port = _closed_port()
    results, _ = _audit([Target(host="127.0.0.1", port=port, protocol=AppProtocol.smtp)])
    (res,) = results
    tcp = res.observations.tcp
    assert tcp is not None and tcp.state == "closed" and tcp.connect_ms is None
    assert tcp.status is Status.refused and tcp.reason == "connection refused"
    assert tcp.transcript == ("*: connection refused",)
    assert res.observations.smtp is None and res.observations.tls is None
    assert res.status is Status.refused and res.reason == "connection refused"
    target = Target(host="127.0.0.1", port=port, protocol=AppProtocol.smtp)
    ids = [f.id for f in evaluate(target, res, load_profile("reference"))]
    assert ids == ["PS-TCP-001"]


def test_same_tcp_observation_as_the_tcp_probe() -> None:
    """A bare ``tcp`` target still runs the tcp probe; both ways agree on every field."""
    port = _closed_port()
    results, _ = _audit(
        [
            Target(host="127.0.0.1", port=port, protocol=AppProtocol.smtp),
            Target(host="127.0.0.1", port=port, protocol=AppProtocol.tcp),
        ]
    )
    folded, probed = (r.observations.tcp for r in results)
    assert folded == probed


def test_timeout_before_connect_is_filtered() -> None:
    job = Job(ProbeKind.smtp, endpoint("198.18.0.1", 25, AppProtocol.smtp))
    attempt = Attempt(job, Status.timeout, "no answer within the timeout")
    obs = from_connect(ConnectRecord(error=TimeoutError()), attempt)
    assert obs.state == "filtered" and obs.status is Status.timeout
    assert obs.reason == "no answer within the timeout"
    # connected, then the dialogue timed out: the port is open
    obs = from_connect(ConnectRecord(ms=0.5), attempt)
    assert obs.state == "open" and obs.connect_ms == 0.5 and obs.status is Status.ok


def test_compacted_results_dump_the_same_and_stay_independent() -> None:
    """Shared field sets change no JSON, and a copy with an update touches no other model."""
    results, _ = _audit([Target(host="127.0.0.1", port=1, protocol=AppProtocol.smtp)] * 2)
    a, b = results
    assert a.__pydantic_fields_set__ is b.__pydantic_fields_set__  # shared, not copied
    assert EndpointResult.model_validate_json(a.model_dump_json()) == a
    one, two = SmtpObservation(banner="x"), SmtpObservation(banner="y")
    unset = one.model_dump_json(exclude_unset=True)
    compact(one)
    compact(two)
    assert one.model_dump_json(exclude_unset=True) == unset
    assert one.__pydantic_fields_set__ is two.__pydantic_fields_set__
    changed = one.model_copy(update={"reason": "r"})
    assert "reason" in changed.__pydantic_fields_set__
    assert two.model_dump_json(exclude_unset=True) == two.model_dump_json(
        exclude_unset=True, exclude={"reason"}
    )
    assert "reason" not in two.__pydantic_fields_set__
