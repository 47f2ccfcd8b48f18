"""pathsec: plan, enforce and verify the data paths of an Exchange organisation.

The package follows the pipeline ``catalog + topology -> plan -> firewall | audit ->
findings -> report/store``; each stage is a subpackage and imports only upstream ones.
"""

__version__ = "0.1.0"
