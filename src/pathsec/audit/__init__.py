"""Stage: the live audit. Probe endpoints, compare them with a profile, report findings."""
