"""Where the probe contract, runtime and text helpers used to live; kept for their old imports.

The contract is :mod:`pathsec.probes.interface`, the connection runtime
:mod:`pathsec.probes.runtime`, text hygiene :mod:`pathsec.probes.text`. ``clean_text`` and
``Status`` stay importable from here.
"""

from __future__ import annotations

from pathsec.probes.interface import Status
from pathsec.probes.text import clean_text

__all__ = ["Status", "clean_text"]
