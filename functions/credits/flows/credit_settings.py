"""A user's own credit settings: ``users/{uid}/credit_settings/current``, written only through the API.

Not to be confused with :mod:`credits.core.settings`, the host's configuration file: that file
gives the defaults (``alerts.low_balance``, one threshold per credit type), this document holds
what one user changed: the low-balance threshold of each credit type, and automatic top-up
(``autoTopUp``: on or off, a pack, a threshold and a monthly cap; docs/alerts.md). Every
setting is a top-level map of its own and a write touches only the fields it names.

**Stored shape.** Only the user's overrides, never the defaults, so that a host changing a
default in the configuration file changes it for every user who did not choose their own:
``{"lowBalance": {"image": 50}, "updatedAt": <time>, "updatedBy": "user:<uid>"}``. A type the
map lacks follows the default; a type whose default is missing from the file has threshold 0
(no alert).

**Writes.** :func:`update` takes a :class:`SettingsPatch`, already validated (a threshold is an
integer from 0 to :data:`MAX_THRESHOLD`, a type is a :class:`~credits.core.ledger.CreditType`,
nothing else is accepted), and applies it as one ``set(..., merge=True)`` of the named fields
only: ``null`` deletes the user's value (back to the default). Two changes at once therefore
never undo each other's other fields, and no read is needed to write. A patch that names
nothing writes nothing. Clients cannot write the document (``firestore.credits.rules``): it is
changed by :func:`update` behind ``PATCH /api/credits/settings`` only, for the caller's own uid.

**Automatic top-up** (:class:`AutoTopUp`, the ``autoTopUp`` map). The user writes ``enabled``,
``pack``, ``threshold`` and ``monthlyCap`` (:class:`AutoTopUpPatch`: the three come together,
and all of them to turn it on); the write stamps ``changedAt``, and ``enabledAt`` when it turns
automatic top-up on from off. Turning it on needs a saved card
(:mod:`credits.flows.saved_cards`), else :class:`~credits.core.errors.PaymentMethodRequired`
and nothing is written. The system writes two fields of the map, never the user's ones:
``lastAttempt`` (every attempt writes it, which is what serialises two attempts of one user,
:mod:`credits.flows.top_up_attempts`) and, when a payment fails, ``enabled: false`` with
``turnedOff`` (why, when, which attempt and alert), which the user's next turning on clears.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from google.cloud import firestore
from google.cloud.firestore import DocumentReference
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

from credits.core import logs
from credits.core.errors import InvalidArgument, PaymentMethodRequired
from credits.core.firestore_client import db
from credits.core.ledger import MAX_AMOUNT, USERS, CreditType
from credits.core.settings import SETTINGS, PackSettings
from credits.flows import saved_cards

COLLECTION = "credit_settings"
"""The subcollection under ``users/{uid}``; its one document is ``current``."""
DOCUMENT = "current"
LOW_BALANCE = "lowBalance"
AUTO_TOP_UP = "autoTopUp"
UPDATED_AT = "updatedAt"
UPDATED_BY = "updatedBy"

MAX_THRESHOLD = MAX_AMOUNT
"""The highest threshold a user may set: the largest amount one entry may move."""

Threshold = Annotated[StrictInt, Field(ge=0, le=MAX_THRESHOLD)]
"""A low-balance threshold: an integer of credits, 0 (no alert) or more. No float, no text, no boolean."""

MAX_MONTHLY_CAP = 100_000_000
"""The highest monthly cap of automatic top-up, in the pack currency's minor unit (a million dollars)."""

MonthlyCap = Annotated[StrictInt, Field(ge=1, le=MAX_MONTHLY_CAP)]
"""What automatic top-up may charge in a UTC calendar month, in the pack currency's minor unit."""
PackId = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def settings_ref(uid: str) -> DocumentReference:
    ref: DocumentReference = db().document(USERS, uid, COLLECTION, DOCUMENT)
    return ref


def default_threshold(credit_type: CreditType) -> int:
    """The configuration file's threshold of a type (``alerts.low_balance``); 0 when it names none."""
    return SETTINGS.alerts.low_balance.get(str(credit_type), 0)


