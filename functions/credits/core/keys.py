"""Idempotency keys: every key a flow writes an entry under, built here and nowhere else.

One key makes at most one entry, ever (:mod:`credits.core.ledger`), so a key is also how a flow
finds an entry again: a refund of a failed job finds the job's debit by :func:`job_debit`,
a Stripe refund finds the purchase it claws back by :func:`purchase`. Writer and reader call
the same function here, so the two can never drift apart. The table of docs/ledger.md
("Idempotency keys") lists the same keys; a test holds the two together.

A system key is ``<direction>:<source>:<ids>``, from ids that the event itself carries (a
job id, a Stripe payment intent, invoice or charge), so that every delivery of one event
has the same key. A key from outside (the admin API's ``idempotencyKey``) is namespaced
with the admin's uid, ``admin:<adminUid>:<client key>``: it can never collide with a system
key, nor with another admin's. The ledger checks every key's form (1-256 printable
characters, no ``/``); it stores the key on the entry and the record, and derives the
record's document id from it.
"""

from __future__ import annotations

from credits.core.ledger import Direction, Source


def job_debit(source: Source, job_id: str) -> str:
    """A generation job's debit, the reservation of its price: ``debit:<source>:<jobId>``."""
    return f"{Direction.DEBIT}:{source}:{job_id}"


def job_refund(job_id: str) -> str:
    """The refund of a failed job's debit: ``credit:refund:<jobId>``."""
    return f"{Direction.CREDIT}:{Source.REFUND}:{job_id}"


def purchase(payment_intent: str) -> str:
    """A credit pack bought through Checkout: ``credit:purchase:<paymentIntentId>``."""
    return f"{Direction.CREDIT}:{Source.PURCHASE}:{payment_intent}"


def subscription_grant(invoice_id: str) -> str:
    """A plan's grant for one paid invoice: ``credit:subscription_grant:<invoiceId>``."""
    return f"{Direction.CREDIT}:{Source.SUBSCRIPTION_GRANT}:{invoice_id}"


def purchase_reversal(charge_id: str, amount_refunded: int) -> str:
    """The clawback of a refunded purchase, once per refunded total of the charge:
    ``debit:purchase_reversal:<chargeId>:<amountRefunded>``."""
    return f"{Direction.DEBIT}:{Source.PURCHASE_REVERSAL}:{charge_id}:{amount_refunded}"


def chargeback(dispute_id: str) -> str:
    """Credits taken back for a disputed payment whose funds were withdrawn, once per dispute:
    ``debit:chargeback:<disputeId>``."""
    return f"{Direction.DEBIT}:{Source.CHARGEBACK}:{dispute_id}"


def chargeback_reversal(dispute_id: str) -> str:
    """What a chargeback took, given back when the dispute is won (funds reinstated), once:
    ``credit:chargeback_reversal:<disputeId>``."""
    return f"{Direction.CREDIT}:{Source.CHARGEBACK_REVERSAL}:{dispute_id}"


def expiration(block_id: str) -> str:
    """The expiry of what remains of a credit block: ``debit:expiration:<blockId>``. A block's id
    is the id of the entry that opened it, so it names one block of one user; the
    ``opening-<type>`` blocks of a migrated balance share ids but never expire."""
    return f"{Direction.DEBIT}:{Source.EXPIRATION}:{block_id}"


def admin_adjustment(admin_uid: str, client_key: str) -> str:
    """An admin's adjustment, under the key the admin's client sent: ``admin:<adminUid>:<client key>``."""
    return f"admin:{admin_uid}:{client_key}"
