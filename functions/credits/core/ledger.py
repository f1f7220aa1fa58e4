"""The ledger core: the only code that writes ledger entries, balances and idempotency records.

Every change of a balance is one immutable document in ``credits_ledger``. A user's
balances live in ``users/{uid}/balances/current`` (a document path needs an even number
of segments, so the checklist's ``users/{uid}/balances`` document is the ``current``
document of that subcollection). It holds one integer field per credit type at its top
level, named by the type (``image``, ``video``), as the checklist names them and as host
apps, mobile clients and exports read them; and ``seq``, the number of entries the user
has; entry ``n`` carries ``seq == n`` and ``balance_after`` for its type, so the ledger is
a gap-free chain that :mod:`credits.operations.verify` can check. Credit types are data:
:class:`CreditType` lists them, no code names one to decide what another does (a balance
is looked up by its type), and no type may be named like one of the document's own
fields (:data:`BALANCE_FIELDS`).

The balance document also keeps the user's open credit blocks (:mod:`credits.core.blocks`):
every credit opens one, a debit takes from the unexpired ones in the spending order and
records its ``paidBy``, a job's refund gives back to them, an ``expiration`` takes what is
left of an expired one (:mod:`credits.flows.expiry`). :func:`_apply` works that out, and the
blocks change in the same commit as the entry and the amounts, so their remainders of a
type always add up to its amount.

A write is one atomic commit guarded by preconditions (optimistic concurrency).
:func:`write_ledger_entry` makes up to :data:`MAX_ATTEMPTS` attempts, each in named steps:

1. :func:`_load`, the state: the balance document; on a retry the idempotency record with
   it, in one ``get_all``; on the first attempt nothing at all when this process made the
   user's last change (``_remembered``). The first attempt does not read the record: a used
   key makes the commit's ``create`` of it fail, which is rare, and saves a document read
   on every new entry.
2. :func:`_decide`: a record with the same fingerprint is a replay (return its entry, write
   nothing), another fingerprint an :class:`IdempotencyConflict`; then a given time out of
   order (:func:`entry_time`) is an :class:`InvalidArgument`, and a debit beyond the balance
   an :class:`InsufficientCredits` with an anomaly. The record is checked first, so that a
   replayed debit still returns its entry. A remembered balance never refuses a debit: a
   debit that looks too large is decided again on a fresh read.
3. :func:`_build_commit`, one batch of named writes: ``balance`` (the update guarded by the
   balance document's update time, or its ``create`` when the user has none), ``record``
   and ``entry`` (``create`` both), on the user's first entry of a day its ``user day``
   marker (:data:`USER_DAYS`), and the documents the caller asks to change with it.
4. Commit in one request. A failed precondition or an existing document means another
   writer got there first, or the key was used before: back off (:func:`backoff_s`) and
   start again at 1, now reading both.
5. :func:`_after_commit`: remember the new balances with the update time the commit's
   ``balance`` result reports, take the entry's ``createdAt`` from its ``entry`` result
   (the server timestamp, so nothing is read back), log, return.

Per user the commits are serialised by the balance document, so a lost update or a
double spend cannot happen, and a key can only ever be created once. This takes two
round trips; ``@firestore.transactional`` would take three and deadlocks on one hot
document in the emulator (see docs/ledger.md).

An entry's ``createdAt`` is the server's commit time. Only tools that write history
in-process (the demo seed, an import) may give it instead, with :func:`entry_time`; no
Cloud Function enters that block, and a given time must be in the past and after the
user's newest entry, so that ``seq`` and time order stay the same order. The given time
acts in three steps: :func:`_decide` refuses it out of order, :func:`_build_commit` writes
it as the entry's ``createdAt`` and the balance's ``updatedAt`` (no server timestamp), and
:func:`_after_commit` takes it as the entry's time.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import enum
import hashlib
import json
import os
import random
import re
import string
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore import DocumentReference, DocumentSnapshot, FieldFilter
from google.cloud.firestore_v1.types import WriteResult

from credits.core import anomalies, blocks, logs
from credits.core.blocks import Block, Part
from credits.core.errors import IdempotencyConflict, InsufficientCredits, InvalidArgument, LedgerBusy
from credits.core.firestore_client import db
from credits.core.settings import SETTINGS, ConfigError

LEDGER = "credits_ledger"
IDEMPOTENCY = "idempotency"
USERS = "users"
USER_DAYS = "credits_user_days"
"""``credits_user_days/{YYYY-MM-DD}/users/{uid}``: the user has an entry that UTC day. A user's
first entry of a day writes it in the same commit (:func:`_build_commit`), so that the daily
summary counts the day's users with one aggregation instead of reading the day's entries."""
SEQ = "seq"
UPDATED_AT = "updatedAt"
LEGACY_AMOUNTS = "amounts"
"""The map of amounts that balance documents held for a while instead of top-level fields:
read, and moved to the top level by the document's next write (docs/ledger.md, "Existing data")."""
BLOCKS = "blocks"
"""The balance document's open blocks (:mod:`credits.core.blocks`), as one JSON text (``blocks.encode``)."""
BLOCKS_SINCE = "blocksSince"
NEXT_EXPIRY = "nextExpiry"
"""The soonest ``expiresAt`` of the open blocks (null when none expires): what the expiry schedule queries."""
BALANCE_FIELDS = frozenset({SEQ, UPDATED_AT, BLOCKS, BLOCKS_SINCE, NEXT_EXPIRY, LEGACY_AMOUNTS})
"""The balance document's fields that are not an amount: no credit type may take one of these names."""
_TYPE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}\Z")

MAX_AMOUNT = 10_000_000
"""Largest amount of one entry: far above any pack or job, small enough to catch a unit mistake."""

MAX_KEY_LENGTH = 256
MAX_REASON_LENGTH = 500
MAX_META_BYTES = 8_000
MAX_ATTEMPTS = 60
BACKOFF_BASE_S = 0.004
BACKOFF_CAP_S = 0.25


class CreditType(enum.StrEnum):
    """The user's balances, one per type, as the configuration file names them (``image``,
    ``video``); each is its own unit (an image credit buys no video)."""

    vars().update({name.upper(): name for name in SETTINGS.credit_types})


