"""A matrix of real TLS servers with known weaknesses: nginx, Postfix, Dovecot, gnutls-serv.

Used by ``tests/servers/test_tls_matrix.py`` (findings and facts against real servers and
``openssl s_client``) and by ``bench/bench_tls.py`` (pathsec beside testssl.sh and sslscan).
Each :class:`Config` names the server, its settings and the weaknesses it has by
construction (the ground truth); :func:`running` starts them all on free loopback ports and
stops every process by PID. Certificates come from a private CA made here (root,
intermediate, leaves), whose root is passed as ``--ca-file``.

What no local server can be (Debian's OpenSSL 3.0 has no SSLv2/SSLv3, RC4, 3DES or export
suites; GnuTLS 3.7 has RC4 and 3DES but neither SSLv3 nor export) is covered by
byte-scripted servers in ``tests/probes/test_ciphers.py`` instead.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dh, rsa
from cryptography.x509.oid import NameOID

NAME = "tls.lab.test"
MODP_1024 = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E"
    "3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF"
    "5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
    16,
)

#: Weakness classes, in table order.
WEAKNESSES = (
    "sslv2", "sslv3", "tls10", "tls11", "no_tls12", "null", "anon", "export", "rc4", "3des",
    "cbc_only", "no_fs", "weak_dh", "chain_incomplete", "chain_untrusted", "self_signed",
    "cert_expired", "weak_sig", "weak_key", "hsts_missing",
)  # fmt: skip

#: pathsec finding id -> weakness class (audit profile hardened). PS-TLS-003 (a version
#: below the minimum) names the version in its evidence: see :func:`pathsec_flags`.
PATHSEC_IDS = {
    "PS-TLS-020": "sslv2",
    "PS-TLS-004": "sslv3",
    "PS-TLS-005": "no_tls12",
    "PS-TLS-012": "null",
    "PS-TLS-013": "anon",
    "PS-TLS-014": "export",
    "PS-TLS-015": "rc4",
    "PS-TLS-016": "3des",
    "PS-TLS-017": "cbc_only",
    "PS-TLS-018": "no_fs",
    "PS-TLS-019": "weak_dh",
    "PS-TLS-021": "chain_incomplete",
    "PS-TLS-022": "chain_untrusted",
    "PS-TLS-010": "self_signed",
    "PS-TLS-006": "cert_expired",
    "PS-TLS-009": "weak_sig",
    "PS-TLS-023": "weak_sig",
    "PS-TLS-008": "weak_key",
    "PS-HTTP-008": "hsts_missing",
}


def pathsec_flags(findings: list[dict[str, object]]) -> set[str]:
    """The weakness classes a list of pathsec findings (results JSON) flags."""
    out: set[str] = set()
    for f in findings:
        fid = str(f["id"])
        if fid in PATHSEC_IDS:
            out.add(PATHSEC_IDS[fid])
        elif fid == "PS-TLS-003":
            text = " ".join(str(e) for e in f["evidence"])  # type: ignore[attr-defined]
            out |= {"tls10"} if "TLSv1.0 accepted" in text else set()
            out |= {"tls11"} if "TLSv1.1 accepted" in text else set()
    return out


@dataclass(frozen=True)
class Config:
    """One server configuration of the matrix and the weaknesses it has by construction."""

    name: str
    server: str  # nginx | postfix | dovecot | gnutls
    protocol: str  # pathsec protocol: https, smtp, imap, imaps, pop3s, tls
    weaknesses: frozenset[str]
    settings: dict[str, str] = field(default_factory=dict)
    chain: str = "good"  # good | leaf_only | untrusted | expired | sha1 | rsa1024 | self_signed
    port: int = 0

    @property
    def clean(self) -> bool:
        """A control: nothing weak by construction."""
        return not self.weaknesses


def _w(*names: str) -> frozenset[str]:
    assert set(names) <= set(WEAKNESSES), names
    return frozenset(names)


MODERN = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305"
_M = {"protocols": "TLSv1.2 TLSv1.3", "ciphers": MODERN, "hsts": "1"}
_PF_MODERN = {"smtpd_tls_protocols": ">=TLSv1.2", "smtpd_tls_exclude_ciphers": "aNULL", "smtpd_tls_ciphers": "high"}  # fmt: skip
_GNUTLS = "+COMP-NULL:+SIGN-ALL:+GROUP-ALL"

MATRIX: tuple[Config, ...] = (
    # nginx: HTTPS
    Config("nginx-modern", "nginx", "https", _w(), _M),
    Config("nginx-tls13-only", "nginx", "https", _w(), {**_M, "protocols": "TLSv1.3"}),
    Config("nginx-no-hsts", "nginx", "https", _w("hsts_missing"), {**_M, "hsts": ""}),
    Config("nginx-tls10-rsa-cbc", "nginx", "https", _w("tls10", "no_tls12", "no_fs", "cbc_only"), {**_M, "protocols": "TLSv1", "ciphers": "AES128-SHA:AES256-SHA"}),
    Config("nginx-tls10-11-ecdhe-cbc", "nginx", "https", _w("tls10", "tls11", "no_tls12", "cbc_only"), {**_M, "protocols": "TLSv1 TLSv1.1", "ciphers": "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:AES128-SHA"}),
    Config("nginx-tls11-12", "nginx", "https", _w("tls11"), {**_M, "protocols": "TLSv1.1 TLSv1.2", "ciphers": MODERN + ":ECDHE-RSA-AES128-SHA"}),
    Config("nginx-dhe1024", "nginx", "https", _w("weak_dh"), {**_M, "protocols": "TLSv1.2", "ciphers": "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384", "dh": "1024"}),
    Config("nginx-ecdhe-cbc-sha1", "nginx", "https", _w("cbc_only"), {**_M, "protocols": "TLSv1.2", "ciphers": "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA"}),
    Config("nginx-rsa-kx-only", "nginx", "https", _w("no_fs"), {**_M, "protocols": "TLSv1.2", "ciphers": "AES128-GCM-SHA256:AES256-GCM-SHA384"}),
    Config("nginx-anon", "nginx", "https", _w("anon"), {**_M, "protocols": "TLSv1.2", "ciphers": "ECDHE-RSA-AES128-GCM-SHA256:ADH-AES128-GCM-SHA256", "dh": "2048"}),
    Config("nginx-null", "nginx", "https", _w("null"), {**_M, "protocols": "TLSv1.2", "ciphers": "ECDHE-RSA-AES128-GCM-SHA256:NULL-SHA256"}),
    Config("nginx-missing-intermediate", "nginx", "https", _w("chain_incomplete"), _M, chain="leaf_only"),
    Config("nginx-untrusted-root", "nginx", "https", _w("chain_untrusted"), _M, chain="untrusted"),
    Config("nginx-expired", "nginx", "https", _w("cert_expired"), _M, chain="expired"),
    Config("nginx-sha1-signed", "nginx", "https", _w("weak_sig"), _M, chain="sha1"),
    Config("nginx-rsa1024", "nginx", "https", _w("weak_key"), _M, chain="rsa1024"),
    Config("nginx-self-signed", "nginx", "https", _w("self_signed"), _M, chain="self_signed"),
    # Postfix: SMTP with STARTTLS
    # Debian's Postfix defaults: TLS 1.0 up, anonymous suites, ADH with a 1024-bit group
    Config("postfix-debian-default", "postfix", "smtp", _w("tls10", "tls11", "anon", "weak_dh"), {}),
    Config("postfix-modern", "postfix", "smtp", _w(), _PF_MODERN),
    Config("postfix-tls10-rsa-cbc", "postfix", "smtp", _w("tls10", "no_tls12", "no_fs", "cbc_only"), {"smtpd_tls_protocols": "TLSv1", "smtpd_tls_exclude_ciphers": "aNULL", "tls_medium_cipherlist": "AES128-SHA:AES256-SHA:@SECLEVEL=0"}),
    Config("postfix-dhe1024", "postfix", "smtp", _w("weak_dh"), {"smtpd_tls_protocols": "TLSv1.2", "smtpd_tls_exclude_ciphers": "aNULL", "tls_medium_cipherlist": "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0", "dh": "1024"}),
    Config("postfix-missing-intermediate", "postfix", "smtp", _w("chain_incomplete"), _PF_MODERN, chain="leaf_only"),
    # Dovecot: IMAP and POP3
    Config("dovecot-imaps-modern", "dovecot", "imaps", _w(), {"ssl_min_protocol": "TLSv1.2", "ssl_cipher_list": MODERN}),
    # CBC suites up to TLS 1.2 (Dovecot 2.3 has no maximum version: TLS 1.3 stays on)
    Config("dovecot-imap-legacy-cbc", "dovecot", "imap", _w("tls10", "tls11", "weak_dh"), {"ssl_min_protocol": "TLSv1", "ssl_cipher_list": "AES128-SHA:DHE-RSA-AES128-SHA:@SECLEVEL=0", "dh": "1024"}),
    Config("dovecot-pop3s-expired", "dovecot", "pop3s", _w("cert_expired"), {"ssl_min_protocol": "TLSv1.2", "ssl_cipher_list": MODERN}, chain="expired"),
    # gnutls-serv: what OpenSSL 3.0 cannot serve (RC4, 3DES)
    Config("gnutls-rc4", "gnutls", "tls", _w("rc4"), {"priority": f"NONE:+VERS-TLS1.2:+ECDHE-RSA:+RSA:+AES-128-GCM:+ARCFOUR-128:+AEAD:+SHA1:{_GNUTLS}"}),
    Config("gnutls-3des", "gnutls", "tls", _w("3des"), {"priority": f"NONE:+VERS-TLS1.2:+ECDHE-RSA:+RSA:+AES-128-GCM:+3DES-CBC:+AEAD:+SHA1:{_GNUTLS}"}),
    Config("gnutls-windows2003", "gnutls", "tls", _w("tls10", "no_tls12", "rc4", "3des", "no_fs", "cbc_only"), {"priority": f"NONE:+VERS-TLS1.0:+RSA:+ARCFOUR-128:+3DES-CBC:+AES-128-CBC:+AES-256-CBC:+SHA1:+MD5:{_GNUTLS}:%SERVER_PRECEDENCE"}),
    Config("gnutls-anon-ecdh", "gnutls", "tls", _w("anon"), {"priority": f"NONE:+VERS-TLS1.2:+ECDHE-RSA:+ANON-ECDH:+AES-128-GCM:+AES-128-CBC:+AEAD:+SHA1:{_GNUTLS}"}),
    Config("gnutls-modern", "gnutls", "tls", _w(), {"priority": f"NONE:+VERS-TLS1.3:+VERS-TLS1.2:+ECDHE-RSA:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:+AEAD:{_GNUTLS}"}),
)  # fmt: skip


# --- certificates --------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    """The private CA and the certificate files of each chain variant."""

    root: Path  # the trusted root (pass as --ca-file)
    chains: dict[str, tuple[Path, Path]]  # variant -> (cert chain PEM, key PEM)
    dh: dict[int, Path]


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(
    subject: str,
    key: rsa.RSAPrivateKey,
    issuer: str,
    issuer_key: rsa.RSAPrivateKey,
    ca: bool,
    days: tuple[int, int] = (-1, 365),
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    b = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(days=days[0]))
        .not_valid_after(now + dt.timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
        b = b.add_extension(usage, critical=True)
    else:
        san = [x509.DNSName(NAME), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
        eku = x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH])
        b = b.add_extension(eku, critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def _sha1_leaf(d: Path, key: rsa.RSAPrivateKey, ca: x509.Certificate, ca_key: rsa.RSAPrivateKey) -> bytes:  # fmt: skip
    """A leaf signed with SHA-1 by ``ca`` (cryptography refuses to sign with SHA-1; openssl)."""
    (d / "sha1-ca.crt").write_bytes(_pem(ca))
    (d / "sha1-ca.key").write_bytes(_key_pem(ca_key))
    (d / "sha1-leaf.key").write_bytes(_key_pem(key))
    (d / "sha1.ext").write_text(f"subjectAltName=DNS:{NAME},IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n")  # fmt: skip
    csr = subprocess.run(
        ["openssl", "req", "-new", "-key", str(d / "sha1-leaf.key"), "-subj", f"/CN={NAME}"],
        capture_output=True,
        check=True,
    ).stdout
    return subprocess.run(
        ["openssl", "x509", "-req", "-sha1", "-days", "365", "-CA", str(d / "sha1-ca.crt"),
         "-CAkey", str(d / "sha1-ca.key"), "-set_serial", "4242", "-extfile", str(d / "sha1.ext")],
        input=csr,
        capture_output=True,
        check=True,
    ).stdout  # fmt: skip


def make_pki(d: Path) -> Pki:
    """A root, an intermediate, and a leaf for each chain variant of the matrix."""

    def key(bits: int = 2048) -> rsa.RSAPrivateKey:
        return rsa.generate_private_key(public_exponent=65537, key_size=bits)

    rk, ik, lk, ok, ork, weak = key(), key(), key(), key(), key(), key(1024)
    root = _cert("pathsec matrix root", rk, "pathsec matrix root", rk, True, (-1, 3650))
    inter = _cert("pathsec matrix intermediate", ik, "pathsec matrix root", rk, True, (-1, 3650))
    other_root = _cert("untrusted root", ork, "untrusted root", ork, True, (-1, 3650))
    other_inter = _cert("untrusted intermediate", ok, "untrusted root", ork, True, (-1, 3650))
    issuer = "pathsec matrix intermediate"
    leaf = _cert(NAME, lk, issuer, ik, False)
    variants = {
        "good": (_pem(leaf, inter), lk),
        "leaf_only": (_pem(leaf), lk),
        "untrusted": (_pem(_cert(NAME, lk, "untrusted intermediate", ok, False), other_inter, other_root), lk),
        "expired": (_pem(_cert(NAME, lk, issuer, ik, False, (-400, -35)), inter), lk),
        "sha1": (_sha1_leaf(d, lk, inter, ik) + _pem(inter), lk),
        "self_signed": (_pem(_cert(NAME, lk, NAME, lk, False)), lk),
        "rsa1024": (_pem(_cert(NAME, weak, issuer, ik, False), inter), weak),
    }  # fmt: skip
    (d / "root.pem").write_bytes(_pem(root))
    chains: dict[str, tuple[Path, Path]] = {}
    for name, (pem, k) in variants.items():
        cp, kp = d / f"{name}.crt", d / f"{name}.key"
        cp.write_bytes(pem)
        kp.write_bytes(_key_pem(k))
        kp.chmod(0o644)  # unprivileged server processes read it (a throwaway test key)
        chains[name] = (cp, kp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cryptography deprecates finite-field DH
        dh1024 = dh.DHParameterNumbers(MODP_1024, 2).parameters()
    (d / "dh1024.pem").write_bytes(
        dh1024.parameter_bytes(serialization.Encoding.PEM, serialization.ParameterFormat.PKCS3)
    )
    modp2048 = ["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:modp_2048"]  # fmt: skip
    (d / "dh2048.pem").write_bytes(subprocess.run(modp2048, capture_output=True, check=True).stdout)
    return Pki(d / "root.pem", chains, {1024: d / "dh1024.pem", 2048: d / "dh2048.pem"})


# --- servers --------------------------------------------------------------------------------


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """``n`` distinct free TCP ports on 127.0.0.1 (every socket held until all are drawn)."""
    with contextlib.ExitStack() as stack:
        ports: list[int] = []
        for _ in range(n):
            s = stack.enter_context(socket.socket())
            s.bind(("127.0.0.1", 0))
            ports.append(int(s.getsockname()[1]))
        return ports


def wait_ports(ports: list[int], procs: list[subprocess.Popen[bytes]], timeout: float = 20) -> None:
    """Until every port accepts (bounded); a server that exits raises."""
    deadline = time.monotonic() + timeout
    left = list(ports)
    while left and time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                raise RuntimeError(f"server {p.args!r} exited with {p.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", left[0]), timeout=0.2):
                left.pop(0)
        except OSError:
            time.sleep(0.05)
    if left:
        raise RuntimeError(f"ports not ready: {left}")


def _nginx(d: Path, configs: list[Config], pki: Pki) -> list[str]:
    servers = []
    for c in configs:
        cert, key = pki.chains[c.chain]
        s = c.settings
        lines = [
            f"listen 127.0.0.1:{c.port} ssl;",
            f"server_name {NAME};",
            f"ssl_certificate {cert};",
            f"ssl_certificate_key {key};",
            f"ssl_protocols {s['protocols']};",
            f"ssl_ciphers '{s['ciphers']}:@SECLEVEL=0';",
            "ssl_prefer_server_ciphers on;",
            "server_tokens off;",
        ]
        if "dh" in s:
            lines.append(f"ssl_dhparam {pki.dh[int(s['dh'])]};")
        if s.get("hsts"):
            lines.append('add_header Strict-Transport-Security "max-age=31536000" always;')
        lines.append('location / { return 200 "ok\\n"; }')
        servers.append("  server {\n    " + "\n    ".join(lines) + "\n  }")
    (d / "logs").mkdir(exist_ok=True)
    (d / "tmp").mkdir(exist_ok=True)
    body = "\n".join(servers)
    (d / "nginx.conf").write_text(
        f"""worker_processes 1;
