"""Credit alerts: a user's balance went below their threshold, or some of their credits expire soon.

An alert is a record in ``credit_alerts/{alertId}`` that a host app triggers on (an email, a
push), a WARNING log line ``credit_alert``, and, while its cause lasts, a banner in the web app
(:func:`active_alerts`, behind ``GET /api/credits/alerts``). docs/alerts.md is the contract.

**Low balance, raised from the ledger entry that crossed.** Every entry stores the balance
after it, and a user's entries are a gap-free chain, written one at a time (the balance
document's update time serialises them, :mod:`credits.core.ledger`). So a debit crossed the
threshold exactly when the balance before it (``balance_after + amount``) was at or above the
threshold and the balance after it is below (:func:`crosses`). However many debits race, the
chain orders them, and exactly one entry of each fall through the threshold is the crossing:
one alert per crossing, never one per debit, with nothing added to the ledger's commit. The
alert re-arms by itself: the next crossing needs a balance at or above the threshold first,
which only a credit (a purchase, a grant, a refund) can bring. Any debit counts: a
generation, an expiration, a clawback, an admin debit.

The alert's id is ``low_balance:<entryId>``, and it is written with ``create``: a repeated
trigger delivery, or the sweep below meeting the trigger, finds it there and writes nothing
(and logs nothing). The threshold is the user's own (:mod:`credits.flows.credit_settings`) or
the configuration's default, as read when the alert is judged; 0 means no alert (no balance
is below 0).

*Which balance.* The entry's ``balance_after`` is the balance of record, which equals the
spendable balance except for credits that expired and whose ``expiration`` entry the expiry
schedule has not written yet (at most its 15 minutes). In that window a debit may leave the
spendable balance below the threshold while its ``balance_after`` is not; the expiration
entry, a debit like any other, is then the crossing.

**Lost deliveries.** A Python Firestore trigger is never retried, so a delivery that fails is
lost. :func:`sweep_credit_alerts`, scheduled hourly, judges again every debit of the last
:data:`LOOKBACK` (less a :data:`GRACE` left to the trigger) and creates what is missing, with
the same ids. It skips entries written before the user last changed their settings: the
trigger judged those under the threshold of then, and a later threshold must not raise an
alert for an old debit.

**Automatic top-up outcomes.** Two more kinds share the record, written by
:mod:`credits.flows.top_up_attempts` in the same commit as the attempt's outcome (so exactly
once per attempt, with the attempt's id): ``auto_top_up_failed:<attemptId>`` (a payment that
failed or needed the customer's authentication; automatic top-up was turned off) and
``auto_top_up_capped:<attemptId>`` (a crossing that would have passed the monthly cap; no
charge). Their fields say which crossing, which pack, what it would have cost and why.

**Expiring soon, once per block.** The same schedule reads the users with a block that
expires within ``alerts.expiring_soon_days`` (the ``nextExpiry`` index of the expiry schedule)
and raises ``expiring_soon:<uid>:<blockId>`` for each unexpired block with credits left that
expires by then. A block is a grant (its id is the entry that opened it), so this is one alert
per grant, however often the schedule runs: the run reads which of those alerts exist (one
``get_all``) and creates the others. A block emptied by spending is closed and raises nothing; a
block further away raises nothing yet.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore import DocumentReference, DocumentSnapshot

from credits.core import blocks, ledger, logs
from credits.core.blocks import Block
from credits.core.firestore_client import db
from credits.core.ledger import LEDGER, Balances, CreditType, Direction, LedgerEntry
from credits.core.query_spec import QuerySpec
from credits.core.settings import SETTINGS
from credits.flows import credit_settings
from credits.flows.credit_settings import CreditSettings

ALERTS = "credit_alerts"
"""``credit_alerts/{alertId}``: one record per alert, read by its owner and admins, written by no client."""

LOOKBACK = timedelta(hours=2)
"""How far back the hourly sweep judges debits again: two runs, so that one missed run loses nothing."""
GRACE = timedelta(minutes=5)
"""Debits more recent than this are left to their trigger."""
READ_BATCH = 300
"""Alert documents read per ``get_all`` when a run looks for the ones that exist."""


class Kind(enum.StrEnum):
    LOW_BALANCE = "low_balance"
    EXPIRING_SOON = "expiring_soon"
    AUTO_TOP_UP_FAILED = "auto_top_up_failed"
    """An automatic top-up's payment failed or needed authentication; automatic top-up was turned off."""
    AUTO_TOP_UP_CAPPED = "auto_top_up_capped"
    """A crossing that would have passed the monthly cap of automatic top-up: nothing was charged."""