@dataclass(frozen=True, kw_only=True)
class TurnedOff:
    """Why and when the system turned a user's automatic top-up off (a payment that failed)."""

    reason: str
    """A failure reason of :class:`credits.flows.top_up_attempts.FailureReason` (``card_declined``…)."""
    at: datetime | None
    attempt_id: str
    """The attempt whose payment failed (``auto_top_ups/{id}``)."""
    alert_id: str
    """Its ``auto_top_up_failed`` alert (``credit_alerts/{id}``)."""
    message: str | None = None
    """What the payment provider said, when it said something."""

    def document(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "at": self.at or firestore.SERVER_TIMESTAMP,
            "attemptId": self.attempt_id,
            "alertId": self.alert_id,
            "message": self.message,
        }

    def to_api(self) -> dict[str, Any]:
        return {**self.document(), "at": self.at.isoformat() if self.at else None}

    @classmethod
    def from_map(cls, data: Any) -> TurnedOff | None:
        if not isinstance(data, Mapping) or not isinstance(data.get("reason"), str):
            return None
        at = data.get("at")
        return cls(
            reason=data["reason"],
            at=at if isinstance(at, datetime) else None,
            attempt_id=str(data.get("attemptId") or ""),
            alert_id=str(data.get("alertId") or ""),
            message=data.get("message") if isinstance(data.get("message"), str) else None,
        )


@dataclass(frozen=True, kw_only=True)
class AutoTopUp:
    """The ``autoTopUp`` map as stored: the user's choice, and what the system recorded beside it."""

    enabled: bool = False
    pack: str | None = None
    """The price id of the pack bought (a key of the configuration's ``packs``)."""
    threshold: int | None = None
    """A debit that takes the pack's credit type from at or above this to below it buys the pack."""
    monthly_cap: int | None = None
    """At most this much is charged per UTC calendar month, in the pack currency's minor unit."""
    enabled_at: datetime | None = None
    """When the user last turned it on: debits written before do not top up."""
    changed_at: datetime | None = None
    """When the user last changed any of it: the sweep does not judge debits written before."""
    turned_off: TurnedOff | None = None
    """Set when a failed payment turned it off; cleared when the user turns it on again."""
    last_attempt_id: str | None = None
    """The latest attempt (``auto_top_ups/{id}``), written by every attempt."""

    def pack_settings(self) -> PackSettings | None:
        """The configured pack; None when none is chosen or it left the configuration."""
        return SETTINGS.packs.get(self.pack) if self.pack else None

    def credit_type(self) -> CreditType | None:
        pack = self.pack_settings()
        return CreditType(pack.credit_type) if pack else None

    @property
    def active(self) -> bool:
        """On, with a pack of the configuration, a threshold and a cap: it may buy."""
        return self.enabled and self.pack_settings() is not None and None not in (self.threshold, self.monthly_cap)

    def to_api(self) -> dict[str, Any]:
        """The user's choice with the chosen pack's facts, and why it was turned off if it was."""
        pack = self.pack_settings()

        def iso(at: datetime | None) -> str | None:
            return at.isoformat() if at else None

        return {
            "enabled": self.enabled,
            "pack": self.pack,
            "threshold": self.threshold,
            "monthlyCap": self.monthly_cap,
            "creditType": pack.credit_type if pack else None,
            "credits": pack.credits if pack else None,
            "unitAmount": pack.unit_amount if pack else None,
            "currency": pack.currency if pack else None,
            "enabledAt": iso(self.enabled_at),
            "changedAt": iso(self.changed_at),
            "turnedOff": self.turned_off.to_api() if self.turned_off else None,
        }

    @classmethod
    def from_map(cls, data: Any) -> AutoTopUp:
        if not isinstance(data, Mapping):
            return cls()
        last = data.get("lastAttempt")

        def number(name: str) -> int | None:
            value = data.get(name)
            return value if type(value) is int and value >= 0 else None

        def moment(name: str) -> datetime | None:
            value = data.get(name)
            return value if isinstance(value, datetime) else None

        return cls(
            enabled=data.get("enabled") is True,
            pack=data.get("pack") if isinstance(data.get("pack"), str) else None,
            threshold=number("threshold"),
            monthly_cap=number("monthlyCap"),
            enabled_at=moment("enabledAt"),
            changed_at=moment("changedAt"),
            turned_off=TurnedOff.from_map(data.get("turnedOff")),
            last_attempt_id=last.get("id") if isinstance(last, Mapping) else None,
        )


