"""Fixtures that start real Postfix and Dovecot (Debian packages, no systemd) on loopback.

Each server gets its own config, state and log directory under tmp_path, free high ports on
127.0.0.1, and is stopped by PID in a finally block. Certificates are generated here.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from servers.tls_matrix import POSTFIX_SERVICES
from servers.tls_matrix import free_port as free_port  # re-exported to the server tests
from servers.tls_matrix import free_ports as free_ports

CERT_NAME = "mail.lab.test"


def need(binary: str) -> str:
    """Path of ``binary``; skip locally, fail under CI, when it is missing."""
    path = shutil.which(binary) or (
        f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None
    )
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{binary} is required in CI (see .ci/apt-packages.txt)")
        pytest.skip(f"{binary} not installed")
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("real-server tests need root in CI")
        pytest.skip("real-server tests need root")
    return path


def wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} not ready after {timeout}s: {_tail(log)}")


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-2000:]
    except OSError:
        return "(no log)"


@dataclass(frozen=True)
class CertFiles:
    cert: Path
    key: Path
    not_before: dt.datetime
    not_after: dt.datetime


def make_cert(directory: Path, name: str, *, expired: bool = False) -> CertFiles:
    """Self-signed RSA-2048/SHA-256 certificate for mail.lab.test and 127.0.0.1."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    if expired:
        nb, na = now - dt.timedelta(days=60), now - dt.timedelta(days=30)
    else:
        nb, na = now - dt.timedelta(days=1), now + dt.timedelta(days=30)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CERT_NAME)])
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(nb)
        .not_valid_after(na)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(CERT_NAME), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cp, kp = directory / f"{name}.crt", directory / f"{name}.key"
    cp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    kp.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    kp.chmod(0o600)
    return CertFiles(cp, kp, nb, na)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Stop a server we started, by its PID; kill it if it does not go within 5 s."""
    if proc.poll() is None:
        os.kill(proc.pid, sig)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


@dataclass(frozen=True)
class Dovecot:
    imap: int
    imaps: int
    pop3: int
    pop3s: int
    auth_socket: Path
    cert: CertFiles
    secure: bool


def _dovecot_conf(d: Path, ports: dict[str, int], cert: CertFiles, secure: bool) -> str:
    (d / "users").write_text("")
    return f"""
protocols = imap pop3
listen = 127.0.0.1
base_dir = {d}/run/
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = yes
ssl_cert = <{cert.cert}
ssl_key = <{cert.key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = {"yes" if secure else "no"}
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={d}/mail/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    port = {ports["imap"]}
  }}
  inet_listener imaps {{
    port = {ports["imaps"]}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {ports["pop3"]}
  }}
  inet_listener pop3s {{
    port = {ports["pop3s"]}
    ssl = yes
  }}
}}
service auth {{
  unix_listener {d}/auth {{
    mode = 0666
  }}
}}
"""


@pytest.fixture(scope="module", params=["secure", "insecure"])
def dovecot(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dovecot]:
    """Dovecot IMAP/POP3 with STARTTLS and implicit TLS; ``insecure`` allows plaintext login
    before TLS and serves an expired certificate."""
    binary = need("dovecot")
    secure = request.param == "secure"
    d = tmp_path_factory.mktemp(f"dovecot-{request.param}")
    (d / "state").mkdir()
    cert = make_cert(d, "dovecot", expired=not secure)
    ports = dict(zip(("imap", "imaps", "pop3", "pop3s"), free_ports(4), strict=True))
    conf = d / "dovecot.conf"
    conf.write_text(_dovecot_conf(d, ports, cert, secure))
    log = d / "dovecot.log"
    proc = subprocess.Popen(
        [binary, "-F", "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=open(d / "stderr.log", "wb"),  # noqa: SIM115 - closed with the process
    )
    try:
        for p in ports.values():
            wait_port(p, proc, d / "stderr.log" if not log.exists() else log)
        yield Dovecot(
            ports["imap"], ports["imaps"], ports["pop3"], ports["pop3s"], d / "auth", cert, secure
        )
    finally:
        stop(proc)


@dataclass(frozen=True)
class Postfix:
    smtp: int
    submission: int
    smtps: int
    cert: CertFiles
    secure: bool
    log: Path  # Postfix's mail log (maillog_file, through start-fg)


def _postfix_dirs(d: Path) -> tuple[Path, Path]:
    conf, queue = d / "etc", d / "spool"
    conf.mkdir()
    queue.mkdir()
    return conf, queue


@pytest.fixture(scope="module", params=["secure", "insecure"])
def postfix(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Postfix]:
    """Postfix on 127.0.0.1 (smtp, submission, smtps) with STARTTLS and Dovecot SASL.

    ``secure``: AUTH only after TLS and TLS >= 1.2. ``insecure``: AUTH PLAIN LOGIN before TLS
    and Postfix's default protocol range.
    """
    pf = need("postfix")
    dv = need("dovecot")
    secure = request.param == "secure"
    # Postfix's unprivileged processes must traverse the path: pytest's tmp root is 0700.
    d = Path(tempfile.mkdtemp(prefix=f"pathsec-postfix-{request.param}-"))
    d.chmod(0o755)
    # A Dovecot that only serves SASL to this Postfix.
    dd = d / "dovecot"
    dd.mkdir()
    (dd / "state").mkdir()
    (dd / "users").write_text("")
    (dd / "dovecot.conf").write_text(
        f"""