def alert_ref(alert_id: str) -> DocumentReference:
    ref: DocumentReference = db().collection(ALERTS).document(alert_id)
    return ref


@dataclass(frozen=True, kw_only=True)
class Alert:
    """One alert, as ``credit_alerts/{id}`` stores it. Every field is always there, null where
    it does not apply to the kind, so that a host's trigger reads one shape."""

    id: str
    """``low_balance:<entryId>``, ``expiring_soon:<uid>:<blockId>``, ``auto_top_up_failed:<attemptId>``
    or ``auto_top_up_capped:<attemptId>``."""
    uid: str
    kind: Kind
    type: CreditType
    balance: int
    """Low balance and automatic top-up: the crossing entry's ``balance_after``. Expiring soon: the
    user's spendable credits of the type when the alert was raised."""
    threshold: int | None
    """Low balance and automatic top-up: the threshold the balance fell below. Expiring soon: null."""
    entry_id: str
    """Low balance and automatic top-up: the debit that crossed. Expiring soon: the credit that opened the block."""
    source: str | None = None
    """Low balance and automatic top-up: that debit's source (``text2image``, ``expiration``…)."""
    crossed_at: datetime | None = None
    """Low balance and automatic top-up: when the balance crossed (the entry's ``createdAt``)."""
    block_id: str | None = None
    """Expiring soon: the block (its credits are what is left of one grant)."""
    credits: int | None = None
    """Expiring soon: the credits left in the block when the alert was raised. Automatic top-up:
    the pack's credits."""
    expires_at: datetime | None = None
    """Expiring soon: when they expire."""
    pack: str | None = None
    """Automatic top-up: the pack (its price id)."""
    amount: int | None = None
    """Automatic top-up: the pack's price, in the currency's minor unit."""
    currency: str | None = None
    """Automatic top-up: that price's currency."""
    monthly_cap: int | None = None
    """Automatic top-up capped: the monthly cap."""
    charged: int | None = None
    """Automatic top-up capped: what the month's automatic top-ups had charged or were charging."""
    reason: str | None = None
    """Automatic top-up failed: why (``card_declined``, ``authentication_required``…)."""
    payment_id: str | None = None
    """Automatic top-up failed: the payment intent, when Stripe made one."""
    created_at: datetime | None = None
    """When the alert was raised (the server's time of its write); None before it is written."""

    def document(self) -> dict[str, Any]:
        """The stored record; ``createdAt`` is the server's timestamp."""
        return {
            "uid": self.uid,
            "kind": str(self.kind),
            "type": str(self.type),
            "balance": self.balance,
            "threshold": self.threshold,
            "entryId": self.entry_id,
            "source": self.source,
            "crossedAt": self.crossed_at,
            "blockId": self.block_id,
            "credits": self.credits,
            "expiresAt": self.expires_at,
            "pack": self.pack,
            "amount": self.amount,
            "currency": self.currency,
            "monthlyCap": self.monthly_cap,
            "charged": self.charged,
            "reason": self.reason,
            "paymentId": self.payment_id,
            "createdAt": firestore.SERVER_TIMESTAMP,
        }

    def to_api(self) -> dict[str, Any]:
        """The record as the API and the log line show it: its id, times as ISO 8601 text."""
        stored = self.document()
        times = {"crossedAt": self.crossed_at, "expiresAt": self.expires_at, "createdAt": self.created_at}
        return {
            "id": self.id,
            **stored,
            **{name: at.isoformat() if at else None for name, at in times.items()},
        }

    @classmethod
    def from_snapshot(cls, snap: DocumentSnapshot[Any]) -> Alert:
        d = snap.to_dict() or {}
        return cls(
            id=snap.id,
            uid=d["uid"],
            kind=Kind(d["kind"]),
            type=CreditType(d["type"]),
            balance=d["balance"],
            threshold=d.get("threshold"),
            entry_id=d["entryId"],
            source=d.get("source"),
            crossed_at=d.get("crossedAt"),
            block_id=d.get("blockId"),
            credits=d.get("credits"),
            expires_at=d.get("expiresAt"),
            pack=d.get("pack"),
            amount=d.get("amount"),
            currency=d.get("currency"),
            monthly_cap=d.get("monthlyCap"),
            charged=d.get("charged"),
            reason=d.get("reason"),
            payment_id=d.get("paymentId"),
            created_at=d.get("createdAt"),
        )


