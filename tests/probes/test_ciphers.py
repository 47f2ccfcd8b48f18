"""Hand-built ClientHellos, the first-flight reader and the cipher enumeration.

OpenSSL itself (the ``ssl`` module, server side, over memory BIOs) answers the hand-built
hellos, so what the reader returns is checked against the real TLS library: the suite it
chose, the certificate it sent, its DH group and curve, a TLS 1.3 HelloRetryRequest.
Byte-scripted servers cover what OpenSSL never sends: malformed ServerHello and
ServerKeyExchange, alerts mid-flight, endless flights, a suite that was not offered.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dh
from scripted import make_server_context

from hostile.server import Peer, serving
from pathsec.probes.cipher_results import CipherObservation
from pathsec.probes.ciphers import CipherProbe, enumerate_version
from pathsec.probes.flight import (
    Flight,
    parse_key_exchange,
    read_flight,
    read_sslv2_server_hello,
    sslv2_client_hello,
)
from pathsec.probes.hello import HelloOffer, TlsAlert, client_hello
from pathsec.probes.interface import AppProtocol, ProbeSettings, ProtocolError
from pathsec.probes.registry import endpoint
from pathsec.probes.runtime import ByteStream, Conn
from pathsec.probes.suites import LEGACY_CURVES, TLS13_GROUPS, candidates, registry, suite
from pathsec.probes.text import Transcript

#: RFC 2409 group 2: the 1024-bit MODP group old servers used for DHE.
MODP_1024 = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E"
    "3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF"
    "5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
    16,
)


def dh1024_pem(directory: Path) -> Path:
    """DH parameters file of the 1024-bit MODP group (no parameter generation in tests)."""
    params = dh.DHParameterNumbers(MODP_1024, 2).parameters()
    path = directory / "dh1024.pem"
    path.write_bytes(
        params.parameter_bytes(serialization.Encoding.PEM, serialization.ParameterFormat.PKCS3)
    )
    return path


def server(tmp_path: Path, ciphers: str, low: ssl.TLSVersion, high: ssl.TLSVersion):
    ctx = make_server_context(tmp_path)
    ctx.minimum_version, ctx.maximum_version = low, high
    ctx.set_ciphers(ciphers + ":@SECLEVEL=0")
    return ctx


def answer(ctx: ssl.SSLContext, hello: bytes) -> bytes:
    """What an OpenSSL server sends back to ``hello``."""
    si, so = ssl.MemoryBIO(), ssl.MemoryBIO()
    s = ctx.wrap_bio(si, so, server_side=True)
    si.write(hello)
    with contextlib.suppress(ssl.SSLWantReadError, ssl.SSLError):
        s.do_handshake()
    return so.read()


def conn_with(data: bytes) -> Conn:
    stream = ByteStream()
    stream.data_received(data)
    stream.eof_received()
    return Conn(stream, ProbeSettings(timeout=2), Transcript())


def flight(data: bytes, hrr: bool = False, limit: int = 256 * 1024) -> Flight:
    async def go() -> Flight:
        return await read_flight(conn_with(data), allow_hrr=hrr, limit=limit)

    return asyncio.run(go())


def sslv2(data: bytes):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        return await read_sslv2_server_hello(conn_with(data))

    return asyncio.run(go())


def offer(version: str, **kw: object) -> bytes:
    tls13 = version == "TLSv1.3"
    groups = TLS13_GROUPS if tls13 else LEGACY_CURVES
    return client_hello(HelloOffer(version, candidates(tls13), groups, **kw))  # type: ignore[arg-type]


def test_openssl_takes_a_hand_built_tls10_hello_with_rsa_key_exchange(tmp_path: Path) -> None:
    ctx = server(tmp_path, "AES128-SHA", ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1)
    f = flight(answer(ctx, offer("TLSv1.0")))
    assert (f.hello.version, f.hello.cipher_suite) == ("TLSv1.0", 0x002F)
    assert f.complete and f.key_exchange is None
    sent = ssl.PEM_cert_to_DER_cert((tmp_path / "s.crt").read_text())
    assert f.certificates == (sent,)  # the Certificate message, as sent
    assert not f.ocsp_stapled  # asked for, but this server staples nothing


def test_dhe_group_size_and_ecdhe_curve_come_from_the_server_key_exchange(tmp_path: Path) -> None:
    ctx = server(tmp_path, "DHE-RSA-AES128-SHA", ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_2)
    ctx.load_dh_params(dh1024_pem(tmp_path))
    f = flight(answer(ctx, offer("TLSv1.2")))
    assert f.hello.cipher_suite == 0x0033 and f.key_exchange is not None
    assert f.key_exchange.dh_bits == 1024
    ctx = server(
        tmp_path, "ECDHE-RSA-AES256-GCM-SHA384", ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2
    )
    f = flight(answer(ctx, offer("TLSv1.2")))
    assert f.hello.cipher_suite == 0xC030
    assert f.key_exchange is not None and f.key_exchange.curve == 29  # x25519, offered first


def test_anonymous_and_null_suites_are_offered_and_recognised(tmp_path: Path) -> None:
    for cipher, code, flag in (("ADH-AES128-SHA", 0x0034, "anon"), ("NULL-SHA", 0x0002, "null")):
        ctx = server(tmp_path, cipher, ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_2)
        if cipher.startswith("ADH"):
            ctx.load_dh_params(dh1024_pem(tmp_path))
        f = flight(answer(ctx, offer("TLSv1.2")))
        assert f.hello.cipher_suite == code
        s = suite(code)
        assert s is not None and flag in s.flags


def test_tls13_empty_key_share_gets_a_hello_retry_request(tmp_path: Path) -> None:
    ctx = server(tmp_path, "DEFAULT", ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3)
    f = flight(answer(ctx, offer("TLSv1.3")), hrr=True)
    assert f.hello.hrr and f.hello.version == "TLSv1.3"
    assert f.hello.cipher_suite in (0x1301, 0x1302, 0x1303)
    assert f.hello.group == 29  # x25519: the server's first choice among those offered
    with pytest.raises(ProtocolError, match="HelloRetryRequest"):
        flight(answer(ctx, offer("TLSv1.3")), hrr=False)


def test_openssl_refuses_an_offer_without_its_suites(tmp_path: Path) -> None:
    ctx = server(tmp_path, "AES128-SHA", ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_2)
    hello = client_hello(HelloOffer("TLSv1.2", (0xC030, 0x009C), LEGACY_CURVES))
    with pytest.raises(TlsAlert) as err:
        flight(answer(ctx, hello))
    assert err.value.description == 40  # handshake_failure


def test_the_registry_offers_suites_openssl_cannot() -> None:
    table = registry()
    assert len(table) > 330
    assert {0x0005, 0x000A, 0x0003, 0x0064} <= set(candidates(False))  # RC4, 3DES, export
    assert {"tls13", "aead", "fs"} <= table[0x1301].flags and 0x1301 in candidates(True)
    assert table[0x000A].openssl == "DES-CBC3-SHA" and "3des" in table[0x000A].flags
    assert table[0x0064].iana == "TLS_RSA_EXPORT1024_WITH_RC4_56_SHA"  # Windows 2003 sent it
    hello = offer("TLSv1.2", server_name="mail.example.org")
    assert hello[:3] == b"\x16\x03\x01" and b"mail.example.org" in hello
    assert b"\x00\xff" in hello  # renegotiation SCSV


# --- hostile flights ---------------------------------------------------------------------

SH_RSA = bytes.fromhex("0303") + b"\x11" * 32 + b"\x00" + bytes.fromhex("002f00")


def record(kind: int, payload: bytes) -> bytes:
    return bytes([kind, 3, 3]) + len(payload).to_bytes(2, "big") + payload


def hs(mtype: int, body: bytes) -> bytes:
    return bytes([mtype]) + len(body).to_bytes(3, "big") + body


def test_malformed_flights_are_protocol_errors() -> None:
    cases = {
        "ServerHello too short": record(22, hs(2, b"\x03\x03" + b"\x00" * 20)),
        "unexpected handshake message": record(22, hs(2, SH_RSA) + hs(20, b"")),
        "Certificate message truncated": record(22, hs(2, SH_RSA) + hs(11, b"\x00\x00\x10\x00")),
        "not a TLS handshake record": b"HTTP/1.1 400 Bad Request\r\n\r\n",
        "handshake message of": record(22, hs(2, SH_RSA)) + record(22, b"\x0b" + b"\xff\xff\xff"),
    }
    for match, data in cases.items():
        with pytest.raises(ProtocolError, match=match):
            flight(data)
    with pytest.raises(ProtocolError, match="ServerKeyExchange"):
        parse_key_exchange(b"\x00\x80\x01", suite(0x0033))  # DH p claims 128 bytes, has 1
    with pytest.raises(TlsAlert):
        flight(record(22, hs(2, SH_RSA)) + record(21, b"\x02\x28"))  # alert mid-flight


def test_a_flight_longer_than_the_limit_is_cut() -> None:
    cert = hs(11, (4 + 3 + 3 + 60000).to_bytes(3, "big") + b"\x00\xea\x66" + b"\x00" * 60000)
    body = (
        record(22, hs(2, SH_RSA))
        + b"".join(record(22, cert[i : i + 16000]) for i in range(0, len(cert), 16000)) * 6
    )
    with pytest.raises(ProtocolError):
        flight(body, limit=64 * 1024)


def test_sslv2_answers() -> None:
    hello = sslv2_client_hello()
    assert hello[0] & 0x80 and hello[2] == 1  # SSL 2.0 CLIENT-HELLO
    specs = bytes.fromhex("010080 0700c0")
    body = (
        b"\x04\x00\x01\x00\x02"
        + b"\x00\x00"
        + len(specs).to_bytes(2, "big")
        + b"\x00\x10"
        + specs
        + b"\x00" * 16
    )
    got = sslv2((0x8000 | len(body)).to_bytes(2, "big") + body)
    assert got.ciphers == (0x010080, 0x0700C0)
    with pytest.raises(ProtocolError, match="TLS record"):
        sslv2(record(21, b"\x02\x46"))


async def picks_unoffered(p: Peer) -> None:
    await p.reader.read(4096)
    sh = bytes.fromhex("0301") + b"\x22" * 32 + b"\x00" + bytes.fromhex("ffff00")
    await p.send(record(22, hs(2, sh)))


async def endless_rounds(p: Peer) -> None:
    """Answers every hello with the first suite offered (never refuses), cut by MAX_ROUNDS."""
    data = await p.reader.read(8192)
    sid = data[43]
    pos = 44 + sid
    first = data[pos + 2 : pos + 4]
    sh = bytes.fromhex("0301") + b"\x33" * 32 + b"\x00" + first + b"\x00"
    await p.send(record(22, hs(2, sh) + hs(14, b"")))


def test_hostile_enumerations_end_with_an_error_or_the_round_limit() -> None:
    settings = ProbeSettings(timeout=2)
    with serving(picks_unoffered) as srv:
        ep = endpoint("127.0.0.1", srv.port, AppProtocol.tls)
        got = asyncio.run(enumerate_version(ep, settings, "TLSv1.0", None))
    assert got.suites.error and "not offered" in got.suites.error and not got.suites.suites
    with serving(endless_rounds) as srv:
        ep = endpoint("127.0.0.1", srv.port, AppProtocol.tls)
        start = time.monotonic()
        got = asyncio.run(enumerate_version(ep, settings, "TLSv1.0", None))
        rounds = srv.connections
    # each round removes the suite the server picked: the rounds end with the offer list
    assert len(got.suites.suites) == len(candidates(False)) and rounds <= len(candidates(False)) + 3
    assert time.monotonic() - start < 60


def test_probe_plans_nothing_in_quick_mode() -> None:
    from pathsec.probes.interface import Prior, ProbeKind
    from pathsec.probes.tls import TlsObservation

    ep = endpoint("127.0.0.1", 443, AppProtocol.https)
    prior = Prior(None, {ProbeKind.tls: TlsObservation(versions={"TLSv1.2": "accepted"})})
    probe = CipherProbe()
    assert probe.plan(ep, ProbeSettings(tls_depth="quick"), prior) == ()
    jobs = probe.plan(ep, ProbeSettings(), prior)
    assert [j.variant for j in jobs] == ["TLSv1.2"]
    assert CipherObservation().forward_secrecy == "unknown"


def test_a_hello_from_a_packed_suite_list_is_the_hello_from_the_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An enumeration packs its suites once and cuts one out per round (candidates_wire);
    the hello is byte for byte the one built from the list, and OpenSSL answers it."""
    import pathsec.probes.hello as hello_module
    from pathsec.probes.suites import candidates_wire

    monkeypatch.setattr(hello_module.os, "urandom", lambda n: bytes(n))  # same randoms
    for version in ("SSLv3", "TLSv1.0", "TLSv1.2", "TLSv1.3"):
        tls13 = version == "TLSv1.3"
        codes = list(candidates(tls13))
        wire = bytearray(candidates_wire(tls13))
        for cut in (0, 5, 2):  # as the rounds do: remove what the server chose
            del codes[cut]
            del wire[2 * cut : 2 * cut + 2]
            for sni in (None, "mail.example.test"):
                made = HelloOffer(version, tuple(codes), TLS13_GROUPS if tls13 else (), sni)
                assert client_hello(made, bytes(wire)) == client_hello(made)


