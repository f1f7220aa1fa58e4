"""UTC days: the unit of the daily summary and of the nightly reconciliation.

A day is the half-open interval ``[00:00, next 00:00)`` in UTC, so an entry committed
exactly at midnight belongs to the day that starts then, and every instant belongs to
exactly one day. Days are named ``YYYY-MM-DD`` (the id of ``daily_credits_summary``
documents and the format of the scripts' ``--day``, ``--from`` and ``--to``).

These helpers are pure: no Firestore, no clock unless one is passed or defaulted.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from credits.core.errors import InvalidArgument

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ONE_DAY = timedelta(days=1)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The instants ``[start, end)`` of one UTC day: start is included, end is not."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + ONE_DAY


def day_id(day: date) -> str:
    return day.isoformat()


def parse_day(text: str) -> date:
    """``YYYY-MM-DD`` to a date; anything else (``20260101``, a time) is refused."""
    # date.fromisoformat also takes "20260101" and "2026-W01-1": accept only the one spelling.
    if not isinstance(text, str) or not _DAY.match(text):
        raise InvalidArgument("a day must be written YYYY-MM-DD", value=str(text))
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidArgument(f"{text} is not a calendar day", value=text) from exc


def day_of(instant: datetime) -> date:
    """The UTC day an aware instant falls on."""
    if instant.tzinfo is None:
        raise ValueError("a naive datetime has no day: give it a time zone")
    return instant.astimezone(UTC).date()


def previous_day(now: datetime | None = None) -> date:
    """Yesterday in UTC: the day the 00:10 and 00:30 UTC jobs work on."""
    return day_of(now or datetime.now(UTC)) - ONE_DAY


def days_between(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last``, both included."""
    if last < first:
        raise InvalidArgument(f"the range ends ({last}) before it starts ({first})")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