def check_credit_type_names(names: Iterable[str]) -> None:
    """Refuse a credit type that cannot be a top-level field of the balance document of its own:
    one named like another field of it (:data:`BALANCE_FIELDS`), or not a plain lower-case name."""
    for name in map(str, names):
        if name in BALANCE_FIELDS:
            fields = ", ".join(sorted(BALANCE_FIELDS))
            raise ConfigError(
                f"credit_types.{name}: credit type {name!r} is named like a field of the balance document ({fields})"
            )
        if not _TYPE_NAME.match(name):
            raise ConfigError(
                f"credit_types.{name}: credit type {name!r} must be 1-32 lower-case letters, digits or '_', "
                "starting with a letter"
            )


check_credit_type_names(CreditType)

DEFAULT_CREDIT_TYPE = next(iter(CreditType))
"""The type a report shows when the request names none (``GET /api/admin/credits/users``): the
configuration file's first."""


class Direction(enum.StrEnum):
    CREDIT = "credit"
    DEBIT = "debit"


FLOW_SOURCES = frozenset(
    {
        "purchase",
        "subscription_grant",
        "refund",
        "admin_adjustment",
        "purchase_reversal",
        "chargeback",
        "chargeback_reversal",
        "expiration",
    }
)
"""The sources the ledger's own flows write (the members of :class:`Source` that are not job kinds)."""

for _source in SETTINGS.job_kinds:
    if _source in FLOW_SOURCES:
        raise ConfigError(f"job_kinds.{_source}: a job kind cannot take the name of the ledger's source {_source!r}")


class Source(enum.StrEnum):
    """Why an entry was written: a generation job's source (one per job kind of the configuration
    file: ``text2image``, ``image2image``, ``text2video``, ``image2video``), or one of the
    ledger's own flows (purchase, plan grant, refund, admin adjustment, reversals, expiry)."""

    vars().update({name.upper(): name for name in SETTINGS.job_kinds})
    PURCHASE = "purchase"
    SUBSCRIPTION_GRANT = "subscription_grant"
    REFUND = "refund"
    ADMIN_ADJUSTMENT = "admin_adjustment"
    PURCHASE_REVERSAL = "purchase_reversal"
    CHARGEBACK = "chargeback"
    CHARGEBACK_REVERSAL = "chargeback_reversal"
    EXPIRATION = "expiration"


@dataclass(frozen=True, kw_only=True)
class SourceRule:
    """What an entry of one source may be."""

    directions: frozenset[Direction]
    """The directions entries of this source may take."""
    types: frozenset[CreditType]
    """The credit types entries of this source may move."""


_ANY_TYPE = frozenset(CreditType)
_CREDIT = frozenset({Direction.CREDIT})
_DEBIT = frozenset({Direction.DEBIT})

SOURCE_RULES: Mapping[Source, SourceRule] = {
    **{
        Source(source): SourceRule(directions=_DEBIT, types=frozenset({CreditType(kind.credit_type)}))
        for source, kind in SETTINGS.job_kinds.items()
    },
    Source.PURCHASE: SourceRule(directions=_CREDIT, types=_ANY_TYPE),
    Source.SUBSCRIPTION_GRANT: SourceRule(directions=_CREDIT, types=_ANY_TYPE),
    Source.REFUND: SourceRule(directions=_CREDIT, types=_ANY_TYPE),
    Source.ADMIN_ADJUSTMENT: SourceRule(directions=frozenset(Direction), types=_ANY_TYPE),
    Source.PURCHASE_REVERSAL: SourceRule(directions=_DEBIT, types=_ANY_TYPE),
    Source.CHARGEBACK: SourceRule(directions=_DEBIT, types=_ANY_TYPE),
    Source.CHARGEBACK_REVERSAL: SourceRule(directions=_CREDIT, types=_ANY_TYPE),
    Source.EXPIRATION: SourceRule(directions=_DEBIT, types=_ANY_TYPE),
}
"""Each job source debits the one type its job kind spends; the ledger's own sources take any type."""

_ID_ALPHABET = string.ascii_letters + string.digits
_ID_LENGTH = 20
_CREATED_BY = re.compile(r"^(system|stripe|(user|admin):[^/\s]{1,128})\Z")
_UID = re.compile(r"^[^/\s]{1,128}\Z")  # \Z: "$" would also match before a last line break


@dataclass(frozen=True, kw_only=True)
class LedgerRequest:
    """One balance change, as asked for by a flow."""

    uid: str
    """The user whose balance changes."""
    type: CreditType
    """Which balance changes: one of :class:`CreditType`."""
    direction: Direction
    """``credit`` adds to the balance, ``debit`` takes from it."""
    amount: int
    """How many credits, a positive integer."""
    source: Source
    """Why the balance changes: a job, a purchase, a grant, a refund, an adjustment."""
    idempotency_key: str
    """1–256 characters, no ``/``. One key makes at most one entry, ever."""
    created_by: str
    """``system``, ``stripe``, ``user:<uid>`` or ``admin:<uid>``."""
    reason: str = ""
    """Human-readable why, shown to the user and required for admin adjustments."""
    job_id: str | None = None
    """The generation job this entry pays for or refunds."""
    payment_id: str | None = None
    """The Stripe payment intent behind a purchase or its reversal."""
    invoice_id: str | None = None
    """The invoice document of a purchase or a subscription grant."""
    meta: Mapping[str, Any] = field(default_factory=dict)
    """Details that do not decide the amount: model, resolution, price version, event id…"""
    cap_at_balance: bool = False
    """For a clawback debit: take what the balance holds, up to ``amount``, instead of refusing.

    The entry then records ``meta.requestedAmount``; an empty balance is still refused."""
    expires_at: datetime | None = None
    """For a credit: when the block it opens expires; None for credits that never do."""
    gives_back: tuple[Part, ...] = ()
    """For a job's refund: the debit's "paid by" parts, returned to their blocks (the refund rule
    of :mod:`credits.core.blocks`) instead of opening a new block. They must add up to ``amount``."""
    block: str | None = None
    """For an ``expiration`` debit: the expired block whose whole remainder it takes (``amount``
    is the remainder the caller saw; a refund may have added to it since)."""
    first_block: str | None = None
    """For a clawback: the block it takes from first (the purchase it reverses), then the
    spending order. Not part of the fingerprint: it is the entry the request's payment made."""

    def fingerprint(self) -> str:
        """A hash of :meth:`decisive`: the same key with another fingerprint is a conflict."""
        return hashlib.sha256(json.dumps(self.decisive(), sort_keys=True).encode()).hexdigest()

    def decisive(self) -> dict[str, Any]:
        """Every parameter that decides what the entry is, by its stored name; ``meta`` is context only.

        An expiration's amount is not: the block decides it, and two runs may have seen its
        remainder before and after a refund added to it."""
        return {
            "uid": self.uid,
            "type": str(self.type),
            "direction": str(self.direction),
            "amount": None if self.block else self.amount,
            "source": str(self.source),
            "reason": self.reason,
            "jobId": self.job_id,
            "paymentId": self.payment_id,
            "invoiceId": self.invoice_id,
            "createdBy": self.created_by,
            "capAtBalance": self.cap_at_balance,
            # Only when set, so that the fingerprints of keys used before blocks existed still match.
            **({"expiresAt": self.expires_at.astimezone(UTC).isoformat()} if self.expires_at else {}),
            **({"block": self.block} if self.block else {}),
        }