protocols =
base_dir = {dd}/run/
state_dir = {dd}/state
log_path = {dd}/dovecot.log
ssl = no
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dd}/users
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={dd}/mail/%u
}}
service auth {{
  unix_listener {dd}/auth {{
    mode = 0666
  }}
}}
"""
    )
    cert = make_cert(d, "postfix")
    conf, queue = _postfix_dirs(d)
    ports = dict(zip(("smtp", "submission", "smtps"), free_ports(3), strict=True))
    (conf / "master.cf").write_text(
        f"""
127.0.0.1:{ports["smtp"]} inet n - n - - smtpd
127.0.0.1:{ports["submission"]} inet n - n - - smtpd
  -o smtpd_tls_security_level=encrypt
127.0.0.1:{ports["smtps"]} inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
"""
        + POSTFIX_SERVICES
    )
    main = {
        "compatibility_level": "3.6",
        "myhostname": CERT_NAME,
        "mydestination": "",
        "inet_interfaces": "127.0.0.1",
        "inet_protocols": "ipv4",
        "queue_directory": str(queue),
        "data_directory": str(d / "data"),
        "maillog_file": "/dev/stdout",  # with start-fg: into start-fg.log
        "smtpd_tls_cert_file": str(cert.cert),
        "smtpd_tls_key_file": str(cert.key),
        "smtpd_tls_security_level": "may",
        "smtpd_tls_auth_only": "yes" if secure else "no",
        "smtpd_sasl_type": "dovecot",
        "smtpd_sasl_path": str(dd / "auth"),
        "smtpd_sasl_auth_enable": "yes",
        "alias_maps": "",
        "alias_database": "",
        # No reverse DNS of the client (127.0.0.2 is in no hosts file): the lookup would
        # leave loopback and, unanswered, stall a connection for the resolver's 5 s.
        "smtpd_peername_lookup": "no",
    }
    if secure:
        main["smtpd_tls_protocols"] = ">=TLSv1.2"
        main["smtpd_tls_mandatory_protocols"] = ">=TLSv1.2"
    else:
        main["smtpd_tls_protocols"] = ">=TLSv1"
        main["smtpd_tls_mandatory_protocols"] = ">=TLSv1"
        main["tls_medium_cipherlist"] = "DEFAULT:@SECLEVEL=0"
    (conf / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in main.items()))
    (d / "data").mkdir()
    shutil.chown(d / "data", "postfix", "postfix")
    dlog = dd / "stderr.log"
    dproc = subprocess.Popen(
        [dv, "-F", "-c", str(dd / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=open(dlog, "wb"),  # noqa: SIM115
    )
    proc: subprocess.Popen[bytes] | None = None
    try:
        deadline = time.monotonic() + 10
        while not (dd / "auth").exists():
            if dproc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dovecot (SASL) did not start: {_tail(dlog)}")
            time.sleep(0.05)
        plog = d / "start-fg.log"
        proc = subprocess.Popen(
            [pf, "-c", str(conf), "start-fg"],
            stdout=open(plog, "wb"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for p in ports.values():
            wait_port(p, proc, plog)
        yield Postfix(ports["smtp"], ports["submission"], ports["smtps"], cert, secure, plog)
    finally:
        if proc is not None:
            # start-fg runs master in the foreground under this process; master stops on TERM.
            master_pid = _master_pid(queue)
            if master_pid is not None and proc.poll() is None:
                os.kill(master_pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                stop(proc, signal.SIGKILL)
        stop(dproc)
        shutil.rmtree(d, ignore_errors=True)


def _master_pid(queue: Path) -> int | None:
    try:
        return int((queue / "pid" / "master.pid").read_text().strip())
    except (OSError, ValueError):
        return None
