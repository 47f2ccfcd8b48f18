"""An emulated Exchange 2007 organisation on loopback: ``pathsec lab up/down`` and :class:`Lab`."""

from pathsec.lab.core import Endpoint, Lab, LabError, PortMode
from pathsec.lab.profiles import LabProfile, load_profile

__all__ = ["Endpoint", "Lab", "LabError", "LabProfile", "PortMode", "load_profile"]
