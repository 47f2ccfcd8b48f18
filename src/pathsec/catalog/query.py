"""Filter the catalog: by section, role, port, authentication, encryption level or text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pathsec.catalog.models import Auth, Catalog, DataPath, Role, Section

EncryptionLevel = Literal["none", "optional", "default"]


@dataclass(frozen=True)
class PathFilter:
    """Criteria that a path must all meet; ``None`` means any."""

    section: Section | None = None
    role: Role | None = None
    port: int | None = None
    auth: Auth | None = None
    encryption: EncryptionLevel | None = None
    search: str | None = None

    def matches(self, path: DataPath) -> bool:
        """True when ``path`` meets every criterion that is set."""
        if self.section is not None and path.section is not self.section:
            return False
        if self.role is not None and self.role not in (path.source_role, path.destination_role):
            return False
        if self.port is not None and not any(p.port == self.port for p in path.ports):
            return False
        if self.auth is not None and self.auth not in (*path.default_auth, *path.supported_auth):
            return False
        if self.encryption is not None and path.encryption.level != self.encryption:
            return False
        return self.search is None or _text_matches(path, self.search)


def _haystack(path: DataPath) -> Iterable[str]:
    yield path.id
    yield path.name.zh
    yield path.name.en
    yield path.ports_raw
    yield path.default_auth_raw
    yield path.supported_auth_raw
    for c in (*path.conditions, *path.encryption.conditions):
        yield c.en
        if c.zh:
            yield c.zh
    for n in path.notes:
        yield n.en
        if n.zh:
            yield n.zh


def _text_matches(path: DataPath, needle: str) -> bool:
    n = needle.casefold()
    return any(n in text.casefold() for text in _haystack(path))


def select(catalog: Catalog, flt: PathFilter) -> list[DataPath]:
    """The paths of ``catalog`` that match ``flt``, in source order.

    The reference's rows only, unless ``flt.section`` is ``operational``: then the rows
    beyond the reference (never mixed with the reference's).
    """
    rows = catalog.operational if flt.section is Section.operational else catalog.paths
    return [p for p in rows if flt.matches(p)]
