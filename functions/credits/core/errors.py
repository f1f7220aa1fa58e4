"""Typed errors, one per way a request can fail.

Each carries the stable ``code`` and HTTP status of the API's error shape
(``{"error": {"code", "message", "details"}}``), so every layer raises the same
error and only the HTTP layer turns it into a response. These classes are the API's
whole error table: docs/api.md lists exactly their (code, status) pairs, the README and
the OpenAPI document their codes, and a test holds the three against this module.
"""

from __future__ import annotations

from typing import Any, ClassVar


class CreditsError(Exception):
    """Base of every error the credits system raises on purpose; as itself, an unexpected failure."""

    code: ClassVar[str] = "internal"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidArgument(CreditsError):
    """The request is malformed; nothing was written."""

    code = "invalid_argument"
    http_status = 400


class MethodNotAllowed(InvalidArgument):
    """A route called with a method it does not take (``GET`` of a ``POST`` route): the
    malformed request's code, with the status HTTP has for it."""

    http_status = 405


class Unauthenticated(CreditsError):
    code = "unauthenticated"
    http_status = 401


class PermissionDenied(CreditsError):
    code = "permission_denied"
    http_status = 403


class NotFound(CreditsError):
    code = "not_found"
    http_status = 404


class InsufficientCredits(CreditsError):
    """A debit larger than the balance; nothing was written to the ledger or the balance."""

    code = "insufficient_credits"
    http_status = 409

    def __init__(self, *, uid: str, credit_type: str, attempted: int, balance: int) -> None:
        super().__init__(
            f"debit of {attempted} {credit_type} credits exceeds the balance of {balance}",
            uid=uid,
            type=credit_type,
            attempted=attempted,
            balance=balance,
        )
        self.attempted = attempted
        self.balance = balance


class IdempotencyConflict(CreditsError):
    """The idempotency key was used before with different parameters."""

    code = "idempotency_conflict"
    http_status = 409


class LedgerBusy(CreditsError):
    """Other writers kept winning the race for this user's balance; retry later."""

    code = "unavailable"
    http_status = 503


class PaymentsUnavailable(CreditsError):
    """Stripe could not be reached or refused the request; nothing was bought. Retry later."""

    code = "unavailable"
    http_status = 503


class PaymentMethodRequired(CreditsError):
    """Automatic top-up turned on before the user has a saved card: a purchase through Checkout
    saves one. Nothing was written."""

    code = "payment_method_required"
    http_status = 409