error_log {d}/logs/error.log;
pid {d}/nginx.pid;
events {{ worker_connections 512; }}
http {{
  access_log off;
  client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp; fastcgi_temp_path {d}/tmp;
  uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;
{body}
}}
"""
    )
    return ["nginx", "-p", str(d), "-c", str(d / "nginx.conf"), "-g", "daemon off;"]


#: master.cf lines of Postfix's own services (every server test's Postfix uses them).
POSTFIX_SERVICES = """pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def _postfix(d: Path, configs: list[Config], pki: Pki) -> tuple[list[str], Path]:
    conf, queue, data = d / "etc", d / "spool", d / "data"
    for p in (conf, queue, data):
        p.mkdir()
    shutil.chown(data, "postfix", "postfix")
    services = []
    for c in configs:
        cert, key = pki.chains[c.chain]
        opts = {
            "smtpd_tls_cert_file": str(cert),
            "smtpd_tls_key_file": str(key),
            "smtpd_tls_security_level": "may",
        }
        for k, v in c.settings.items():
            if k == "dh":
                opts["smtpd_tls_dh1024_param_file"] = str(pki.dh[int(v)])
            elif k == "tls_medium_cipherlist":
                opts["smtpd_tls_ciphers"] = "medium"
                opts[k] = v
            else:
                opts[k] = v
        services.append(
            f"127.0.0.1:{c.port} inet n - n - - smtpd\n"
            + "".join(f"  -o {k}={v}\n" for k, v in opts.items())
        )
    (conf / "master.cf").write_text("".join(services) + POSTFIX_SERVICES)
    main = {
        "compatibility_level": "3.6",
        "myhostname": NAME,
        "mydestination": "",
        "inet_interfaces": "127.0.0.1",
        "inet_protocols": "ipv4",
        "queue_directory": str(queue),
        "data_directory": str(data),
        "maillog_file": "/dev/stdout",
        "alias_maps": "",
        "alias_database": "",
        # No reverse DNS of the client (127.0.0.2 is in no hosts file): the lookup would
        # leave loopback and, unanswered, stall a connection for the resolver's 5 s.
        "smtpd_peername_lookup": "no",
    }
    (conf / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in main.items()))
    return ["postfix", "-c", str(conf), "start-fg"], queue


