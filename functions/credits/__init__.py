"""Credits ledger for Firebase apps: an immutable, idempotent record of every balance change."""