def test_replies_read_the_same_whether_or_not_the_transcript_keeps_lines() -> None:
    from pathsec.probes.smtp import is_last_reply_line
    from pathsec.probes.text import NullTranscript

    reply = b"250-one\r\n250-two\r\n250 three\r\n220 next"

    async def go(transcript: Transcript) -> list[str]:
        stream = ByteStream()
        stream.data_received(reply)
        conn = Conn(stream, ProbeSettings(timeout=2), transcript)
        lines = await conn.read_until(is_last_reply_line)
        assert bytes(stream.buffer) == b"220 next"  # what follows stays buffered
        return lines

    kept, dropped = Transcript(), NullTranscript()
    assert asyncio.run(go(kept)) == asyncio.run(go(dropped)) == ["250-one", "250-two", "250 three"]
    assert kept.freeze() == ("S: 250-one", "S: 250-two", "S: 250 three")
    assert dropped.freeze() == ()

    async def too_long() -> None:
        stream = ByteStream()
        stream.data_received(b"250-" + b"x" * 5000 + b"\r\n250 end\r\n")
        await Conn(stream, ProbeSettings(timeout=2), NullTranscript()).read_until(
            is_last_reply_line
        )

    with pytest.raises(ProtocolError, match="line longer"):
        asyncio.run(too_long())


