"""Suite-wide settings: a scratch history database and reproducible fuzzing in CI."""

from __future__ import annotations

import os
import tempfile

from hypothesis import settings

# Every `pathsec audit` stores its run in the history; keep the suite's runs (including
# those of CLI subprocesses, which inherit the environment) out of the user's database.
os.environ.setdefault(
    "PATHSEC_DB", f"sqlite:///{tempfile.mkdtemp(prefix='pathsec-test-db-')}/history.sqlite3"
)

# In CI the fuzz tests use a fixed seed, so a red run can be reproduced and a landing does
# not depend on luck; locally hypothesis explores new examples on every run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
