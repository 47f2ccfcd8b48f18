"""The history database: runs, the endpoints each run saw and the findings it made.

Each run also keeps its whole results document (``result``), so any stored run can be
rendered again by ``pathsec report`` and compared by ``pathsec diff``; the endpoint and
finding rows make the history queryable with plain SQL.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    """Declarative base of the history tables."""


class RunRow(Base):
    """One stored audit run."""

    __tablename__ = "pathsec_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    started: Mapped[str] = mapped_column(String(64))
    finished: Mapped[str] = mapped_column(String(64))
    profile: Mapped[str] = mapped_column(String(255))
    complete: Mapped[bool] = mapped_column(Boolean)
    schema_version: Mapped[int] = mapped_column(Integer)
    label: Mapped[str | None] = mapped_column(String(255), nullable=True)
    endpoint_count: Mapped[int] = mapped_column(Integer)
    finding_count: Mapped[int] = mapped_column(Integer)
    worst: Mapped[str | None] = mapped_column(String(16), nullable=True)
    result: Mapped[str] = mapped_column(Text)

    endpoints: Mapped[list[EndpointRow]] = relationship(
        back_populates="run", cascade="all, delete-orphan"
    )
    findings: Mapped[list[FindingRow]] = relationship(
        back_populates="run", cascade="all, delete-orphan"
    )


class EndpointRow(Base):
    """An endpoint as one run saw it, with its facts as JSON."""

    __tablename__ = "pathsec_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("pathsec_runs.id", ondelete="CASCADE"), index=True
    )
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    protocol: Mapped[str] = mapped_column(String(16))
    path_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    flow_id: Mapped[str | None] = mapped_column(String(512), nullable=True)
    status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    facts: Mapped[str] = mapped_column(Text)

    run: Mapped[RunRow] = relationship(back_populates="endpoints")


class FindingRow(Base):
    """A finding of one run."""

    __tablename__ = "pathsec_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("pathsec_runs.id", ondelete="CASCADE"), index=True
    )
    finding_id: Mapped[str] = mapped_column(String(32), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    protocol: Mapped[str] = mapped_column(String(16))
    path_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    flow_id: Mapped[str | None] = mapped_column(String(512), nullable=True)
    title_en: Mapped[str] = mapped_column(Text)
    title_zh: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)

    run: Mapped[RunRow] = relationship(back_populates="findings")