def test_a_flight_that_arrives_a_few_bytes_at_a_time_reads_as_one_that_arrives_whole(
    tmp_path: Path,
) -> None:
    """Records are cut from what has arrived: a flight trickling in (a record header split
    from its payload, records split across arrivals) gives the same Flight; one cut short
    after the ServerHello keeps what came; the chain is left unparsed when not wanted."""
    ctx = server(
        tmp_path, "ECDHE-RSA-AES256-GCM-SHA384", ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2
    )
    data = answer(ctx, offer("TLSv1.2"))
    whole = flight(data)
    assert whole.complete and whole.certificates

    async def trickled(step: int, eof_at: int | None = None, certs: bool = True) -> Flight:
        stream = ByteStream()
        conn = Conn(stream, ProbeSettings(timeout=2), Transcript())

        async def feed() -> None:
            end = len(data) if eof_at is None else eof_at
            for i in range(0, end, step):
                stream.data_received(data[i : min(i + step, end)])
                await asyncio.sleep(0)
            if eof_at is not None:
                stream.eof_received()

        feeder = asyncio.create_task(feed())
        try:
            return await read_flight(conn, certificates=certs)
        finally:
            await feeder

    for step in (1, 3, 7, 100):
        assert asyncio.run(trickled(step)) == whole
    cut = asyncio.run(trickled(50, eof_at=200))  # the ServerHello and part of the chain
    assert cut.hello == whole.hello and not cut.complete and cut.certificates == ()
    bare = asyncio.run(trickled(100, certs=False))
    assert bare.hello == whole.hello and bare.key_exchange == whole.key_exchange
    assert bare.complete and bare.certificates == () and not bare.ocsp_stapled