@dataclass(frozen=True, kw_only=True)
class CreditSettings:
    """One user's settings as stored: their own values only (a type absent follows the default)."""

    low_balance: Mapping[CreditType, int] = field(default_factory=dict)
    """The user's own low-balance thresholds, by credit type."""
    auto_top_up: AutoTopUp = AutoTopUp()
    """The user's automatic top-up (off unless they turned it on)."""
    updated_at: datetime | None = None
    """When the user last changed a setting; None when they never did."""

    def threshold(self, credit_type: CreditType) -> int:
        """The threshold in force for a type: the user's own, else the default."""
        return self.low_balance.get(credit_type, default_threshold(credit_type))

    def thresholds(self) -> dict[CreditType, int]:
        return {credit_type: self.threshold(credit_type) for credit_type in CreditType}

    def to_api(self) -> dict[str, Any]:
        """The effective settings: every type's threshold, with the default beside it and marked."""
        return {
            LOW_BALANCE: {
                str(credit_type): {
                    "threshold": self.threshold(credit_type),
                    "default": default_threshold(credit_type),
                    "isDefault": credit_type not in self.low_balance,
                }
                for credit_type in CreditType
            },
            "expiringSoonDays": SETTINGS.alerts.expiring_soon_days,
            UPDATED_AT: self.updated_at.isoformat() if self.updated_at else None,
        }

    @classmethod
    def from_document(cls, data: Mapping[str, Any] | None) -> CreditSettings:
        """The stored document; a type this code does not know, or a value that is not a
        threshold, is left out (the document is written by :func:`update` only, so this is a
        guard against a type removed from the configuration, not against clients)."""
        data = data or {}
        stored = data.get(LOW_BALANCE)
        known = {str(t): t for t in CreditType}
        low_balance = {
            known[name]: value
            for name, value in (stored.items() if isinstance(stored, Mapping) else ())
            if name in known and type(value) is int and 0 <= value <= MAX_THRESHOLD
        }
        updated_at = data.get(UPDATED_AT)
        return cls(
            low_balance=low_balance,
            auto_top_up=AutoTopUp.from_map(data.get(AUTO_TOP_UP)),
            updated_at=updated_at if isinstance(updated_at, datetime) else None,
        )


class AutoTopUpPatch(BaseModel):
    """``autoTopUp`` of ``PATCH /api/credits/settings``: ``{"enabled": false}`` turns it off and
    keeps the rest; otherwise ``pack``, ``threshold`` and ``monthlyCap`` come together, and turning
    it on needs all three. :meth:`problems` holds the rules one field cannot check alone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: StrictBool
    """Whether a crossing of the threshold buys the pack."""
    pack: PackId | None = None
    """A pack id of ``GET /api/credits/packs``; its credit type is the balance watched."""
    threshold: Threshold | None = None
    """Credits of the pack's type: a debit that takes the balance from at or above it to below it buys the pack."""
    monthlyCap: MonthlyCap | None = None
    """At most this much is charged per UTC calendar month, in the pack currency's minor unit;
    at least the pack's price."""

    def choice(self) -> dict[str, Any]:
        """The fields of the user's choice that the patch names, as stored."""
        named = {"pack": self.pack, "threshold": self.threshold, "monthlyCap": self.monthlyCap}
        return {name: value for name, value in named.items() if value is not None}

    def problems(self) -> list[dict[str, str]]:
        """What is wrong with the patch as a whole, each naming its field (``details.errors``)."""
        given = self.choice()
        if self.enabled or given:
            missing = [name for name in ("pack", "threshold", "monthlyCap") if name not in given]
            why = (
                "needed to turn automatic top-up on" if self.enabled else "pack, threshold and monthlyCap come together"
            )
            if missing:
                return [{"field": f"{AUTO_TOP_UP}.{name}", "message": why} for name in missing]
        if self.pack is None:
            return []
        pack = SETTINGS.packs.get(self.pack)
        if pack is None:
            return [
                {"field": f"{AUTO_TOP_UP}.pack", "message": "not a credit pack: use an id from GET /api/credits/packs"}
            ]
        if self.monthlyCap is not None and self.monthlyCap < pack.unit_amount:
            price = f"{pack.unit_amount} {pack.currency}"
            return [{"field": f"{AUTO_TOP_UP}.monthlyCap", "message": f"must be at least one pack: {price}"}]
        return []


