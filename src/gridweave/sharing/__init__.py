"""The sharing gate: identities, roles, purposes, the one authorisation function, masking,
the catalog and the tamper-evident audit chain."""
