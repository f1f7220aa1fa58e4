"""CSV export: pure row rules."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import UTC, datetime

import pytest

from credits.core.blocks import Part
from credits.core.ledger import CreditType, Direction, LedgerEntry, Source
from credits.reads import export


def entry(reason: str, n: int = 1) -> LedgerEntry:
    return LedgerEntry(
        id=f"e{n}",
        uid="u",
        type=CreditType.IMAGE,
        direction=Direction.DEBIT,
        amount=10,
        balance_after=5,
        seq=n,
        source=Source.ADMIN_ADJUSTMENT,
        reason=reason,
        job_id="job-1",
        payment_id=None,
        invoice_id=None,
        meta={},
        created_at=datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC),
        created_by="admin:a",
        idempotency_key="k",
    )


@pytest.mark.parametrize("text", ['=HYPERLINK("x")', "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(text):
    assert export.neutralise(text) == "'" + text


def test_plain_text_is_left_alone():
    assert export.neutralise('Refund, for "job"') == 'Refund, for "job"'


def test_lines_parse_back_with_the_csv_module():
    text = "".join(export.csv_lines([entry('=HYPERLINK("x")'), entry('comma, "quote"\nnewline', 2)]))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [export.HEADERS[c] for c in export.Column]
    assert rows[0]["reason"] == '\'=HYPERLINK("x")'
    assert rows[0]["created_at_utc"] == "2026-01-02T03:04:05.600000Z"
    assert (rows[0]["amount"], rows[0]["balance_after"], rows[0]["job_id"], rows[0]["payment_id"]) == (
        "10",
        "5",
        "job-1",
        "",
    )
    assert rows[1]["reason"] == 'comma, "quote"\nnewline'
    assert (rows[0]["expires_at_utc"], rows[0]["blocks"]) == ("", "")


def test_a_debit_lists_the_blocks_that_paid_it_and_a_credit_its_expiry():
    part = Part(
        block="b1", amount=6, expires_at=None, block_amount=9, block_created_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    debit = dataclasses.replace(entry("paid"), paid_by=(part, dataclasses.replace(part, block="b2", amount=4)))
    credit = dataclasses.replace(entry("granted", 2), expires_at=datetime(2026, 2, 1, 12, tzinfo=UTC))
    rows = list(csv.DictReader(io.StringIO("".join(export.csv_lines([debit, credit])))))
    assert (rows[0]["blocks"], rows[0]["expires_at_utc"]) == ("b1:6;b2:4", "")
    assert (rows[1]["blocks"], rows[1]["expires_at_utc"]) == ("", "2026-02-01T12:00:00Z")


def test_lines_are_produced_lazily():
    produced = []

    def entries():
        for n in range(3):
            produced.append(n)
            yield entry("r", n)

    lines = export.csv_lines(entries())
    next(lines)
    assert produced == []
    next(lines)
    assert produced == [0]


def test_filename_is_safe():
    assert export.filename("a/b c", datetime(2026, 1, 2, tzinfo=UTC)) == "credits-ledger-a-b-c-20260102-000000.csv"


def test_filename_of_any_script_is_ascii():
    name = export.filename("ï>Ö\U000a8fd4", datetime(2026, 1, 2, tzinfo=UTC))
    assert name == "credits-ledger------20260102-000000.csv"
