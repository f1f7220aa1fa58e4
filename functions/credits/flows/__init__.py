"""Money flows, each a path by which credits move: generation jobs (billing and the sweeper
that repairs lost trigger deliveries), pricing, Stripe payments and checkout, admin
adjustments and credit expiry; and what keeps a user from running out unawares: their credit
settings (``users/{uid}/credit_settings``), the low-balance and expiring-soon alerts
(``credit_alerts``), and automatic top-up (one attempt per crossing in ``auto_top_ups``, the
saved card in ``stripe_customers``). Each writes the ledger through the ledger core and
nothing else.

May import: core.
"""