def _dovecot(d: Path, c: Config, pki: Pki) -> list[str]:
    cert, key = pki.chains[c.chain]
    s = c.settings
    proto, listener, ssl_on = {
        "imap": ("imap", "imap", "no"),
        "imaps": ("imap", "imaps", "yes"),
        "pop3s": ("pop3", "pop3s", "yes"),
    }[c.protocol]
    (d / "state").mkdir(parents=True)
    (d / "users").write_text("")
    (d / "dovecot.conf").write_text(
        f"""protocols = {proto}
listen = 127.0.0.1
base_dir = {d}/run/
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_dh = <{pki.dh[int(s.get("dh", "2048"))]}
ssl_min_protocol = {s["ssl_min_protocol"]}
ssl_cipher_list = {s["ssl_cipher_list"]}
ssl_prefer_server_ciphers = yes
disable_plaintext_auth = yes
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={d}/mail/%u
}}
service {proto}-login {{
  inet_listener {listener} {{
    port = {c.port}
    ssl = {ssl_on}
  }}
}}
"""
    )
    return ["dovecot", "-F", "-c", str(d / "dovecot.conf")]


def _gnutls(c: Config, pki: Pki) -> list[str]:
    cert, key = pki.chains[c.chain]
    return [
        "gnutls-serv",
        "--port", str(c.port),
        "--x509certfile", str(cert),
        "--x509keyfile", str(key),
        f"--priority={c.settings['priority']}",
        "--echo",
        "--quiet",
    ]  # fmt: skip