@dataclass(frozen=True, kw_only=True)
class LedgerEntry:
    """A stored entry, as read back from ``credits_ledger``."""

    id: str
    uid: str
    type: CreditType
    direction: Direction
    amount: int
    balance_after: int
    seq: int
    source: Source
    reason: str
    job_id: str | None
    payment_id: str | None
    invoice_id: str | None
    meta: Mapping[str, Any]
    created_at: datetime
    created_by: str
    idempotency_key: str
    expires_at: datetime | None = None
    """A credit's block expiry (None: never)."""
    paid_by: tuple[Part, ...] = ()
    """A debit's parts: which blocks paid how much (an expiration's one part is its block)."""
    returned_to: tuple[Part, ...] = ()
    """A job refund's parts: which blocks it gave how much back to."""

    @property
    def delta(self) -> int:
        return self.amount if self.direction is Direction.CREDIT else -self.amount

    @classmethod
    def from_snapshot(cls, snap: DocumentSnapshot[Any]) -> LedgerEntry:
        return cls.from_document(snap.id, snap.to_dict() or {})

    @classmethod
    def from_document(cls, entry_id: str, d: Mapping[str, Any]) -> LedgerEntry:
        return cls(
            id=entry_id,
            uid=d["uid"],
            type=CreditType(d["type"]),
            direction=Direction(d["direction"]),
            amount=d["amount"],
            balance_after=d["balance_after"],
            seq=d["seq"],
            source=Source(d["source"]),
            reason=d.get("reason", ""),
            job_id=d.get("jobId"),
            payment_id=d.get("paymentId"),
            invoice_id=d.get("invoiceId"),
            meta=d.get("meta") or {},
            created_at=d["createdAt"],
            created_by=d["createdBy"],
            idempotency_key=d["idempotencyKey"],
            expires_at=d.get("expiresAt"),
            paid_by=tuple(Part.from_document(p) for p in d.get("paidBy") or ()),
            returned_to=tuple(Part.from_document(p) for p in d.get("returnedTo") or ()),
        )

    def log_fields(self) -> dict[str, Any]:
        """What a log line says about the entry (``ledger_entry_written``, docs/ledger.md)."""
        return {
            "entryId": self.id,
            "uid": self.uid,
            "type": str(self.type),
            "direction": str(self.direction),
            "source": str(self.source),
            "amount": self.amount,
            "balanceAfter": self.balance_after,
            "idempotencyKey": self.idempotency_key,
        }

    def to_api(self) -> dict[str, Any]:
        """The entry as the HTTP API and the CSV export name its fields."""
        return {
            "id": self.id,
            "uid": self.uid,
            "type": str(self.type),
            "direction": str(self.direction),
            "amount": self.amount,
            "delta": self.delta,
            "balance_after": self.balance_after,
            "seq": self.seq,
            "source": str(self.source),
            "reason": self.reason,
            "jobId": self.job_id,
            "paymentId": self.payment_id,
            "invoiceId": self.invoice_id,
            "meta": dict(self.meta),
            "createdAt": self.created_at.isoformat(),
            "createdBy": self.created_by,
            "idempotencyKey": self.idempotency_key,
            "expiresAt": _iso(self.expires_at),
            "paidBy": [_part_api(p) for p in self.paid_by],
            "returnedTo": [_part_api(p) for p in self.returned_to],
        }


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _part_api(part: Part) -> dict[str, Any]:
    return {
        "block": part.block,
        "amount": part.amount,
        "expiresAt": _iso(part.expires_at),
        "grantedAt": _iso(part.block_created_at),
    }


@dataclass(frozen=True, kw_only=True)
class LedgerWrite:
    """The outcome of :func:`write_ledger_entry`."""

    entry: LedgerEntry
    """The entry the key stands for: new, or the one an earlier call wrote."""
    replayed: bool
    """True when the key had been used before and nothing was written."""
    attempts: int
    """Commit attempts it took; more than one means other writers raced this one."""


