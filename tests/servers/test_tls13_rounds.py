"""TLS 1.3 suites and groups from the same rounds, against gnutls-serv.

Each HelloRetryRequest names the suite and the group the server picked, so one round takes
one of each off the offer. The server here has a known order (``%SERVER_PRECEDENCE``) for
both; the lists must come out in that order, complete, whichever runs out first (a refusal
when both lists were cut is told apart by one more round), in fewer rounds than two
separate enumerations would take (suites + 1 and groups + 1).
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pathsec.probes import ciphers
from pathsec.probes.interface import AppProtocol, ProbeSettings
from pathsec.probes.registry import endpoint
from servers.conftest import free_port, make_cert, need, stop, wait_port

pytestmark = pytest.mark.server

_REST = "+VERS-TLS1.3:+ECDHE-RSA:+AEAD:+SIGN-ALL:%SERVER_PRECEDENCE"


@pytest.fixture
def gnutls(tmp_path: Path) -> Iterator[Any]:
    """Start gnutls-serv with a priority string on a free port; stopped by PID."""
    binary = need("gnutls-serv")
    cert = make_cert(tmp_path, "tls13")
    procs: list[subprocess.Popen[bytes]] = []

    def start(priority: str) -> int:
        port = free_port()
        log = tmp_path / f"gnutls-{port}.log"
        argv = [binary, "--port", str(port), "--x509certfile", str(cert.cert)]
        argv += ["--x509keyfile", str(cert.key), f"--priority={priority}", "--echo", "--quiet"]
        with open(log, "wb") as fh:
            proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT)
        procs.append(proc)
        wait_port(port, proc, log)
        return port

    try:
        yield start
    finally:
        for p in procs:
            stop(p)


def _enumerate(port: int, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, int]:
    rounds = 0
    real = ciphers._round

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal rounds
        rounds += 1
        return await real(*args, **kwargs)

    monkeypatch.setattr(ciphers, "_round", counted)
    ep = endpoint("127.0.0.1", port, AppProtocol.tls)
    got = asyncio.run(ciphers.enumerate_tls13(ep, ProbeSettings(timeout=5), None))
    return got, rounds


@pytest.mark.parametrize(
    ("suites", "groups", "want_suites", "want_groups"),
    [
        # more groups than suites
        (
            "+AES-256-GCM:+CHACHA20-POLY1305",
            "+GROUP-SECP384R1:+GROUP-X25519:+GROUP-SECP256R1",
            ["TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"],
            ["secp384r1", "x25519", "secp256r1"],
        ),
        # more suites than groups: the groups run out while suites are left
        (
            "+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305",
            "+GROUP-X25519",
            ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"],
            ["x25519"],
        ),
        # as many of each
        (
            "+CHACHA20-POLY1305:+AES-128-GCM",
            "+GROUP-FFDHE2048:+GROUP-SECP521R1",
            ["TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"],
            ["ffdhe2048", "secp521r1"],
        ),
    ],
)
def test_suites_and_groups_from_the_same_rounds(
    gnutls: Any,
    monkeypatch: pytest.MonkeyPatch,
    suites: str,
    groups: str,
    want_suites: list[str],
    want_groups: list[str],
) -> None:
    port = gnutls(f"NONE:{suites}:{groups}:{_REST}")
    got, rounds = _enumerate(port, monkeypatch)
    v = got.suites
    assert v.version == "TLSv1.3" and v.complete and v.error is None
    assert [s.name for s in v.suites] == want_suites
    assert list(got.groups) == want_groups
    assert v.server_order is True
    # Apart: each list and its refusal, and the order round when the suites came out in
    # the registry's order (the offer's own order, which cannot tell whose order it is).
    in_registry_order = [s.id for s in v.suites] == sorted(s.id for s in v.suites)
    separate = len(want_suites) + 1 + len(want_groups) + 1 + int(in_registry_order)
    assert rounds <= separate, (rounds, separate)
    if len(want_groups) > len(want_suites):
        assert rounds < separate - 1, (rounds, separate)
