"""Ad-hoc targets: ``HOST[:PORT][/PROTO]`` strings, targets files, and catalog expectations."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pathsec.audit.models import Expectations, Target
from pathsec.catalog import Catalog, load_builtin
from pathsec.compaction import compact
from pathsec.errors import InputError, InputProblem
from pathsec.ident import HOSTNAME_MAX, HOSTNAME_PATTERN, check_address
from pathsec.probes import registry
from pathsec.probes.interface import AppProtocol
from pathsec.probes.runtime import is_ip
from pathsec.yamlfile import MAX_YAML_BYTES, read_text_file

_TARGET = re.compile(
    r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^\s:/\[\]]+))(?::(?P<port>[0-9]{1,5}))?"
    r"(?:/(?P<proto>[A-Za-z0-9-]+))?$"
)


def expectations_for(
    path_id: str, catalog: Catalog | None = None, assumed: bool = False
) -> Expectations | None:
    """What the reference says about ``path_id`` (None when the catalog has no such path);
    ``assumed``: the path was inferred from a bare target's port."""
    if catalog is None:
        return _builtin_expectations(path_id, assumed)
    return _expectations(path_id, catalog, assumed)


@lru_cache(maxsize=256)
def _builtin_expectations(path_id: str, assumed: bool) -> Expectations | None:
    """One (frozen) instance per path of the built-in catalog: a targets file of 10,000
    lines held 10,000 equal copies (9 MB)."""
    return _expectations(path_id, load_builtin(), assumed)


def _expectations(path_id: str, cat: Catalog, assumed: bool) -> Expectations | None:
    for p in cat.paths:
        if p.id == path_id:
            return Expectations(
                encryption_supported=p.encryption.supported,
                encryption_by_default=p.encryption.by_default,
                default_auth=tuple(a.value for a in p.default_auth),
                supported_auth=tuple(a.value for a in p.supported_auth),
                assumed=assumed,
            )
    return None


def parse_target(
    text: str, where: str = "--target", line: int | None = None, catalog: Catalog | None = None
) -> Target:
    """Parse ``HOST[:PORT][/PROTO]``; bad text raises an :class:`InputError` naming ``where``."""

    def bad(msg: str) -> InputError:
        return InputError(InputProblem(where, line, None, f"{text!r}: {msg}"))

    m = _TARGET.match(text.strip())
    if m is None:
        raise bad("expected HOST[:PORT][/PROTO], e.g. mail.example.org:587/smtp or [::1]:993")
    host = m.group("v6") or m.group("host")
    if m.group("v6") and not (is_ip(host) and ":" in host):
        raise bad(f"[{host}] is not an IPv6 address")
    if len(host) > HOSTNAME_MAX or not re.match(HOSTNAME_PATTERN, host):
        raise bad("a host is a DNS name or an IP address (letters, digits, '.', '-', '_')")
    if is_ip(host):
        try:
            check_address(host)  # 0.0.0.0, :: and multicast would dial this machine or many
        except ValueError as exc:
            raise bad(str(exc)) from None
    proto: AppProtocol | None = None
    if m.group("proto"):
        try:
            proto = AppProtocol(m.group("proto").lower())
        except ValueError:
            names = ", ".join(p.value for p in AppProtocol)
            raise bad(f"unknown protocol (use one of: {names})") from None
    port: int | None = int(m.group("port")) if m.group("port") else None
    if port is not None and not 1 <= port <= 65535:
        raise bad("port must be between 1 and 65535")
    if proto is None:
        if port is None:
            raise bad("give a port or a protocol")
        proto = registry.protocol_at(port)
        if proto is None:
            raise bad(f"no protocol is known for port {port}; add /smtp, /imap, /pop3s …")
    speaks = registry.speaks(proto)
    if port is None:
        if speaks.default_port is None:
            raise bad(f"protocol {proto.value} has no default port; give one")
        port = speaks.default_port
    path_id = speaks.client_path
    return Target(
        host=host,
        port=port,
        protocol=proto,
        path_id=path_id,
        expectations=expectations_for(path_id, catalog, assumed=True) if path_id else None,
    )


def with_path(target: Target, path_id: str, where: str = "--path") -> Target:
    """``target`` graded against the catalog path ``path_id`` (named by the user, so the
    path's authentication rows apply whatever the server shows); bad ids raise."""
    exp = expectations_for(path_id)
    if exp is None:
        raise InputError(
            InputProblem(
                where, None, None, f"unknown catalog path {path_id!r} (see: pathsec catalog)"
            )
        )
    return target.model_copy(update={"path_id": path_id, "expectations": exp})


def read_targets_file(path: Path, catalog: Catalog | None = None) -> list[Target]:
    """One target per line; blank lines and ``#`` comments are ignored."""
    text = read_text_file(path, MAX_YAML_BYTES)  # bounded, one-line errors
    out: list[Target] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line:
            target = parse_target(line, str(path), n, catalog)
            compact(target)  # shared field-name sets and host names: files can be long
            out.append(target)
    return out
