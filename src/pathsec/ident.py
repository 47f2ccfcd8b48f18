"""Identifier and value types: one allow-list per kind, checked wherever data enters.

Everything that can reach a generated artefact (an nftables or iptables file, PowerShell,
a ``.reg``, an aerleon policy, a CSV or Markdown cell, a terminal) is one of these types
in the shared models, whatever the door: a deployment YAML, a plan JSON, a custom catalog
or a results file. The grammars:

========================  ===================================================================
kind                      grammar
========================  ===================================================================
:data:`Name`              ``[A-Za-z0-9][A-Za-z0-9_.-]*``, 1-64 characters (servers, sites,
                          zones, firewalls, populations, partners, clusters, gateways …)
:data:`InterfaceName`     ``[A-Za-z0-9][A-Za-z0-9_.:/-]*``, 1-64 (Linux, Junos, IOS names;
                          the Linux targets also refuse ``/``, ``:`` and more than 15)
:data:`PathId`            ``section.slug``: ``[a-z][a-z0-9_]*\\.[a-z][a-z0-9_]*``, up to 128
:data:`FlowId`            ``PATH_ID:SOURCE>DESTINATION:(tcp|udp|any)/(PORT|START-END|local)``
:data:`FindingId`         ``PS-[A-Z0-9]+-[0-9]{3}``
:data:`IPAddress`         one unicast IPv4 or IPv6 address: not unspecified (0.0.0.0, ::),
                          multicast or broadcast (255.255.255.255); no zone id (``%eth0``)
:data:`CIDR`              a network; a host route (/32, /128) follows the address rule, so
                          0.0.0.0/0 ("the internet") is fine and 0.0.0.0/32 is not
:data:`Port`              an integer 1-65535 (``true`` is not a port)
:data:`ShortText`         up to 255 characters, no control characters, line or paragraph
                          separators or bidi embeddings/overrides/isolates
:data:`Description`       the same up to 4,096 characters; tab and newline allowed
                          (:data:`LongText`: 65,536, for messages composed of many names)
========================  ===================================================================

Pattern-checked kinds are validated by pydantic's Rust core and appear in the JSON
Schemas; :func:`explain` turns their pattern errors into messages people can act on.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

NAME_MAX = 64
INTERFACE_MAX = 64
PATH_ID_MAX = 128
FLOW_ID_MAX = 320
HOSTNAME_MAX = 253
SHORT_TEXT_MAX = 255
DESCRIPTION_MAX = 4096
LONG_TEXT_MAX = 65536
#: Free text of results files (titles, evidence, reasons) is cut to this many characters.
RESULT_TEXT_MAX = 16384

_NAME = r"[A-Za-z0-9][A-Za-z0-9_.\-]*"
_PATH = r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*"
NAME_PATTERN = rf"^{_NAME}$"
INTERFACE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/\-]*$"
PATH_ID_PATTERN = rf"^{_PATH}$"
TOKEN_PATTERN = r"^[a-z][a-z0-9_]*$"
WORD_PATTERN = r"^[a-z0-9][a-z0-9_\-]*$"
FLOW_ID_PATTERN = (
    rf"^{_PATH}:{_NAME}>{_NAME}:(?:tcp|udp|any)/(?:[0-9]{{1,5}}(?:-[0-9]{{1,5}})?|local)$"
)
FINDING_ID_PATTERN = r"^PS-[A-Z0-9]+-[0-9]{3}$"
HOSTNAME_PATTERN = r"^[A-Za-z0-9_:][A-Za-z0-9_.:\-]*$"
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_\-]{0,61}[A-Za-z0-9_])?"
DOMAIN_PATTERN = rf"^(?:{_LABEL}\.)*{_LABEL}\.?$"
#: Characters no free text may hold: C0/C1 controls and DEL, U+2028/U+2029, and the bidi
#: embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069).
#: Written as regex escapes (Rust, Python and ECMA-262 read them alike), so the committed
#: JSON Schemas hold no raw control or bidi character.
_BAD_TEXT = r"\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_BAD_DESCRIPTION = r"\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
TEXT_PATTERN = f"^[^{_BAD_TEXT}]*$"
DESCRIPTION_PATTERN = f"^[^{_BAD_DESCRIPTION}]*$"

#: What each pattern allows, in the words of an error message.
_GRAMMARS: dict[str, str] = {
    NAME_PATTERN: "a name is letters, digits, '.', '_' and '-', starting with a letter or digit",
    INTERFACE_PATTERN: (
        "an interface name is letters, digits, '.', '_', '-', '/' and ':', starting with a "
        "letter or digit"
    ),
    PATH_ID_PATTERN: "a catalog path id is 'section.slug' in lower-case letters, digits and '_'",
    TOKEN_PATTERN: "an id is lower-case letters, digits and '_', starting with a letter",
    WORD_PATTERN: "a keyword is lower-case letters, digits, '_' and '-'",
    FLOW_ID_PATTERN: (
        "a flow id is PATH_ID:SOURCE>DESTINATION:PROTOCOL/PORT, e.g. "
        "transport.edge_to_hub:EDGE1>EX1:tcp/25"
    ),
    FINDING_ID_PATTERN: "a finding id looks like PS-SMTP-001",
    HOSTNAME_PATTERN: "a host is a DNS name or an IP address (letters, digits, '.', '-', '_', ':')",
    DOMAIN_PATTERN: "a DNS domain is labels of letters, digits, '-' and '_' joined by '.'",
    TEXT_PATTERN: "text may not hold control characters, line separators or bidi controls",
    DESCRIPTION_PATTERN: (
        "text may not hold control characters (other than tab and newline), line separators "
        "or bidi controls"
    ),
}


def _show(value: object, limit: int = 40) -> str:
    """A value for a message: its repr (controls escaped), cut to ``limit`` characters."""
    text = str(value)
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "…"


def _first_bad(text: str, allowed_newlines: bool) -> str | None:
    for i, ch in enumerate(text):
        code = ord(ch)
        if allowed_newlines and ch in "\t\n":
            continue
        if (
            code < 0x20
            or 0x7F <= code <= 0x9F
            or ch in "\u2028\u2029"
            or 0x202A <= code <= 0x202E
            or 0x2066 <= code <= 0x2069
        ):
            return f"U+{code:04X} at position {i + 1}"
    return None


def explain(err: Any) -> str | None:
    """A message for a pydantic error on one of these types, or None to keep pydantic's."""
    kind = err.get("type")
    ctx = err.get("ctx") or {}
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern")
        grammar = _GRAMMARS.get(pattern) if isinstance(pattern, str) else None
        if grammar is None:
            return None
        value = err.get("input")
        if pattern in (TEXT_PATTERN, DESCRIPTION_PATTERN) and isinstance(value, str):
            where = _first_bad(value, pattern == DESCRIPTION_PATTERN)
            return f"{grammar} (found {where})" if where else grammar
        return f"{_show(value)} is not allowed: {grammar}"
    if kind == "string_too_long":
        return f"longer than {ctx.get('max_length')} characters"
    if kind == "value_error" and ctx.get("error") is not None:
        return str(ctx["error"])  # our validators' own words, without "Value error, "
    return None