class SettingsPatch(BaseModel):
    """The body of ``PATCH /api/credits/settings``: the settings to change, and only those.

    ``{"lowBalance": {"image": 50, "video": null}}`` sets the image threshold to 50 and puts the
    video threshold back to its default; a type not named keeps its value. ``{"autoTopUp": {...}}``
    changes automatic top-up (:class:`AutoTopUpPatch`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    lowBalance: dict[CreditType, Threshold | None] | None = None
    """Per credit type, the new threshold (0: no low-balance alert) or null for the default."""
    autoTopUp: AutoTopUpPatch | None = None
    """Automatic top-up: turn it on or off, choose the pack, the threshold and the monthly cap."""

    def is_empty(self) -> bool:
        return not self.lowBalance and self.autoTopUp is None


def read(uid: str) -> CreditSettings:
    return CreditSettings.from_document(settings_ref(uid).get().to_dict())


def update(uid: str, patch: SettingsPatch) -> CreditSettings:
    """Apply a validated patch to the user's document (merging the named fields only); the settings after it.

    Raises InvalidArgument for an automatic top-up that does not hold together, and
    PaymentMethodRequired for one turned on without a saved card; then nothing is written."""
    if patch.is_empty():
        return read(uid)
    changes: dict[str, Any] = {UPDATED_AT: firestore.SERVER_TIMESTAMP, UPDATED_BY: f"user:{uid}"}
    if patch.lowBalance:
        changes[LOW_BALANCE] = {
            str(credit_type): firestore.DELETE_FIELD if value is None else value
            for credit_type, value in patch.lowBalance.items()
        }
    if patch.autoTopUp is not None:
        changes[AUTO_TOP_UP] = _auto_top_up_changes(uid, patch.autoTopUp)
    settings_ref(uid).set(changes, merge=True)
    settings = read(uid)
    logs.info(
        "credit settings changed",
        event="credit_settings_changed",
        uid=uid,
        lowBalance={str(t): v for t, v in (patch.lowBalance or {}).items()},
        autoTopUp=patch.autoTopUp.model_dump(exclude_none=True) if patch.autoTopUp else None,
    )
    return settings


def _auto_top_up_changes(uid: str, patch: AutoTopUpPatch) -> dict[str, Any]:
    """The ``autoTopUp`` fields a checked patch writes; refuses before anything is written."""
    problems = patch.problems()
    if problems:
        raise InvalidArgument("invalid request body", errors=problems)
    changes: dict[str, Any] = {"enabled": patch.enabled, **patch.choice(), "changedAt": firestore.SERVER_TIMESTAMP}
    if not patch.enabled:
        return changes
    customer = saved_cards.read(uid)
    if customer is None or not customer.has_card:
        raise PaymentMethodRequired(
            "automatic top-up needs a saved card: buy a pack once (Checkout saves the card), then turn it on",
            field=f"{AUTO_TOP_UP}.enabled",
        )
    if not read(uid).auto_top_up.enabled:
        # Turned on now: debits before this moment never top up, and a failure's notice is done with.
        changes |= {"enabledAt": firestore.SERVER_TIMESTAMP, "turnedOff": None}
    return changes


def auto_top_up_field(name: str) -> str:
    """The field path of one field of the ``autoTopUp`` map, for the system's own updates."""
    return f"{AUTO_TOP_UP}.{name}"


def turned_off_fields(turned_off: TurnedOff) -> dict[str, Any]:
    """The update that turns automatic top-up off after a failed payment, saying why."""
    return {auto_top_up_field("enabled"): False, auto_top_up_field("turnedOff"): turned_off.document()}
