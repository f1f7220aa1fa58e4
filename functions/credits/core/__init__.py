"""The ledger core and its invariants: the one writer of entries, balances and idempotency
records (:mod:`.ledger`), credit blocks, idempotency keys, typed errors, the Firestore and
Firebase Auth clients, the generation job document as the pipeline writes it, query shapes,
structured logs, anomaly records and secrets. Everything else stands on it.

May import: nothing else of ``credits``.
"""