def _no_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")
    return value


def _unicast(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, shown: str) -> None:
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        _unicast(mapped, shown)
    why = None
    if ip.is_unspecified:
        why = "the unspecified address (it means this machine, not a host)"
    elif ip.is_multicast:
        why = "a multicast address"
    elif ip == ipaddress.IPv4Address("255.255.255.255"):
        why = "the broadcast address"
    if why:
        raise ValueError(f"{shown} is {why}; a host needs a unicast address")


def check_address(value: str) -> str:
    """``value`` if it is one unicast IP address (no zone id), else ValueError."""
    if "%" in value:
        raise ValueError(f"{_show(value)}: zone ids ('%…') are not allowed in addresses")
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(f"{_show(value)} is not an IPv4 or IPv6 address") from None
    _unicast(ip, repr(value))
    return value


def check_cidr(value: str) -> str:
    """``value`` if it is a network in CIDR notation (host routes must be unicast)."""
    if "%" in value:
        raise ValueError(f"{_show(value)}: zone ids ('%…') are not allowed in networks")
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{_show(value)} is not a valid CIDR ({exc})") from None
    if net.num_addresses == 1:
        _unicast(net.network_address, repr(value))
    return value


def check_address_or_cidr(value: str) -> str:
    """A single address (see :func:`check_address`) or a network (:func:`check_cidr`)."""
    return check_cidr(value) if "/" in value else check_address(value)