def crosses(*, before: int, after: int, threshold: int) -> bool:
    """A balance went from ``before`` to ``after`` below ``threshold``: at or above it before, below it after."""
    return before >= threshold > after


def low_balance_alert(entry: LedgerEntry, settings: CreditSettings) -> Alert | None:
    """The alert ``entry`` raises under ``settings``, or None when it crosses no threshold."""
    if entry.direction is not Direction.DEBIT:
        return None
    threshold = settings.threshold(entry.type)
    if not crosses(before=entry.balance_after + entry.amount, after=entry.balance_after, threshold=threshold):
        return None
    return Alert(
        id=f"{Kind.LOW_BALANCE}:{entry.id}",
        uid=entry.uid,
        kind=Kind.LOW_BALANCE,
        type=entry.type,
        balance=entry.balance_after,
        threshold=threshold,
        entry_id=entry.id,
        source=str(entry.source),
        crossed_at=entry.created_at,
    )


def expiring_soon_alert(uid: str, block: Block, balances: Balances, now: datetime) -> Alert:
    credit_type = CreditType(block.type)
    return Alert(
        id=f"{Kind.EXPIRING_SOON}:{uid}:{block.id}",
        uid=uid,
        kind=Kind.EXPIRING_SOON,
        type=credit_type,
        balance=balances.spendable(credit_type, now),
        threshold=None,
        entry_id=block.id,
        block_id=block.id,
        credits=block.remaining,
        expires_at=block.expires_at,
    )


def expiring_blocks(open_blocks: Mapping[str, Block], now: datetime, until: datetime) -> list[Block]:
    """The unexpired blocks with credits left that expire by ``until``, soonest first."""
    return blocks.spending_order(
        b for b in open_blocks.values() if b.remaining > 0 and b.expires_at is not None and now < b.expires_at <= until
    )


def expiring_soon_until(now: datetime) -> datetime:
    """The end of the expiring-soon window that starts at ``now`` (``alerts.expiring_soon_days``)."""
    return now + timedelta(days=SETTINGS.alerts.expiring_soon_days)


def raise_alert(alert: Alert, *, via: str) -> Alert | None:
    """Write the alert unless it was raised before; the alert as written, or None when it existed.

    ``create`` makes it exactly once: a second delivery, or a sweep meeting the trigger, finds it
    there. Only the write that created it logs ``credit_alert``."""
    try:
        result = alert_ref(alert.id).create(alert.document())
    except gexc.AlreadyExists:
        return None
    return announce(alert, created_at=result.update_time, via=via)


def announce(alert: Alert, *, created_at: datetime, via: str) -> Alert:
    """Log a newly written alert (once: only its writer calls this); the alert with its time."""
    raised = replace(alert, created_at=created_at)
    fields = raised.to_api()
    del fields["id"]
    logs.warning("credit alert", event="credit_alert", alertId=raised.id, via=via, **fields)
    return raised


def raise_low_balance_alert(entry_id: str) -> Alert | None:
    """The trigger's work for a new ledger entry: its low-balance alert if it crossed, once."""
    entry = ledger.get_entry(entry_id)
    if entry is None or entry.direction is not Direction.DEBIT:
        return None  # a credit never crosses downwards: no settings read
    return raise_crossing_alert(entry, credit_settings.read(entry.uid))


def raise_crossing_alert(entry: LedgerEntry, settings: CreditSettings) -> Alert | None:
    """The low-balance alert of a debit read already, under settings read already; once."""
    alert = low_balance_alert(entry, settings)
    return raise_alert(alert, via="trigger") if alert else None


def _missing(alerts: Iterable[Alert]) -> list[Alert]:
    """The alerts not raised yet, read with ``get_all`` :data:`READ_BATCH` at a time (a run that
    would only find them there then writes nothing)."""
    wanted = {alert.id: alert for alert in alerts}
    ids = list(wanted)
    existing: set[str] = set()
    for start in range(0, len(ids), READ_BATCH):
        refs = [alert_ref(alert_id) for alert_id in ids[start : start + READ_BATCH]]
        existing |= {snap.id for snap in db().get_all(refs) if snap.exists}
    return [alert for alert_id, alert in wanted.items() if alert_id not in existing]


