import sys
from pathlib import Path

# Make the scripted-server helper importable as ``scripted`` (tests/ is not a package).
sys.path.insert(0, str(Path(__file__).parent))
