"""Record what the audit's probes see at the lab's servers, as discovery probes them.

The lab runs in-process on kernel-chosen ports (no root); each target names the real port
(25, 389, 50636 …) and dials the listening one (``Target.dial_port``), so the results read
as discovery's would on real ports. DNS and Kerberos are asked with the AD domain, as in
discovery's second round. Transcripts are dropped (no rule reads them).

Fixtures: ``tests/discover/fixtures/lab-PROFILE.json``; regenerate them with
``PATHSEC_UPDATE_GOLDEN=1 python -m pytest tests/discover -k recorded``.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from pathsec.audit.models import EndpointResult, Target
from pathsec.audit.run import probe_or_stop
from pathsec.discover.run import DOMAIN_PORTS, SKIP
from pathsec.discover.scope import endpoint_targets
from pathsec.lab import Lab
from pathsec.probes.interface import ProbeSettings

FIXTURES = Path(__file__).parent / "fixtures"


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k != "transcript"}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def record(profile: str) -> list[EndpointResult]:
    """The endpoint results of every listening discovery port of lab ``profile``."""

    async def targets_of_running_lab() -> tuple[Lab, list[Target]]:
        lab = Lab(profile)
        await lab.start()
        listening = {(e.address, e.real_port): e.port for e in lab.endpoints}
        domain = lab.profile.dns_domain
        out = []
        for address in dict.fromkeys(e.address for e in lab.endpoints):
            for t in endpoint_targets([address], None):
                port = listening.get((address, t.port))
                if port is None:
                    continue
                update: dict[str, Any] = {"dial_port": port}
                if t.port in DOMAIN_PORTS:
                    update["domain"] = domain
                out.append(t.model_copy(update=update))
        return lab, out

    loop = asyncio.new_event_loop()
    lab, targets = loop.run_until_complete(targets_of_running_lab())
    import threading

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        done, stopped = probe_or_stop(targets, ProbeSettings(timeout=5), skip=SKIP)
        assert stopped is None
    finally:
        asyncio.run_coroutine_threadsafe(lab.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
    return [done[i] for i in sorted(done)]


def save(profile: str, results: list[EndpointResult]) -> Path:
    """Write the fixture of ``profile``."""
    FIXTURES.mkdir(exist_ok=True)
    path = FIXTURES / f"lab-{profile}.json"
    data = [_strip(r.model_dump(mode="json")) for r in results]
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def load(profile: str) -> list[EndpointResult]:
    """The recorded endpoint results of lab ``profile``."""
    data = json.loads((FIXTURES / f"lab-{profile}.json").read_text(encoding="utf-8"))
    return [EndpointResult.model_validate(d) for d in data]