@dataclass(frozen=True, kw_only=True)
class Balances:
    """A user's balance document: an amount per credit type, the open blocks, the entry count."""

    amounts: Mapping[CreditType, int] = field(default_factory=dict)
    """Credits per type; a type the document does not hold yet counts as 0."""
    blocks: Mapping[str, Block] = field(default_factory=dict)
    """The open blocks by id (:mod:`credits.core.blocks`): their remainders of a type sum to its amount."""
    blocks_since: int = 0
    """The user's entry count when blocks began: 0, or the ``seq`` of a balance turned into
    ``opening-<type>`` blocks by the migration (docs/ledger.md, "Existing data")."""
    unmigrated: bool = False
    """The document predates blocks: :attr:`blocks` are its amounts as opening blocks, not yet stored."""
    legacy_amounts: Mapping[str, Any] | None = None
    """The document keeps its amounts in the old ``amounts`` map (types this code does not
    know included), to be moved to the top level; None when it has the checklist's shape."""
    seq: int = 0
    """How many entries the user has."""
    updated_at: datetime | None = None
    """When the last entry was written."""
    version: datetime | None = None
    """The balance document's update time; None when the user has none yet."""

    def of(self, credit_type: CreditType) -> int:
        return self.amounts.get(credit_type, 0)

    def spendable(self, credit_type: CreditType, now: datetime) -> int:
        """What a debit of the type may take at ``now``: its unexpired credits, never more than its amount."""
        return min(blocks.spendable(self.blocks, str(credit_type), now), self.of(credit_type))

    @property
    def needs_migration(self) -> bool:
        """The stored document is not yet in today's shape (:meth:`migration`)."""
        return self.unmigrated or self.legacy_amounts is not None

    def to_api(self, now: datetime | None = None) -> dict[str, Any]:
        """One integer per credit type, ``updatedAt``, and per type the credits that expire next."""
        now = now or datetime.now(UTC)
        expiring = {}
        for credit_type in CreditType:
            soonest = blocks.expiring_next(self.blocks, str(credit_type), now)
            expiring[str(credit_type)] = soonest and {"amount": soonest[0], "expiresAt": soonest[1].isoformat()}
        return {
            **{str(credit_type): self.of(credit_type) for credit_type in CreditType},
            "updatedAt": self.updated_at.isoformat() if self.updated_at else None,
            "expiring": expiring,
        }

    def changed(
        self, credit_type: CreditType, amount: int, open_blocks: Mapping[str, Block], *, at: datetime
    ) -> Balances:
        """The balances after one more entry: ``credit_type`` at ``amount``, every type present.

        A type the document lacks is filled in with 0, so that every user is listed in the
        low-balance report of every type, also of a type added later. The new document's
        update time is not known until the commit.
        """
        amounts = {**dict.fromkeys(CreditType, 0), **self.amounts, credit_type: amount}
        return Balances(
            amounts=amounts, blocks=open_blocks, blocks_since=self.blocks_since, seq=self.seq + 1, updated_at=at
        )

    def document(self) -> dict[str, Any]:
        """The whole balance document, as a user's first entry creates it."""
        stored = {str(credit_type): amount for credit_type, amount in self.amounts.items()}
        return {**stored, **self.blocks_document(), SEQ: self.seq, UPDATED_AT: self.updated_at}

    def migration(self) -> dict[str, Any]:
        """The fields that bring the stored document to today's shape, as they stand: the old
        map's amounts moved to top-level fields and the map deleted; a document from before
        blocks gets its opening blocks. Empty when it has today's shape."""
        moved: dict[str, Any] = {}
        if self.legacy_amounts is not None:
            moved = {**self.legacy_amounts, LEGACY_AMOUNTS: firestore.DELETE_FIELD}
        if self.unmigrated:
            moved.update(self.blocks_document())
        return moved

    def updates_from(self, before: Balances) -> dict[str, Any]:
        """The fields to update on the document that held ``before``: the amounts that changed
        or that it lacked, each its own top-level field, so that an amount of a type this code
        does not know (one added by a newer deployment, while old and new instances both run)
        is never dropped; the blocks, and ``nextExpiry`` when it moved. A document of an older
        shape is brought to today's in the same update (:meth:`migration`)."""
        changed = before.migration()
        changed.update(
            (str(credit_type), amount)
            for credit_type, amount in self.amounts.items()
            if before.amounts.get(credit_type) != amount or credit_type not in before.amounts
        )
        # Every entry changes a block (a credit opens one, a debit takes, a refund gives back).
        changed[BLOCKS] = blocks.encode(self.blocks)
        soonest = blocks.next_expiry(self.blocks)
        if NEXT_EXPIRY in changed or blocks.next_expiry(before.blocks) != soonest:
            changed[NEXT_EXPIRY] = soonest
        return {**changed, SEQ: self.seq, UPDATED_AT: self.updated_at}

    def blocks_document(self) -> dict[str, Any]:
        """The block fields of the document: the open blocks, ``blocksSince`` and ``nextExpiry``."""
        return {
            BLOCKS: blocks.encode(self.blocks),
            BLOCKS_SINCE: self.blocks_since,
            NEXT_EXPIRY: blocks.next_expiry(self.blocks),
        }

    @classmethod
    def from_snapshot(cls, snap: DocumentSnapshot[Any]) -> Balances:
        if not snap.exists:
            return cls()
        d = snap.to_dict() or {}
        legacy = d.get(LEGACY_AMOUNTS)
        legacy = dict(legacy) if isinstance(legacy, Mapping) else None
        stored = d if legacy is None else legacy
        amounts = {t: int(stored[str(t)]) for t in CreditType if str(t) in stored}
        seq = int(d.get(SEQ, 0))
        unmigrated = BLOCKS not in d
        return cls(
            amounts=amounts,
            blocks=opening_blocks(amounts, at=d.get(UPDATED_AT)) if unmigrated else blocks.decode(d[BLOCKS]),
            blocks_since=seq if unmigrated else int(d.get(BLOCKS_SINCE, 0)),
            unmigrated=unmigrated,
            legacy_amounts=legacy,
            seq=seq,
            updated_at=d.get(UPDATED_AT),
            version=snap.update_time,
        )


def opening_blocks(amounts: Mapping[CreditType, int], *, at: datetime | None) -> dict[str, Block]:
    """A balance from before blocks, as blocks: one ``opening-<type>`` block per type that holds
    credits, never expiring (docs/ledger.md, "Existing data")."""
    opened = at or datetime(2000, 1, 1, tzinfo=UTC)
    return {
        f"opening-{credit_type}": Block(
            id=f"opening-{credit_type}",
            type=str(credit_type),
            amount=amount,
            remaining=amount,
            expires_at=None,
            created_at=opened,
        )
        for credit_type, amount in amounts.items()
        if amount > 0
    }


def migrate_balance(uid: str) -> bool:
    """Bring a stored balance document to today's shape (:meth:`Balances.migration`); False
    when it has it already, or the user has none.

    Idempotent and safe beside live writes: the update is guarded by the document's update
    time, and a ledger write that gets there first makes the same change itself.
    """
    for attempt in range(1, MAX_ATTEMPTS + 1):
        snap = balance_ref(uid).get()
        balances = Balances.from_snapshot(snap)
        if not snap.exists or not balances.needs_migration:
            return False
        try:
            option = db().write_option(last_update_time=snap.update_time)
            balance_ref(uid).update(balances.migration(), option=option)
        except gexc.FailedPrecondition:
            time.sleep(backoff_s(attempt))
            continue
        return True
    raise LedgerBusy(f"gave up migrating {uid} after {MAX_ATTEMPTS} attempts", uid=uid)


def balance_field(credit_type: CreditType) -> str:
    """The balance document's field of one type's amount: the type's name (``image``)."""
    return str(credit_type)


ExtraWrites = Callable[[str], Iterable[tuple[DocumentReference, Mapping[str, Any]]]]
"""Given the new entry's id, documents to merge in the same commit (a job's ``debitEntryId``)."""


_remembered: dict[str, Balances] = {}
"""Each user's balances as this process last committed them, with their update time.

A write for a user this process wrote last can skip reading the balance: the commit's
precondition on the remembered update time fails if anyone else wrote since, and the
retry reads afresh. A hot user (a burst of jobs, a grant then a spend) then costs one
round trip per entry instead of two.
"""
MAX_REMEMBERED = 10_000


_entry_time: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("ledger_entry_time", default=None)
"""The ``createdAt`` that :func:`entry_time` gives the entries written in its block."""


