"""Fixtures of the security tests: one scratch network namespace per module."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from firewall.conftest import need


@pytest.fixture(scope="module")
def scratch_netns(request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty network namespace for loading rulesets (removed afterwards)."""
    need("ip")
    need("nft")
    name = f"ps{os.getpid()}sec{abs(hash(request.module.__name__)) % 1000}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)
