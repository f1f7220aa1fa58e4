"""Money flows, each a path by which credits move: generation jobs (billing and the sweeper
that repairs lost trigger deliveries), pricing, Stripe payments and checkout, admin
adjustments and credit expiry. Each writes through the ledger core and nothing else.

May import: core.
"""