@contextlib.contextmanager
def entry_time(at: datetime) -> Iterator[datetime]:
    """Write the entries of this block with ``createdAt = at`` instead of the server's time.

    For tools that write history in-process (demo data, an import of another system's
    ledger) and for nothing else: the Cloud Functions never enter it, and no request can
    reach it. Each entry written inside must still continue its user's history:

    * ``at`` must be an aware datetime, not in the future when the entry is written;
    * it must be later than the user's newest entry, so that ``seq`` order and time order
      agree (histories are written oldest first, user by user or interleaved);
    * the balance's ``updatedAt`` takes ``at`` too (the time of the user's last change).

    A write that breaks a rule raises :class:`InvalidArgument` and writes nothing, unless
    its key was used before: a replay returns the existing entry as always. Everything else
    (idempotency, no overdraft, the chain) is the same as for any write. Nested blocks
    restore the outer time on exit; the time belongs to the current thread or task only.
    """
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidArgument("an entry time must be an aware datetime", field="createdAt")
    at = at.astimezone(UTC)
    token = _entry_time.set(at)
    try:
        yield at
    finally:
        _entry_time.reset(token)


def forget_remembered_balances() -> None:
    """Make the next write of every user read its balance (as a fresh instance would)."""
    _remembered.clear()


def _remember(uid: str, balances: Balances) -> None:
    if len(_remembered) >= MAX_REMEMBERED:
        _remembered.clear()
    _remembered[uid] = balances


def balance_ref(uid: str) -> DocumentReference:
    # One path, not a chain of collection/document calls: this is on every write's path.
    ref: DocumentReference = db().document(USERS, uid, "balances", "current")
    return ref


def idempotency_ref(key: str) -> DocumentReference:
    # A hash makes any permitted key a valid, fixed-length document id.
    ref: DocumentReference = db().document(IDEMPOTENCY, hashlib.sha256(key.encode()).hexdigest())
    return ref


def new_entry_ref() -> DocumentReference:
    """A new entry's document, with an id of the form Firestore gives (20 letters and digits).

    Made from one read of the OS's randomness: the client's own ``document()`` reads it once
    per character, which costs more than the rest of building the commit.
    """
    chars: list[str] = []
    while len(chars) < _ID_LENGTH:
        # Bytes below 248 (= 4 × 62) map evenly onto the 62 characters.
        chars += [_ID_ALPHABET[byte % len(_ID_ALPHABET)] for byte in os.urandom(32) if byte < 248]
    return ledger_collection().document("".join(chars[:_ID_LENGTH]))


def ledger_collection() -> firestore.CollectionReference:
    return db().collection(LEDGER)


def validate(request: LedgerRequest) -> None:
    """Raise :class:`InvalidArgument` naming the first field that is not acceptable."""
    if not isinstance(request.uid, str) or not _UID.match(request.uid):
        raise InvalidArgument("uid must be 1-128 characters without '/' or spaces", field="uid")
    for name, enum_type in (("type", CreditType), ("direction", Direction), ("source", Source)):
        value = getattr(request, name)
        if not isinstance(value, enum_type):
            allowed = [str(v) for v in enum_type]
            raise InvalidArgument(f"{name} must be one of {allowed}", field=name, allowed=allowed)
    amount = request.amount
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
        raise InvalidArgument(f"amount must be an integer from 1 to {MAX_AMOUNT}", field="amount", max=MAX_AMOUNT)
    validate_key(request.idempotency_key)
    if not isinstance(request.created_by, str) or not _CREATED_BY.match(request.created_by):
        raise InvalidArgument("createdBy must be system, stripe, user:<uid> or admin:<uid>", field="createdBy")
    if not isinstance(request.reason, str) or len(request.reason) > MAX_REASON_LENGTH:
        raise InvalidArgument(f"reason must be text of at most {MAX_REASON_LENGTH} characters", field="reason")
    for name in ("job_id", "payment_id", "invoice_id"):
        value = getattr(request, name)
        if value is not None and (not isinstance(value, str) or not _UID.match(value)):
            raise InvalidArgument(f"{name} must be 1-128 characters without '/'", field=name)
    try:
        meta_size = len(json.dumps(dict(request.meta), default=str))
    except (TypeError, ValueError) as exc:
        raise InvalidArgument("meta must be a map", field="meta") from exc
    if meta_size > MAX_META_BYTES:
        raise InvalidArgument(f"meta must be at most {MAX_META_BYTES} bytes", field="meta")
    if request.cap_at_balance and request.direction is not Direction.DEBIT:
        raise InvalidArgument("only a debit can be capped at the balance", field="cap_at_balance")
    rule = SOURCE_RULES[request.source]
    if request.direction not in rule.directions or request.type not in rule.types:
        raise InvalidArgument(
            f"source {request.source} cannot {request.direction} {request.type} credits",
            field="source",
        )
    _validate_blocks(request)


def _validate_blocks(request: LedgerRequest) -> None:
    """The block fields: an expiry for a plain credit, parts for a job's refund, a block for an expiration."""
    if request.expires_at is not None:
        at = request.expires_at
        if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
            raise InvalidArgument("expiresAt must be an aware datetime", field="expiresAt")
        if request.direction is not Direction.CREDIT or request.gives_back:
            raise InvalidArgument("only a credit that opens a block can expire", field="expiresAt")
    if request.gives_back:
        if request.source is not Source.REFUND or request.job_id is None:
            raise InvalidArgument("only a job's refund gives credits back to blocks", field="gives_back")
        if sum(part.amount for part in request.gives_back) != request.amount:
            raise InvalidArgument("the parts given back must add up to the amount", field="gives_back")
    if (request.source is Source.EXPIRATION) != (request.block is not None):
        raise InvalidArgument("an expiration, and only an expiration, names the block it expires", field="block")
    for name in ("block", "first_block"):
        value = getattr(request, name)
        if value is not None and (not isinstance(value, str) or not _UID.match(value)):
            raise InvalidArgument(f"{name} must be a block id", field=name)
    if request.first_block is not None and request.direction is not Direction.DEBIT:
        raise InvalidArgument("only a debit takes from a block first", field="first_block")


def validate_key(key: object) -> None:
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_LENGTH or "/" in key or not key.isprintable():
        raise InvalidArgument(
            f"idempotencyKey must be 1-{MAX_KEY_LENGTH} printable characters without '/'",
            field="idempotencyKey",
        )


def _day_of(at: datetime) -> str:
    return at.astimezone(UTC).date().isoformat()


