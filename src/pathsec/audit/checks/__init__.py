"""Checks: what an observation means against a profile, one module per area.

:mod:`~pathsec.audit.checks.model` defines a check (id, ``applies_to``, ``when``, function);
the area modules define the checks; :mod:`~pathsec.audit.checks.registry` collects them and
grades endpoints; titles and remediation are data (``texts.yaml``,
:mod:`~pathsec.audit.checks.texts`).
"""