def recent_debits(start: datetime, end: datetime) -> QuerySpec:
    """Every user's debits written in ``[start, end)``: the ledger's ``direction, createdAt`` index."""
    return QuerySpec(collection=LEDGER, equals=[("direction", str(Direction.DEBIT))], at_or_after=start, before=end)


@dataclass(kw_only=True)
class SweepReport:
    debits: int = 0
    """Debits of the window judged again."""
    repaired: list[Alert] = field(default_factory=list)
    """Low-balance alerts whose trigger delivery was lost, raised by this run."""
    expiring_users: int = 0
    """Users with a block that expires within the window."""
    expiring: list[Alert] = field(default_factory=list)
    """Expiring-soon alerts raised by this run."""


def sweep_credit_alerts(now: datetime | None = None, *, lookback: timedelta = LOOKBACK) -> SweepReport:
    """The hourly schedule: low-balance crossings whose trigger delivery was lost, and expiring-soon alerts.

    ``lookback`` longer than :data:`LOOKBACK` makes up the crossings of an outage of the schedule."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    report = SweepReport()
    report.repaired = _sweep_low_balance(now - lookback, now - GRACE, report)
    report.expiring = _raise_expiring_soon(now, report)
    (logs.warning if report.repaired else logs.info)(
        "credit alert sweep finished",
        event="credit_alert_sweep_finished",
        debits=report.debits,
        repaired=len(report.repaired),
        expiringUsers=report.expiring_users,
        expiringSoon=len(report.expiring),
        seconds=round(time.perf_counter() - started, 3),
    )
    return report


def _sweep_low_balance(start: datetime, end: datetime, report: SweepReport) -> list[Alert]:
    entries = [LedgerEntry.from_snapshot(snap) for snap in recent_debits(start, end).build().stream()]
    report.debits = len(entries)
    settings: dict[str, CreditSettings] = {}
    crossings = []
    for entry in entries:
        if entry.uid not in settings:
            settings[entry.uid] = credit_settings.read(entry.uid)
        mine = settings[entry.uid]
        if mine.updated_at is not None and mine.updated_at > entry.created_at:
            continue  # judged by its trigger under the threshold of then
        alert = low_balance_alert(entry, mine)
        if alert is not None:
            crossings.append(alert)
    return [raised for alert in _missing(crossings) if (raised := raise_alert(alert, via="sweep"))]


def _raise_expiring_soon(now: datetime, report: SweepReport) -> list[Alert]:
    until = expiring_soon_until(now)
    # Read every candidate first, then write: a stream held open across writes could time out.
    due = []
    for uid, balances in list(ledger.balances_expiring_by(until)):
        soon = expiring_blocks(balances.blocks, now, until)
        if soon:
            report.expiring_users += 1
            due += [expiring_soon_alert(uid, block, balances, now) for block in soon]
    return [raised for alert in _missing(due) if (raised := raise_alert(alert, via="schedule"))]


# What the web app shows now: the banner's data.


def latest_low_balance(uid: str, credit_type: CreditType) -> QuerySpec:
    """The user's most recent low-balance alert of a type (index ``uid, kind, type, crossedAt desc``)."""
    return QuerySpec(
        collection=ALERTS,
        equals=[("uid", uid), ("kind", str(Kind.LOW_BALANCE)), ("type", str(credit_type))],
        order_field="crossedAt",
        limit=1,
    )


@dataclass(frozen=True, kw_only=True)
class LowBalanceNow:
    type: CreditType
    balance: int
    """The spendable credits of the type now."""
    threshold: int
    alert: Alert
    """The alert that announced it: the type's latest low-balance alert."""

    def to_api(self) -> dict[str, Any]:
        return {
            "type": str(self.type),
            "balance": self.balance,
            "threshold": self.threshold,
            "alert": self.alert.to_api(),
        }


@dataclass(frozen=True, kw_only=True)
class ExpiringNow:
    type: CreditType
    block_id: str
    credits: int
    expires_at: datetime
    alert: Alert | None
    """The block's expiring-soon alert; null until the hourly schedule has raised it."""

    def to_api(self) -> dict[str, Any]:
        return {
            "type": str(self.type),
            "blockId": self.block_id,
            "credits": self.credits,
            "expiresAt": self.expires_at.isoformat(),
            "alert": self.alert.to_api() if self.alert else None,
        }