def user_day_ref(day_id: str, uid: str) -> DocumentReference:
    ref: DocumentReference = db().collection(USER_DAYS).document(day_id).collection(USERS).document(uid)
    return ref


def users_of_day(day_id: str) -> firestore.Query:
    """The markers of the users with an entry in the UTC day ``YYYY-MM-DD``: one document each,
    named by the uid, read without their fields."""
    query: firestore.Query = db().collection(USER_DAYS).document(day_id).collection(USERS).select([])
    return query


def read_balances(uid: str) -> Balances:
    return Balances.from_snapshot(balance_ref(uid).get())


def uids_with_balances() -> Iterator[str]:
    """Every user who has a balance document, that is every user with at least one entry."""
    for snap in db().collection_group("balances").select([]).stream():
        user = snap.reference.parent.parent
        if snap.id == "current" and user is not None:
            yield user.id


def balances_expiring_by(at: datetime) -> Iterator[tuple[str, Balances]]:
    """Every user with an open block that expires by ``at`` (or has expired and awaits its
    expiration), as (uid, balances): the balance documents whose ``nextExpiry <= at``, by the
    collection-group index on ``nextExpiry`` (``firestore.indexes.json``)."""
    query = db().collection_group("balances").where(filter=FieldFilter(NEXT_EXPIRY, "<=", at))
    for snap in query.stream():
        user = snap.reference.parent.parent
        if snap.id == "current" and user is not None:
            yield str(user.id), Balances.from_snapshot(snap)


def low_balances(
    credit_type: CreditType, below: int, *, after: tuple[int, str] | None, limit: int
) -> list[tuple[str, Balances]]:
    """Users whose ``credit_type`` balance is below ``below``, lowest first, as (uid, balances).

    ``after`` is the (balance, uid) of the previous page's last user.
    """
    field_name = balance_field(credit_type)
    query = (
        db()
        .collection_group("balances")
        .where(filter=FieldFilter(field_name, "<", below))
        .order_by(field_name)
        .order_by("__name__")
    )
    if after is not None:
        cursor = {balance_field(credit_type): after[0], "__name__": balance_ref(after[1])}
        query = query.start_after(cursor)
    found = []
    for snap in query.limit(limit).stream():
        user = snap.reference.parent.parent
        if snap.id == "current" and user is not None:
            found.append((str(user.id), Balances.from_snapshot(snap)))
    return found


def find_entry_by_key(key: str) -> LedgerEntry | None:
    """The entry an idempotency key made, or None if the key was never used."""
    record = idempotency_ref(key).get()
    if not record.exists:
        return None
    return _read_entry((record.to_dict() or {})["entryId"])


def get_entry(entry_id: str) -> LedgerEntry | None:
    snap = ledger_collection().document(entry_id).get()
    return LedgerEntry.from_snapshot(snap) if snap.exists else None


def write_ledger_entry(request: LedgerRequest, *, also: ExtraWrites | None = None) -> LedgerWrite:
    """Write one entry exactly once, or return the entry its key already made.

    Each attempt takes the steps of the module docstring: :func:`_load` the state,
    :func:`_decide` (a replay, a conflict, an overdraft, or the change to make),
    :func:`_build_commit`, commit, then :func:`_after_commit`. A commit that loses a race
    backs off (:func:`backoff_s`) and the next attempt loads afresh.

    Raises :class:`InvalidArgument`, :class:`IdempotencyConflict`,
    :class:`InsufficientCredits` (after recording an anomaly) or :class:`LedgerBusy`.
    """
    validate(request)
    target = _Target.of(request, at=_entry_time.get())
    for attempt in range(1, MAX_ATTEMPTS + 1):
        state = _load(target, first=attempt == 1)
        decided = _decide(target, state, attempt)
        if isinstance(decided, LedgerWrite):
            return decided
        if decided is None:
            continue  # only a remembered balance made the debit look too large: decide on a fresh read
        commit = _build_commit(target, state, decided, also)
        try:
            results = commit.commit()
        except (gexc.FailedPrecondition, gexc.AlreadyExists, gexc.Conflict, gexc.Aborted, gexc.NotFound):
            # Another writer changed this user's balance or used this key first.
            time.sleep(backoff_s(attempt))
            continue
        return _after_commit(target, commit, results, attempt)
    raise LedgerBusy(
        f"gave up after {MAX_ATTEMPTS} attempts: too many concurrent writes for this user",
        uid=request.uid,
    )


def backoff_s(attempt: int) -> float:
    """How long to wait after failed attempt number ``attempt`` (1, 2, …): full jitter, a random
    time up to 8 ms after the first, the bound doubling each time up to :data:`BACKOFF_CAP_S`."""
    return random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt))


@dataclass(frozen=True, kw_only=True)
class _Target:
    """What every attempt of one write works on: the request and the two documents it guards."""

    request: LedgerRequest
    fingerprint: str
    at: datetime | None
    """The entry's given time (:func:`entry_time`), or None for the server's."""
    balance: DocumentReference
    record: DocumentReference
    """The key's idempotency record."""
    entry: DocumentReference
    """The new entry's document; its id is also the id of the block a credit opens."""

    @classmethod
    def of(cls, request: LedgerRequest, *, at: datetime | None) -> _Target:
        return cls(
            request=request,
            fingerprint=request.fingerprint(),
            at=at,
            balance=balance_ref(request.uid),
            record=idempotency_ref(request.idempotency_key),
            entry=new_entry_ref(),
        )


@dataclass(frozen=True, kw_only=True)
class _State:
    """What an attempt knows when it decides."""

    balances: Balances
    record: DocumentSnapshot[Any] | None
    """The key's idempotency record as read; None when not read (the commit's create tells)."""
    remembered: bool
    """The balances are what this process committed last, not read: they may be stale."""


@dataclass(frozen=True, kw_only=True)
class _Change:
    """What the new entry does to its balance and blocks."""

    amount: int
    """The request's amount, or less for a debit capped at the balance."""
    balance_after: int
    """The balance of the entry's type after it."""
    blocks: Mapping[str, Block]
    """The user's open blocks after it."""
    entry_fields: Mapping[str, Any]
    """What the entry records of its blocks: ``expiresAt``, ``paidBy`` or ``returnedTo``."""


@dataclass(frozen=True, kw_only=True)
class _Refusal:
    """Why the entry cannot be written on these balances: an overdraft, or nothing to expire."""

    spendable: int
    """What a debit could take: the unexpired remainders of its type."""
    error: InvalidArgument | None = None
    """The error to raise; None for an overdraft (:func:`_reject_overdraft`)."""


