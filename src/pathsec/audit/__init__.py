"""Stage: the live audit. Probe endpoints, compare what they offer with a profile, report findings."""
