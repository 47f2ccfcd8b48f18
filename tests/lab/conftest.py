"""Fixtures: one lab per profile, running in a background event loop on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lab.labkit import RunningLab


def _lab(profile: str) -> Iterator[RunningLab]:
    lab = RunningLab(profile)
    try:
        yield lab
    finally:
        lab.close()


@pytest.fixture(scope="session")
def lab_default() -> Iterator[RunningLab]:
    yield from _lab("default")


@pytest.fixture(scope="session")
def lab_misconfigured() -> Iterator[RunningLab]:
    yield from _lab("misconfigured")


@pytest.fixture(scope="session")
def lab_hardened() -> Iterator[RunningLab]:
    yield from _lab("hardened")