def _load(target: _Target, *, first: bool) -> _State:
    """Step 1: the user's balances, and on a retry the key's record.

    The first attempt reads only the balance document, or nothing when this process made the
    user's last change; most keys are new, and the commit's create of the record detects a
    used one. A later attempt reads the balance and the record in one ``get_all``.
    """
    if first:
        remembered = _remembered.pop(target.request.uid, None)
        if remembered is not None:
            return _State(balances=remembered, record=None, remembered=True)
        return _State(balances=Balances.from_snapshot(target.balance.get()), record=None, remembered=False)
    snaps = {snap.reference.path: snap for snap in db().get_all([target.record, target.balance])}
    return _State(
        balances=Balances.from_snapshot(snaps[target.balance.path]), record=snaps[target.record.path], remembered=False
    )


def _decide(target: _Target, state: _State, attempt: int) -> _Change | LedgerWrite | None:
    """Step 2: a replay, a conflict, an overdraft, a time out of order, or the change to make.

    A used key returns its entry (same fingerprint) or raises :class:`IdempotencyConflict`;
    it is checked first, so that a replayed debit or a replayed piece of history returns its
    entry whatever the balance or the time is now. Then a given time out of order raises
    :class:`InvalidArgument` and a debit beyond the spendable credits
    :class:`InsufficientCredits`. None means: decide again on a fresh read, because only a
    remembered balance (never trusted to refuse a debit) made the entry look impossible.
    """
    request = target.request
    change = _apply(target, state.balances, target.at or datetime.now(UTC))
    if isinstance(change, _Refusal) and state.remembered:
        return None
    untimely = _untimely(request.uid, target.at, state.balances) if target.at is not None else None
    record = state.record
    if record is None and (isinstance(change, _Refusal) or untimely is not None):
        record = target.record.get()
    if record is not None and record.exists:
        return _replay(request, record, target.fingerprint, attempt)
    if untimely is not None:
        raise untimely
    if isinstance(change, _Refusal):
        if change.error is not None:
            raise change.error
        _reject_overdraft(request, change.spendable)
    return change


def _apply(target: _Target, balances: Balances, now: datetime) -> _Change | _Refusal:
    """The entry's effect on the balance and the blocks (:mod:`credits.core.blocks`) at ``now``.

    A credit opens a block named by its entry id, or a job's refund gives the debit's parts
    back; an ``expiration`` takes its block's remainder; any other debit takes from the
    unexpired blocks in the spending order.
    """
    request = target.request
    credit_type = str(request.type)
    current = balances.of(request.type)
    if request.direction is Direction.CREDIT:
        after = current + request.amount
        if request.gives_back:
            returned, open_blocks = blocks.give_back(
                balances.blocks, request.gives_back, credit_type=credit_type, refund_id=target.entry.id, now=now
            )
            fields: dict[str, Any] = {"returnedTo": [part.document() for part in returned]}
            return _Change(amount=request.amount, balance_after=after, blocks=open_blocks, entry_fields=fields)
        opened = Block(
            id=target.entry.id,
            type=credit_type,
            amount=request.amount,
            remaining=request.amount,
            expires_at=request.expires_at,
            created_at=now,
        )
        open_blocks = {**balances.blocks, opened.id: opened}
        fields = {"expiresAt": request.expires_at}
        return _Change(amount=request.amount, balance_after=after, blocks=open_blocks, entry_fields=fields)
    # Never more than the balance, even if the blocks held more (they cannot, but a debit must
    # not be the one to find out by driving a balance below zero).
    spendable = min(blocks.spendable(balances.blocks, credit_type, now), current)
    if request.block is not None:
        block = balances.blocks.get(request.block)
        if block is None or block.type != credit_type or not block.is_expired(now) or block.remaining > current:
            message = f"block {request.block} has no expired {credit_type} credits left"
            return _Refusal(spendable=spendable, error=InvalidArgument(message, field="block", block=request.block))
        part, open_blocks = blocks.expire(balances.blocks, block.id)
        fields = {"paidBy": [part.document()]}
        return _Change(amount=part.amount, balance_after=current - part.amount, blocks=open_blocks, entry_fields=fields)
    amount = min(request.amount, spendable) if request.cap_at_balance and spendable > 0 else request.amount
    if amount > spendable:
        return _Refusal(spendable=spendable)
    taken = blocks.take(balances.blocks, credit_type, amount, now, first=request.first_block)
    if taken is None:
        return _Refusal(spendable=spendable)
    parts, open_blocks = taken
    fields = {"paidBy": [part.document() for part in parts]}
    return _Change(amount=amount, balance_after=current - amount, blocks=open_blocks, entry_fields=fields)


class _Commit:
    """Step 3's batch: every write has a name, and its result is read by that name."""

    def __init__(self, *, entry: DocumentReference, entry_data: dict[str, Any], balances: Balances) -> None:
        self.entry = entry
        """The new entry's document."""
        self.entry_data = entry_data
        """The new entry as written (``createdAt`` may be the server's timestamp, still to come)."""
        self.balances = balances
        """The user's balances after the entry."""
        self._batch = db().batch()
        self._names: list[str] = []

    def create(self, name: str, ref: DocumentReference, data: Mapping[str, Any]) -> None:
        self._batch.create(ref, dict(data))
        self._names.append(name)

    def update(self, name: str, ref: DocumentReference, data: Mapping[str, Any], *, last_update_time: datetime) -> None:
        self._batch.update(ref, dict(data), option=db().write_option(last_update_time=last_update_time))
        self._names.append(name)

    def merge(self, name: str, ref: DocumentReference, data: Mapping[str, Any]) -> None:
        self._batch.set(ref, dict(data), merge=True)
        self._names.append(name)

    def commit(self) -> dict[str, WriteResult]:
        """Commit every write in one request; each write's result, by its name."""
        return dict(zip(self._names, self._batch.commit(), strict=True))


