"""Scheduled and operator work over the whole ledger: daily summaries, the nightly
reconciliation, and the verifier of the ledger's promises (also run by hand after an
incident), with the UTC days they work on; and the repair of the Activity projection's
items whose trigger delivery was lost.

May import: core, flows, reads.
"""
