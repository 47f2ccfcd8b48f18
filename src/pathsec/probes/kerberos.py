"""Kerberos probe (88 TCP and UDP): an AS-REQ for a principal that does not exist.

A KDC answers with a KRB-ERROR (6 KDC_ERR_C_PRINCIPAL_UNKNOWN, or 68 WRONG_REALM when the
realm is not its own): that proves a KDC without any credential. The request carries no
pre-authentication and a random client name; structures come from impacket's krb5 ASN.1.
"""

from __future__ import annotations

import datetime as dt
import secrets
import struct
from collections.abc import Sequence

from pydantic import BaseModel

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
)
from pathsec.probes.runtime import connect, guarded
from pathsec.probes.text import Transcript
from pathsec.probes.udp import udp_exchange

MAX_KRB_BYTES = 64 * 1024
ERROR_NAMES = {
    6: "KDC_ERR_C_PRINCIPAL_UNKNOWN",
    7: "KDC_ERR_S_PRINCIPAL_UNKNOWN",
    14: "KDC_ERR_ETYPE_NOSUPP",
    24: "KDC_ERR_PREAUTH_FAILED",
    25: "KDC_ERR_PREAUTH_REQUIRED",
    37: "KRB_AP_ERR_SKEW",
    68: "KDC_ERR_WRONG_REALM",
}


class KerberosObservation(Observation):
    """The KDC's answer to the AS-REQ."""

    transport: str = "tcp"
    realm_asked: str = ""
    principal_asked: str = ""
    kdc: bool = False
    error_code: int | None = None
    error_name: str | None = None
    server_realm: str | None = None
    server_time: str | None = None
    e_text: str | None = None


def as_req(realm: str, principal: str) -> bytes:
    """A DER AS-REQ for ``principal@realm`` (no pre-authentication)."""
    # impacket's krb5 ASN.1 costs ~45 ms at startup: imported when used
    from impacket.krb5 import constants
    from impacket.krb5.asn1 import AS_REQ, seq_set, seq_set_iter
    from impacket.krb5.types import KerberosTime, Principal
    from pyasn1.codec.der import encoder  # type: ignore[import-untyped]

    cname = Principal(principal, type=constants.PrincipalNameType.NT_PRINCIPAL.value)
    sname = Principal(f"krbtgt/{realm}", type=constants.PrincipalNameType.NT_SRV_INST.value)
    req = AS_REQ()
    req["pvno"] = 5
    req["msg-type"] = int(constants.ApplicationTagNumbers.AS_REQ.value)
    body = seq_set(req, "req-body")
    body["kdc-options"] = constants.encodeFlags(
        [constants.KDCOptions.forwardable.value, constants.KDCOptions.renewable.value]
    )
    seq_set(body, "sname", sname.components_to_asn1)
    seq_set(body, "cname", cname.components_to_asn1)
    body["realm"] = realm
    till = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    body["till"] = KerberosTime.to_asn1(till)
    body["rtime"] = KerberosTime.to_asn1(till)
    body["nonce"] = secrets.randbits(31)
    seq_set_iter(body, "etype", (18, 17, 23))
    return bytes(encoder.encode(req))


def parse_reply(data: bytes) -> dict[str, object]:
    """Decode a KRB-ERROR (or note an AS-REP); raise :class:`ProtocolError` for anything else."""
    if not data:
        raise ProtocolError("empty Kerberos reply")
    from impacket.krb5.asn1 import AS_REP, KRB_ERROR
    from pyasn1.codec.der import decoder
    from pyasn1.error import PyAsn1Error  # type: ignore[import-untyped]

    if data[0] == 0x7E:
        try:
            err, _ = decoder.decode(data, asn1Spec=KRB_ERROR())
        except PyAsn1Error:
            raise ProtocolError("malformed KRB-ERROR") from None
        code = int(err["error-code"])
        etext = err["e-text"]
        stime = err["stime"]
        return {
            "error_code": code,
            "error_name": ERROR_NAMES.get(code, f"error {code}"),
            "server_realm": str(err["realm"]) if err["realm"].hasValue() else None,
            "server_time": str(stime) if stime.hasValue() else None,
            "e_text": str(etext)[:200] if etext.hasValue() else None,
        }
    if data[0] == 0x6B:
        try:
            decoder.decode(data, asn1Spec=AS_REP())
        except PyAsn1Error:
            raise ProtocolError("malformed AS-REP") from None
        return {"error_name": "AS-REP (the principal exists without pre-authentication)"}
    raise ProtocolError(f"not a Kerberos message (first byte 0x{data[0]:02x})")


class KerberosProbe(Probe[KerberosObservation]):
    """The Kerberos probe: one AS-REQ over TCP (``kerberos``) or UDP (``kerberos-udp``)."""

    kind = ProbeKind.kerberos
    observation = KerberosObservation
    speaks = (
        Speaks(AppProtocol.kerberos, (88,)),
        Speaks(AppProtocol.kerberos_udp, (88,), transport="udp"),
    )

    def plan(self, endpoint: Endpoint, settings: ProbeSettings, prior: Prior) -> Sequence[Job]:
        """Always one job."""
        return (Job(self.kind, endpoint),)

    async def run(self, job: Job, settings: ProbeSettings) -> Attempt:
        """Send the AS-REQ, decode the answer."""
        ep = job.endpoint
        realm = (ep.domain or "PATHSEC.INVALID").upper()
        principal = f"pathsec-probe-{secrets.token_hex(4)}"
        udp = ep.speaks.transport == "udp"

        async def body(transcript: Transcript) -> BaseModel:
            req = as_req(realm, principal)
            transcript.add("C", f"AS-REQ {principal}@{realm} ({len(req)} bytes)")
            if udp:
                data = await udp_exchange(ep, req, settings, transcript)
                if data is None:
                    raise TimeoutError("no reply within the timeout")
            else:
                conn = await connect(ep, settings, transcript)
                try:
                    conn.write(struct.pack(">I", len(req)) + req)
                    async with conn.deadline():
                        await conn.drain()
                        head = await conn.readexactly(4)
                        size = struct.unpack(">I", head)[0]
                        if size > MAX_KRB_BYTES:
                            raise ProtocolError(f"Kerberos reply of {size} bytes is too long")
                        data = await conn.readexactly(size)
                finally:
                    await conn.close()
            fields = parse_reply(data)
            transcript.add("S", f"{fields.get('error_name')} realm={fields.get('server_realm')}")
            return KerberosObservation(
                transport="udp" if udp else "tcp",
                realm_asked=realm,
                principal_asked=principal,
                kdc=True,
                **fields,
            )

        return await guarded(job, body, settings)

    def fold(self, endpoint: Endpoint, attempts: Sequence[Attempt]) -> KerberosObservation:
        """The single attempt's observation."""
        return self.fold_one(attempts, KerberosObservation(transport=endpoint.speaks.transport))

    def summary(self, obs: KerberosObservation) -> str:
        """The KDC's error and realm."""
        return f"KDC: {obs.error_name} (realm {obs.server_realm})" if obs.kdc else ""

    def facts(self, obs: KerberosObservation) -> Facts:
        """Whether a KDC answered."""
        return {"kerberos.kdc": obs.kdc}
