"""The admin overview reports: users with low balances, and anomalies, each a typed page.

Like the ledger page (:class:`credits.reads.queries.LedgerPage`), each report returns a page of
typed results and the cursor of the next page (:mod:`credits.reads.cursors`); ``to_api`` gives the
route's JSON. The daily summaries are read by :func:`credits.operations.summaries.summaries_between`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from credits.core import accounts, anomalies, ledger
from credits.core.ledger import Balances, CreditType
from credits.core.query_spec import Position
from credits.reads.cursors import EVERYONE, Cursor, decode_count_cursor, decode_time_cursor, page_of, query_binding

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class LowBalanceFilters(BaseModel):
    """The query string of ``GET /api/admin/credits/users``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: CreditType = ledger.DEFAULT_CREDIT_TYPE
    below: int = Field(default=20, ge=1, le=ledger.MAX_AMOUNT)
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: Cursor | None = None

    def echo(self) -> dict[str, Any]:
        return {"type": str(self.type), "below": self.below}


@dataclass(frozen=True, kw_only=True)
class LowBalanceUser:
    uid: str
    email: str | None
    """The account's email, when the user has an account with one."""
    balances: Balances

    def to_api(self) -> dict[str, Any]:
        shown = self.balances.to_api()
        return {"uid": self.uid, "email": self.email, **shown, "lastActivity": shown["updatedAt"]}


@dataclass(frozen=True, kw_only=True)
class LowBalancePage:
    users: list[LowBalanceUser]
    """Lowest balance first, then by uid."""
    next_cursor: str | None
    filters: LowBalanceFilters

    def to_api(self) -> dict[str, Any]:
        return {
            "users": [user.to_api() for user in self.users],
            "nextCursor": self.next_cursor,
            "filters": self.filters.echo(),
        }


def low_balance_users(filters: LowBalanceFilters) -> LowBalancePage:
    """Users whose balance of one type is below a threshold, lowest first, with their emails."""
    binding = query_binding(EVERYONE, {"users": str(filters.type), "below": filters.below})
    after = decode_count_cursor(filters.cursor, binding) if filters.cursor else None
    found = ledger.low_balances(filters.type, filters.below, after=after, limit=filters.limit + 1)
    page, next_cursor = page_of(
        found, filters.limit, binding, lambda user: Position(value=user[1].of(filters.type), doc_id=user[0])
    )
    emails = accounts.emails_of([uid for uid, _ in page])
    users = [LowBalanceUser(uid=uid, email=emails.get(uid), balances=balances) for uid, balances in page]
    return LowBalancePage(users=users, next_cursor=next_cursor, filters=filters)


class AnomalyFilters(BaseModel):
    """The query string of ``GET /api/admin/credits/anomalies``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: anomalies.Kind | None = None
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: Cursor | None = None


@dataclass(frozen=True, kw_only=True)
class AnomalyPage:
    anomalies: list[anomalies.Anomaly]
    """Newest first."""
    next_cursor: str | None
    filters: AnomalyFilters

    def to_api(self) -> dict[str, Any]:
        return {
            "anomalies": [anomaly.to_api() for anomaly in self.anomalies],
            "nextCursor": self.next_cursor,
            "filters": {"kind": self.filters.kind},
        }


def anomalies_page(filters: AnomalyFilters) -> AnomalyPage:
    """Anomalies newest first, of one kind or all, paged."""
    binding = query_binding(EVERYONE, {"anomalies": filters.kind})
    after = decode_time_cursor(filters.cursor, binding) if filters.cursor else None
    spec = anomalies.list_spec(filters.kind, after=after, limit=filters.limit + 1)
    found = [anomalies.Anomaly.from_snapshot(snap) for snap in spec.build().stream()]
    page, next_cursor = page_of(
        found, filters.limit, binding, lambda anomaly: Position(value=anomaly.created_at, doc_id=anomaly.id)
    )
    return AnomalyPage(anomalies=page, next_cursor=next_cursor, filters=filters)
