"""A user's own credit settings: ``users/{uid}/credit_settings/current``, written only through the API.

Not to be confused with :mod:`credits.core.settings`, the host's configuration file: that file
gives the defaults (``alerts.low_balance``, one threshold per credit type), this document holds
what one user changed. Today that is the low-balance threshold of each credit type
(docs/alerts.md); automatic top-up will be one more map beside it (``autoTopUp``: a pack, a
threshold and a monthly cap), so every setting is a top-level map of its own and a write
touches only the fields it names.

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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from google.cloud import firestore
from google.cloud.firestore import DocumentReference
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from credits.core import logs
from credits.core.firestore_client import db
from credits.core.ledger import MAX_AMOUNT, USERS, CreditType
from credits.core.settings import SETTINGS

COLLECTION = "credit_settings"
"""The subcollection under ``users/{uid}``; its one document is ``current``."""
DOCUMENT = "current"
LOW_BALANCE = "lowBalance"
UPDATED_AT = "updatedAt"
UPDATED_BY = "updatedBy"

MAX_THRESHOLD = MAX_AMOUNT
"""The highest threshold a user may set: the largest amount one entry may move."""

Threshold = Annotated[StrictInt, Field(ge=0, le=MAX_THRESHOLD)]
"""A low-balance threshold: an integer of credits, 0 (no alert) or more. No float, no text, no boolean."""


def settings_ref(uid: str) -> DocumentReference:
    ref: DocumentReference = db().document(USERS, uid, COLLECTION, DOCUMENT)
    return ref


def default_threshold(credit_type: CreditType) -> int:
    """The configuration file's threshold of a type (``alerts.low_balance``); 0 when it names none."""
    return SETTINGS.alerts.low_balance.get(str(credit_type), 0)


@dataclass(frozen=True, kw_only=True)
class CreditSettings:
    """One user's settings as stored: their own values only (a type absent follows the default)."""

    low_balance: Mapping[CreditType, int] = field(default_factory=dict)
    """The user's own low-balance thresholds, by credit type."""
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
        return cls(low_balance=low_balance, updated_at=updated_at if isinstance(updated_at, datetime) else None)


class SettingsPatch(BaseModel):
    """The body of ``PATCH /api/credits/settings``: the settings to change, and only those.

    ``{"lowBalance": {"image": 50, "video": null}}`` sets the image threshold to 50 and puts the
    video threshold back to its default; a type not named keeps its value.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    lowBalance: dict[CreditType, Threshold | None] | None = None
    """Per credit type, the new threshold (0: no low-balance alert) or null for the default."""

    def is_empty(self) -> bool:
        return not self.lowBalance


def read(uid: str) -> CreditSettings:
    return CreditSettings.from_document(settings_ref(uid).get().to_dict())


def update(uid: str, patch: SettingsPatch) -> CreditSettings:
    """Apply a validated patch to the user's document (merging the named fields only); the settings after it."""
    if patch.is_empty():
        return read(uid)
    changes = {
        str(credit_type): firestore.DELETE_FIELD if value is None else value
        for credit_type, value in (patch.lowBalance or {}).items()
    }
    settings_ref(uid).set(
        {LOW_BALANCE: changes, UPDATED_AT: firestore.SERVER_TIMESTAMP, UPDATED_BY: f"user:{uid}"}, merge=True
    )
    settings = read(uid)
    logs.info(
        "credit settings changed",
        event="credit_settings_changed",
        uid=uid,
        lowBalance={str(t): v for t, v in (patch.lowBalance or {}).items()},
    )
    return settings
