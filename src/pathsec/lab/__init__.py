"""An emulated Exchange 2007 organisation on loopback: ``pathsec lab up/down`` and :class:`Lab`."""
