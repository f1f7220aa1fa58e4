"""CSV export of ledger entries, streamed.

Rows are produced by a generator over :func:`credits.reads.queries.iter_entries`, which reads the
ledger in batches of 500, so memory stays flat whatever the size of the export. Columns are
an enum with a header map, in this order:

``created_at_utc, entry_id, type, direction, amount, balance_after, source, reason, job_id,
payment_id, invoice_id, created_by, expires_at_utc, blocks``

``expires_at_utc`` is when a credit's block expires (empty: never, or not a credit);
``blocks`` says which credit blocks an entry touched: a debit's "paid by", a refund's
"returned to", as ``<blockId>:<amount>`` parts separated by ``;`` (docs/ledger.md, "Credit
blocks"). Both come last, so that a reader of the earlier columns by position is unchanged.

Times are UTC ISO 8601. ``reason`` can hold admin or user text, so a cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'`` to keep a
spreadsheet from running it as a formula (CSV injection).
"""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from credits.core.ledger import LedgerEntry


class Column(enum.StrEnum):
    CREATED_AT = "created_at"
    ENTRY_ID = "entry_id"
    TYPE = "type"
    DIRECTION = "direction"
    AMOUNT = "amount"
    BALANCE_AFTER = "balance_after"
    SOURCE = "source"
    REASON = "reason"
    JOB_ID = "job_id"
    PAYMENT_ID = "payment_id"
    INVOICE_ID = "invoice_id"
    CREATED_BY = "created_by"
    EXPIRES_AT = "expires_at"
    BLOCKS = "blocks"


HEADERS: dict[Column, str] = {
    Column.CREATED_AT: "created_at_utc",
    Column.ENTRY_ID: "entry_id",
    Column.TYPE: "type",
    Column.DIRECTION: "direction",
    Column.AMOUNT: "amount",
    Column.BALANCE_AFTER: "balance_after",
    Column.SOURCE: "source",
    Column.REASON: "reason",
    Column.JOB_ID: "job_id",
    Column.PAYMENT_ID: "payment_id",
    Column.INVOICE_ID: "invoice_id",
    Column.CREATED_BY: "created_by",
    Column.EXPIRES_AT: "expires_at_utc",
    Column.BLOCKS: "blocks",
}

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """Keep spreadsheets from evaluating a text cell as a formula."""
    return f"'{cell}" if cell.startswith(_FORMULA_STARTS) else cell


def row(entry: LedgerEntry) -> list[str]:
    values: dict[Column, object] = {
        Column.CREATED_AT: _utc(entry.created_at),
        Column.ENTRY_ID: entry.id,
        Column.TYPE: entry.type,
        Column.DIRECTION: entry.direction,
        Column.AMOUNT: entry.amount,
        Column.BALANCE_AFTER: entry.balance_after,
        Column.SOURCE: entry.source,
        Column.REASON: entry.reason,
        Column.JOB_ID: entry.job_id,
        Column.PAYMENT_ID: entry.payment_id,
        Column.INVOICE_ID: entry.invoice_id,
        Column.CREATED_BY: entry.created_by,
        Column.EXPIRES_AT: _utc(entry.expires_at) if entry.expires_at else None,
        Column.BLOCKS: ";".join(f"{part.block}:{part.amount}" for part in entry.paid_by or entry.returned_to),
    }
    # Numbers are written as numbers; only text can carry a formula.
    return [
        str(value) if isinstance(value, int) else neutralise("" if value is None else str(value))
        for value in (values[column] for column in Column)
    ]


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def csv_lines(entries: Iterable[LedgerEntry]) -> Iterator[str]:
    """The header line, then one line per entry, each produced only when asked for."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([HEADERS[column] for column in Column])
    yield take()
    for entry in entries:
        writer.writerow(row(entry))
        yield take()


def filename(scope: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    # Header values must be ASCII: a q of any script becomes dashes.
    safe = "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "-" for c in scope)[:64]
    return f"credits-ledger-{safe}-{stamp}.csv"


def counted(entries: Iterable[LedgerEntry], done: Callable[[int], object]) -> Iterator[LedgerEntry]:
    """The entries, passed through; ``done(count)`` once the last one was taken (not if the stream stops early)."""
    count = 0
    for entry in entries:
        count += 1
        yield entry
    done(count)