@dataclass(frozen=True, kw_only=True)
class AutoTopUpOffNow:
    """Automatic top-up that a failed payment turned off, until the user turns it on again."""

    type: CreditType | None
    """The chosen pack's credit type (the balance it watched); None when the pack left the configuration."""
    reason: str
    """Why the payment failed (``card_declined``, ``authentication_required``…)."""
    at: datetime | None
    """When it was turned off."""
    alert: Alert | None
    """Its ``auto_top_up_failed`` alert; None if the record cannot be read."""

    def to_api(self) -> dict[str, Any]:
        return {
            "type": str(self.type) if self.type else None,
            "reason": self.reason,
            "at": self.at.isoformat() if self.at else None,
            "alert": self.alert.to_api() if self.alert else None,
        }


@dataclass(frozen=True, kw_only=True)
class ActiveAlerts:
    """The alerts whose cause lasts now: what a banner shows, and what clears it."""

    low_balance: tuple[LowBalanceNow, ...]
    expiring_soon: tuple[ExpiringNow, ...]
    auto_top_up_off: tuple[AutoTopUpOffNow, ...] = ()

    def to_api(self) -> dict[str, Any]:
        return {
            "lowBalance": [item.to_api() for item in self.low_balance],
            "expiringSoon": [item.to_api() for item in self.expiring_soon],
            "autoTopUpOff": [item.to_api() for item in self.auto_top_up_off],
            "expiringSoonDays": SETTINGS.alerts.expiring_soon_days,
        }


def active_alerts(uid: str, now: datetime | None = None) -> ActiveAlerts:
    """The caller's alerts that still hold.

    A low-balance alert holds while the type's spendable balance is below the threshold in force:
    the banner clears when a credit brings it back, and the next crossing raises a new alert. A
    type that never crossed (a new user with no credits) has no alert and no banner. An
    expiring-soon item is every unexpired block with credits left that expires within the
    window, whether or not the schedule has raised its alert yet; it clears when the credits
    are spent or have expired. Automatic top-up turned off by a failed payment holds until the
    user turns it on again (which clears ``turnedOff``), with its ``auto_top_up_failed`` alert.
    """
    now = now or datetime.now(UTC)
    balances = ledger.read_balances(uid)
    settings = credit_settings.read(uid)
    low = []
    for credit_type in CreditType:
        threshold = settings.threshold(credit_type)
        spendable = balances.spendable(credit_type, now)
        if spendable >= threshold:
            continue
        latest = latest_low_balance(uid, credit_type).build().get()
        if latest:
            alert = Alert.from_snapshot(latest[0])
            low.append(LowBalanceNow(type=credit_type, balance=spendable, threshold=threshold, alert=alert))
    soon = expiring_blocks(balances.blocks, now, expiring_soon_until(now))
    refs = [alert_ref(f"{Kind.EXPIRING_SOON}:{uid}:{block.id}") for block in soon]
    raised = {snap.id: Alert.from_snapshot(snap) for snap in (db().get_all(refs) if refs else ()) if snap.exists}
    expiring = tuple(
        ExpiringNow(
            type=CreditType(block.type),
            block_id=block.id,
            credits=block.remaining,
            expires_at=block.expires_at,
            alert=raised.get(ref.id),
        )
        for block, ref in zip(soon, refs, strict=True)
        if block.expires_at is not None
    )
    return ActiveAlerts(low_balance=tuple(low), expiring_soon=expiring, auto_top_up_off=_auto_top_up_off(settings))


def _auto_top_up_off(settings: CreditSettings) -> tuple[AutoTopUpOffNow, ...]:
    """Automatic top-up off because a payment failed (and not turned on again since): one read of its alert."""
    top = settings.auto_top_up
    off = top.turned_off
    if top.enabled or off is None:
        return ()
    snap = alert_ref(off.alert_id).get() if off.alert_id else None
    alert = Alert.from_snapshot(snap) if snap is not None and snap.exists else None
    credit_type = top.credit_type() or (alert.type if alert else None)
    return (AutoTopUpOffNow(type=credit_type, reason=off.reason, at=off.at, alert=alert),)
