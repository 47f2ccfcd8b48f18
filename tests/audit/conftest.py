import sys
from pathlib import Path

# The byte-scripted servers live beside the probe tests (tests/ is not a package).
sys.path.insert(0, str(Path(__file__).parents[1] / "probes"))