def missing_tools() -> list[str]:
    """The server binaries of the matrix that are not installed."""
    tools = ("nginx", "postfix", "dovecot", "gnutls-serv", "openssl")
    return [t for t in tools if shutil.which(t) is None and not Path(f"/usr/sbin/{t}").exists()]


@dataclass
class Matrix:
    """The running matrix: each configuration with its port, and the trusted root."""

    configs: tuple[Config, ...]
    ca_file: Path
    directory: Path

    def by_name(self, name: str) -> Config:
        """The configuration called ``name``."""
        return next(c for c in self.configs if c.name == name)


class PortTaken(RuntimeError):
    """A server could not listen: another process took its port between draw and bind."""


@contextlib.contextmanager
def running(configs: tuple[Config, ...] = MATRIX) -> Iterator[Matrix]:
    """Start every configuration on free loopback ports; stop every process by PID.

    A port drawn free can be taken by another process before the server binds it; the
    start is then tried again on new ports (at most three times).
    """
    with contextlib.ExitStack() as stack:
        for attempt in range(3):
            try:
                m = stack.enter_context(_running(configs))
                break
            except PortTaken:
                if attempt == 2:
                    raise
        yield m


@contextlib.contextmanager
def _running(configs: tuple[Config, ...]) -> Iterator[Matrix]:
    d = Path(tempfile.mkdtemp(prefix="pathsec-tls-matrix-"))
    d.chmod(0o755)
    placed = tuple(
        replace(c, port=p) for c, p in zip(configs, free_ports(len(configs)), strict=True)
    )
    procs: list[subprocess.Popen[bytes]] = []
    queue: Path | None = None
    env = {**os.environ, "PATH": os.environ.get("PATH", "") + ":/usr/sbin:/sbin"}
    try:
        pki = make_pki(d)
        by_server: dict[str, list[Config]] = {}
        for c in placed:
            by_server.setdefault(c.server, []).append(c)
        commands: list[list[str]] = []
        if by_server.get("nginx"):
            (d / "nginx").mkdir()
            commands.append(_nginx(d / "nginx", by_server["nginx"], pki))
        if by_server.get("postfix"):
            (d / "postfix").mkdir()
            cmd, queue = _postfix(d / "postfix", by_server["postfix"], pki)
            commands.append(cmd)
        commands += [
            _dovecot(d / f"dovecot-{c.name}", c, pki) for c in by_server.get("dovecot", [])
        ]
        commands += [_gnutls(c, pki) for c in by_server.get("gnutls", [])]
        with open(d / "servers.log", "wb") as log:
            for cmd in commands:
                procs.append(
                    subprocess.Popen(
                        cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
                    )
                )
        try:
            wait_ports([c.port for c in placed], procs)
        except RuntimeError as e:
            text = (d / "servers.log").read_bytes().decode("utf-8", "replace")
            kind = PortTaken if "Address already in use" in text else RuntimeError
            raise kind(f"{e}; servers.log ends:\n{text[-3000:]}") from None
        yield Matrix(placed, pki.root, d)
    finally:
        if queue is not None:
            with contextlib.suppress(OSError, ValueError):
                pid = int((queue / "pid" / "master.pid").read_text().strip())
                os.kill(pid, signal.SIGTERM)
        for p in procs:
            if p.poll() is None:
                with contextlib.suppress(OSError):
                    p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        shutil.rmtree(d, ignore_errors=True)


def target_of(c: Config) -> str:
    """The pathsec target of a configuration."""
    return f"127.0.0.1:{c.port}/{c.protocol}"