def _build_commit(target: _Target, state: _State, change: _Change, also: ExtraWrites | None) -> _Commit:
    """Step 3: the balance update guarded by the balance's update time (a create for a new
    user), a create of the idempotency record and of the entry, and the caller's documents.

    Only the entry takes the server's clock: each server timestamp makes the commit
    measurably slower, and the entry's ``createdAt`` is the time the ledger orders by.
    """
    request = target.request
    now = datetime.now(UTC)
    before = state.balances
    after = before.changed(request.type, change.balance_after, change.blocks, at=target.at or now)
    entry = target.entry
    entry_data = entry_document(
        request,
        amount=change.amount,
        balance_after=change.balance_after,
        seq=after.seq,
        created_at=target.at or firestore.SERVER_TIMESTAMP,
        blocks_fields=change.entry_fields,
    )
    commit = _Commit(entry=entry, entry_data=entry_data, balances=after)
    if before.version is None:
        commit.create("balance", target.balance, after.document())
    else:
        commit.update("balance", target.balance, after.updates_from(before), last_update_time=before.version)
    day = _day_of(after.updated_at or now)
    if before.updated_at is None or _day_of(before.updated_at) != day:
        # The user's first entry of the day (a concurrent first entry writes the same marker).
        commit.merge("user day", user_day_ref(day, request.uid), {"uid": request.uid})
    record = {
        "key": request.idempotency_key,
        "entryId": entry.id,
        "uid": request.uid,
        "fingerprint": target.fingerprint,
        "createdAt": now,
    }
    commit.create("record", target.record, record)
    commit.create("entry", entry, commit.entry_data)
    for n, (ref, data) in enumerate(also(entry.id) if also else ()):
        commit.merge(f"also {n}", ref, data)
    return commit


def _after_commit(target: _Target, commit: _Commit, results: Mapping[str, WriteResult], attempt: int) -> LedgerWrite:
    """Step 5: remember the user's new balances, log the entry and return it.

    The commit reports the server timestamp it gave the entry, so nothing is read back; an
    entry written with a given time has no server timestamp, and the given time is its time.
    """
    request = target.request
    _remember(request.uid, dataclasses.replace(commit.balances, version=results["balance"].update_time))
    created_at = target.at or results["entry"].transform_results[0].timestamp_value
    entry = LedgerEntry.from_document(commit.entry.id, {**commit.entry_data, "createdAt": created_at})
    logs.info("ledger entry written", event="ledger_entry_written", **entry.log_fields(), attempts=attempt)
    return LedgerWrite(entry=entry, replayed=False, attempts=attempt)


def _untimely(uid: str, at: datetime, balances: Balances) -> InvalidArgument | None:
    """Why an entry of ``uid`` cannot be written at ``at``, or None when it can.

    Reads the user's newest entry (one indexed query, only on writes with a given time).
    Another writer who commits after this read changes the balance, so the commit's
    precondition fails and the next attempt checks again.
    """
    now = datetime.now(UTC)
    if at > now:
        return InvalidArgument(
            f"an entry time must not be in the future: {at.isoformat()} is after {now.isoformat()}",
            field="createdAt",
        )
    if balances.seq == 0 and balances.version is None:
        return None
    newest = (
        ledger_collection()
        .where(filter=FieldFilter("uid", "==", uid))
        .order_by("createdAt", direction=firestore.Query.DESCENDING)
        .limit(1)
        .get()
    )
    if newest and at <= (last := newest[0].get("createdAt")):
        return InvalidArgument(
            f"an entry time must be later than the user's newest entry: {at.isoformat()} is not after "
            f"{last.isoformat()}; write history oldest first",
            field="createdAt",
            uid=uid,
            newestEntryId=newest[0].id,
        )
    return None


def _replay(request: LedgerRequest, record: DocumentSnapshot[Any], fingerprint: str, attempt: int) -> LedgerWrite:
    data = record.to_dict() or {}
    if data.get("fingerprint") != fingerprint:
        logs.warning(
            "idempotency key reused with other parameters",
            event="idempotency_conflict",
            idempotencyKey=request.idempotency_key,
            uid=request.uid,
            source=str(request.source),
            existingEntryId=data.get("entryId"),
        )
        raise IdempotencyConflict(
            "this idempotencyKey was already used with different parameters",
            idempotencyKey=request.idempotency_key,
            entryId=data.get("entryId"),
        )
    entry = _read_entry(data["entryId"])
    logs.info(
        "idempotent replay skipped",
        event="idempotent_skip",
        idempotencyKey=request.idempotency_key,
        entryId=entry.id,
        uid=request.uid,
        source=str(request.source),
        jobId=request.job_id,
        paymentId=request.payment_id,
        meta=dict(request.meta),
    )
    return LedgerWrite(entry=entry, replayed=True, attempts=attempt)


def _reject_overdraft(request: LedgerRequest, current: int) -> NoReturn:
    """Raise :class:`InsufficientCredits` for a debit beyond ``current``, the spendable credits."""
    error = InsufficientCredits(
        uid=request.uid, credit_type=str(request.type), attempted=request.amount, balance=current
    )
    case: dict[str, Any] = {
        "uid": request.uid,
        "type": str(request.type),
        "balance": current,
        "source": str(request.source),
        "jobId": request.job_id,
        "idempotencyKey": request.idempotency_key,
    }
    logs.warning(error.message, event="debit_rejected", attempted=request.amount, **case)
    anomalies.record(
        anomalies.Kind.INSUFFICIENT_CREDITS, dedupe_key=request.idempotency_key, amount=request.amount, **case
    )
    raise error


def _read_entry(entry_id: str) -> LedgerEntry:
    entry = get_entry(entry_id)
    if entry is None:  # the record and its entry are created in one commit
        raise RuntimeError(f"idempotency record points at missing entry {entry_id}")
    return entry


def entry_document(
    request: LedgerRequest,
    *,
    amount: int,
    balance_after: int,
    seq: int,
    created_at: Any = firestore.SERVER_TIMESTAMP,
    blocks_fields: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``credits_ledger`` document of an entry: every field, as :func:`write_ledger_entry` writes it.

    Public for tools that must write entry-shaped documents in bulk without the ledger's
    checks (the read benchmarks' data), so that they write exactly this shape. ``created_at``
    is the server's timestamp unless given; ``amount`` below the request's (a capped
    clawback) records the request's in ``meta.requestedAmount``. ``blocks_fields`` are what
    the entry did to its blocks (``expiresAt``, ``paidBy`` or ``returnedTo``).
    """
    meta = dict(request.meta)
    if amount != request.amount:
        meta["requestedAmount"] = request.amount
    return {
        "uid": request.uid,
        "type": str(request.type),
        "direction": str(request.direction),
        "amount": amount,
        "balance_after": balance_after,
        "seq": seq,
        "source": str(request.source),
        "reason": request.reason,
        "jobId": request.job_id,
        "paymentId": request.payment_id,
        "invoiceId": request.invoice_id,
        "meta": meta,
        "createdAt": created_at,
        "createdBy": request.created_by,
        "idempotencyKey": request.idempotency_key,
        **(blocks_fields or {}),
    }