def check_port_range(value: str) -> str:
    """``START-END`` with 1 <= START <= END <= 65535, normalised (``'5000-5100'``)."""
    parts = value.split("-")
    if len(value) > 11 or len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"{_show(value)} is not a port range like '5000-5100'")
    start, end = (int(p) for p in parts)
    if not 1 <= start <= end <= 65535:
        raise ValueError(f"{_show(value)}: need 1 <= start <= end <= 65535")
    return f"{start}-{end}"


def _cut(limit: int) -> Any:
    def cut(value: object) -> object:
        if isinstance(value, str) and len(value) > limit:
            return value[: limit - 1] + "…"
        return value

    return cut


Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX, pattern=NAME_PATTERN)]
InterfaceName = Annotated[
    str, StringConstraints(min_length=1, max_length=INTERFACE_MAX, pattern=INTERFACE_PATTERN)
]
PathId = Annotated[
    str, StringConstraints(min_length=3, max_length=PATH_ID_MAX, pattern=PATH_ID_PATTERN)
]
#: Catalog rule and condition ids.
Token = Annotated[
    str, StringConstraints(min_length=1, max_length=PATH_ID_MAX, pattern=TOKEN_PATTERN)
]
#: Vocabulary values carried by plans (roles, authentication, mechanisms, kinds, releases).
Word = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=WORD_PATTERN)]
FlowId = Annotated[
    str, StringConstraints(min_length=1, max_length=FLOW_ID_MAX, pattern=FLOW_ID_PATTERN)
]
FindingId = Annotated[
    str, StringConstraints(min_length=1, max_length=32, pattern=FINDING_ID_PATTERN)
]
#: A host as results files and audit targets name it: a DNS name or an IP address.
HostName = Annotated[
    str, StringConstraints(min_length=1, max_length=HOSTNAME_MAX, pattern=HOSTNAME_PATTERN)
]
DomainName = Annotated[
    str, StringConstraints(min_length=1, max_length=HOSTNAME_MAX, pattern=DOMAIN_PATTERN)
]
IPAddress = Annotated[
    str,
    StringConstraints(max_length=64),
    AfterValidator(check_address),
    Field(description="A unicast IPv4 or IPv6 address."),
]
CIDR = Annotated[
    str,
    StringConstraints(max_length=64),
    AfterValidator(check_cidr),
    Field(description="A network in CIDR notation, e.g. 10.1.0.0/16 or 0.0.0.0/0."),
]
AddressOrCIDR = Annotated[
    str,
    StringConstraints(max_length=64),
    AfterValidator(check_address_or_cidr),
    Field(description="A unicast IP address or a network in CIDR notation."),
]
Port = Annotated[int, BeforeValidator(_no_bool), Field(ge=1, le=65535)]
PortRangeText = Annotated[
    str,
    AfterValidator(check_port_range),
    Field(description="Inclusive port range 'START-END', e.g. '5000-5100'."),
]
ShortText = Annotated[str, StringConstraints(max_length=SHORT_TEXT_MAX, pattern=TEXT_PATTERN)]
Description = Annotated[
    str, StringConstraints(max_length=DESCRIPTION_MAX, pattern=DESCRIPTION_PATTERN)
]
#: Text pathsec composes from many names (plan finding messages, file paths).
LongText = Annotated[str, StringConstraints(max_length=LONG_TEXT_MAX, pattern=DESCRIPTION_PATTERN)]
#: Free text in results files (server text, titles, evidence): any characters (every
#: writer quotes them), cut to :data:`RESULT_TEXT_MAX`.
ResultText = Annotated[str, BeforeValidator(_cut(RESULT_TEXT_MAX))]


def check_option(kind: Any, value: str, option: str) -> str:
    """``value`` of a command-line ``option`` checked as ``kind`` (e.g. :data:`ShortText`);
    a bad value is an :class:`~pathsec.errors.InputError` naming the option."""
    from pydantic import TypeAdapter, ValidationError

    from pathsec.errors import InputError, InputProblem

    try:
        checked: str = TypeAdapter(kind).validate_python(value)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        msg = explain(err) or err["msg"]
        raise InputError(InputProblem("<command line>", None, option, msg)) from None
    return checked
