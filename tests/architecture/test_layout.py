"""Layout rules: every module imports on its own (no import cycle) and none is over 600 lines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
MAX_LINES = 600

#: One fresh interpreter imports each module with no pathsec module loaded before it (the
#: modules of pathsec are dropped from ``sys.modules`` between two imports; third-party
#: libraries stay loaded, which keeps the test fast and changes nothing for pathsec).
_IMPORT_EACH = """
import importlib, json, sys, traceback
failed = {}
for name in json.loads(sys.argv[1]):
    for loaded in [m for m in sys.modules if m == "pathsec" or m.startswith("pathsec.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except BaseException:
        failed[name] = traceback.format_exc(limit=3)
print(json.dumps(failed))
"""


def _modules() -> list[str]:
    out = []
    for path in sorted((SRC / "pathsec").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def test_every_module_imports_on_its_own() -> None:
    modules = _modules()
    assert "pathsec.audit.checks.registry" in modules and len(modules) > 100
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH, json.dumps(modules)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    failed = json.loads(proc.stdout.strip().splitlines()[-1])
    assert failed == {}, "\n".join(f"{k}:\n{v}" for k, v in failed.items())


def test_no_module_is_over_600_lines() -> None:
    long = {
        str(p.relative_to(SRC)): n
        for p in (SRC / "pathsec").rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these modules: {long}"
