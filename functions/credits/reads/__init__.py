"""The read side: ledger pages and their filters, the signed cursors of every paged read, the
Activity feed and its detail, the Activity projection (``users/{uid}/activity``, a read
model the triggers keep), CSV export and its signed download links, and the admin
reports. It reads what the core and the flows wrote, and writes nothing to the ledger: its
only writes are the Activity projection's.

May import: core.
"""
