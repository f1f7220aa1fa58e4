"""The ledger core against the Firestore emulator: promises 1-4 one call at a time."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from ledger_helpers import request, stored_entries

from credits.core import ledger
from credits.core.errors import IdempotencyConflict, InsufficientCredits, InvalidArgument
from credits.core.firestore_client import db
from credits.core.ledger import CreditType, Direction, Source
from credits.operations import verify

pytestmark = pytest.mark.usefixtures("firestore")


def test_credit_writes_entry_and_balance():
    write = ledger.write_ledger_entry(request(amount=25, key="k-credit"))

    assert not write.replayed
    entry = write.entry
    assert (entry.amount, entry.balance_after, entry.seq) == (25, 25, 1)
    stored = db().collection(ledger.LEDGER).document(entry.id).get().to_dict()
    for name in (
        "uid",
        "type",
        "direction",
        "amount",
        "balance_after",
        "source",
        "reason",
        "jobId",
        "paymentId",
        "invoiceId",
        "meta",
        "createdAt",
        "createdBy",
        "idempotencyKey",
    ):
        assert name in stored, name
    assert stored["createdAt"] == entry.created_at
    assert stored["idempotencyKey"] == "k-credit"
    balances = ledger.read_balances("u1")
    assert (balances.of(CreditType.IMAGE), balances.of(CreditType.VIDEO), balances.seq) == (25, 0, 1)


def test_debit_continues_the_chain_per_type():
    ledger.write_ledger_entry(request(amount=30))
    ledger.write_ledger_entry(request(amount=7, type=CreditType.VIDEO))
    debit = ledger.write_ledger_entry(request(direction=Direction.DEBIT, amount=12)).entry

    assert (debit.balance_after, debit.seq, debit.delta) == (18, 3, -12)
    balances = ledger.read_balances("u1")
    assert (balances.of(CreditType.IMAGE), balances.of(CreditType.VIDEO)) == (18, 7)
    assert verify.verify_user("u1") == (3, [])


def test_overdraft_is_rejected_and_changes_nothing(capsys):
    ledger.write_ledger_entry(request(amount=5))
    before = ledger.read_balances("u1")

    with pytest.raises(InsufficientCredits) as caught:
        ledger.write_ledger_entry(request(direction=Direction.DEBIT, amount=8, key="k-over"))

    assert (caught.value.attempted, caught.value.balance) == (8, 5)
    assert "8" in caught.value.message and "5" in caught.value.message
    assert caught.value.to_dict()["error"]["code"] == "insufficient_credits"
    assert len(stored_entries("u1")) == 1
    assert ledger.read_balances("u1") == before
    assert ledger.find_entry_by_key("k-over") is None
    anomalies = [s.to_dict() for s in db().collection("anomalies").stream()]
    assert len(anomalies) == 1
    assert anomalies[0]["kind"] == "insufficient_credits"
    assert (anomalies[0]["uid"], anomalies[0]["amount"], anomalies[0]["balance"]) == ("u1", 8, 5)
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    rejected = [r for r in logged if r.get("event") == "debit_rejected"]
    assert rejected and rejected[0]["attempted"] == 8 and rejected[0]["balance"] == 5
    assert rejected[0]["severity"] == "WARNING"


def test_overdraft_retried_with_same_key_records_one_anomaly():
    for _ in range(3):
        with pytest.raises(InsufficientCredits):
            ledger.write_ledger_entry(request(direction=Direction.DEBIT, amount=1, key="k-short"))
    assert len(list(db().collection("anomalies").stream())) == 1


def test_debit_on_user_without_balance_is_an_overdraft():
    with pytest.raises(InsufficientCredits) as caught:
        ledger.write_ledger_entry(request(uid="nobody", direction=Direction.DEBIT, amount=1))
    assert caught.value.balance == 0
    assert not ledger.balance_ref("nobody").get().exists


def test_replay_returns_existing_entry_and_writes_nothing(capsys):
    first = ledger.write_ledger_entry(request(amount=10, key="k-replay", meta={"attempt": 1}))
    second = ledger.write_ledger_entry(request(amount=10, key="k-replay", meta={"attempt": 2}))

    assert second.replayed
    assert second.entry == first.entry
    assert len(stored_entries("u1")) == 1
    assert ledger.read_balances("u1").of(CreditType.IMAGE) == 10
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    skips = [r for r in logged if r.get("event") == "idempotent_skip"]
    assert len(skips) == 1
    assert skips[0]["idempotencyKey"] == "k-replay" and skips[0]["entryId"] == first.entry.id


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 11},
        {"direction": Direction.DEBIT},
        {"reason": "other"},
        {"uid": "u2"},
        {"type": CreditType.VIDEO},
        {"job_id": "job-9"},
    ],
)
def test_same_key_with_other_parameters_is_a_conflict(change):
    ledger.write_ledger_entry(request(amount=10, key="k-conflict"))

    with pytest.raises(IdempotencyConflict) as caught:
        ledger.write_ledger_entry(request(**{"amount": 10, "key": "k-conflict", **change}))

    assert caught.value.code == "idempotency_conflict"
    assert len(list(db().collection(ledger.LEDGER).stream())) == 1
    assert ledger.read_balances("u1").of(CreditType.IMAGE) == 10


@pytest.mark.parametrize(
    "bad",
    [
        {"amount": 0},
        {"amount": -5},
        {"amount": 1.5},
        {"amount": "10"},
        {"amount": True},
        {"amount": ledger.MAX_AMOUNT + 1},
        {"key": ""},
        {"key": "a/b"},
        {"key": "x" * 257},
        {"key": "tab\tkey"},
        {"uid": ""},
        {"uid": "a/b"},
        {"uid": "u1\n"},  # a regular expression's "$" would let a last line break through
        {"type": "coins"},
        {"direction": "up"},
        {"source": "gift"},
        {"created_by": "someone"},
        {"created_by": "admin:ops\n"},
        {"reason": "r" * 501},
        {"source": Source.TEXT2IMAGE, "direction": Direction.DEBIT, "type": CreditType.VIDEO},
        {"source": Source.REFUND, "direction": Direction.DEBIT},
        {"job_id": "a/b"},
        {"job_id": "j1\n"},
        {"meta": {"blob": "x" * 9000}},
    ],
)
def test_invalid_requests_are_refused_before_any_read_or_write(bad):
    with pytest.raises(InvalidArgument) as caught:
        ledger.write_ledger_entry(request(**bad))
    assert caught.value.code == "invalid_argument"
    assert caught.value.details.get("field")
    assert list(db().collection(ledger.LEDGER).stream()) == []
    assert list(db().collection(ledger.IDEMPOTENCY).stream()) == []


def test_key_of_256_characters_with_any_symbols_is_accepted():
    key = "ext:admin:" + "é%.#[]*?" * 30 + "z" * 6
    assert len(key) == 256
    write = ledger.write_ledger_entry(request(key=key))
    assert ledger.find_entry_by_key(key) == write.entry


def test_extra_writes_join_the_same_commit():
    job = db().collection("generation_jobs").document("job-1")
    write = ledger.write_ledger_entry(request(amount=3), also=lambda entry_id: [(job, {"debitEntryId": entry_id})])
    assert job.get().to_dict() == {"debitEntryId": write.entry.id}


def test_extra_write_failure_writes_no_entry():
    ledger.write_ledger_entry(request(amount=3))
    bad = db().collection("generation_jobs").document("j")

    with pytest.raises(ValueError):
        # A field path Firestore refuses makes the whole commit fail.
        ledger.write_ledger_entry(request(amount=3), also=lambda _: [(bad, {"": 1})])

    assert len(stored_entries("u1")) == 1
    assert ledger.read_balances("u1").of(CreditType.IMAGE) == 3


@pytest.mark.tampers
def test_balance_changed_elsewhere_is_read_afresh():
    # The ledger remembers the balance it last committed; a change made by another process
    # (here, written directly) must make the next write read the balance, not overwrite it.
    ledger.write_ledger_entry(request(amount=10))
    ledger.balance_ref("u1").update({ledger.balance_field(CreditType.IMAGE): 50})

    write = ledger.write_ledger_entry(request(amount=5))

    assert write.entry.balance_after == 55
    assert write.attempts == 2
    assert ledger.read_balances("u1").of(CreditType.IMAGE) == 55


@pytest.mark.tampers
def test_remembered_low_balance_does_not_reject_a_debit_that_now_fits():
    ledger.write_ledger_entry(request(amount=5))
    remembered = ledger._remembered["u1"]
    ledger.write_ledger_entry(request(amount=95))  # as if another instance wrote it
    ledger._remembered["u1"] = remembered  # this one still remembers a balance of 5

    write = ledger.write_ledger_entry(request(direction=Direction.DEBIT, amount=50))

    assert write.entry.balance_after == 50
    assert list(db().collection("anomalies").stream()) == []


def test_low_balances_page_lowest_first_over_every_type():
    for uid, amount in (("a", 5), ("b", 3), ("c", 8), ("d", 30)):
        ledger.write_ledger_entry(request(uid=uid, amount=amount))
    ledger.write_ledger_entry(request(uid="e", amount=4, type=CreditType.VIDEO))  # image 0, filled in

    first = ledger.low_balances(CreditType.IMAGE, 10, after=None, limit=2)
    assert [(uid, b.of(CreditType.IMAGE)) for uid, b in first] == [("e", 0), ("b", 3)]
    rest = ledger.low_balances(CreditType.IMAGE, 10, after=(3, "b"), limit=5)
    assert [(uid, b.of(CreditType.IMAGE)) for uid, b in rest] == [("a", 5), ("c", 8)]
    videos = ledger.low_balances(CreditType.VIDEO, 10, after=None, limit=10)
    assert [uid for uid, _ in videos] == ["a", "b", "c", "d", "e"]


def test_the_commit_is_read_by_name_whatever_else_joins_it():
    """The entry's time is its own write's server timestamp, the remembered version the balance's."""
    ledger.write_ledger_entry(request(amount=5))
    extras = [db().collection("extra").document(f"x{n}") for n in range(3)]
    write = ledger.write_ledger_entry(
        request(amount=5), also=lambda entry_id: [(ref, {"e": entry_id}) for ref in extras]
    )

    stored = db().collection(ledger.LEDGER).document(write.entry.id).get()
    assert write.entry.created_at == stored.get("createdAt")
    assert [ref.get().get("e") for ref in extras] == [write.entry.id] * 3
    remembered = ledger._remembered["u1"]
    assert remembered.version == ledger.balance_ref("u1").get().update_time
    assert (remembered.of(CreditType.IMAGE), remembered.seq) == (10, 2)


def test_the_deployed_code_imports_no_private_module_of_a_library():
    functions = Path(__file__).resolve().parents[1] / "functions"
    private = re.compile(r"^\s*(?:from|import)\s+((?:\w+\.)*_\w+)", re.MULTILINE)
    found = {
        path.name: module
        for path in [functions / "main.py", *sorted((functions / "credits").rglob("*.py"))]
        for module in private.findall(path.read_text())
        if module != "__future__"
    }
    assert found == {}


def test_a_write_keeps_the_amount_of_a_type_this_code_does_not_know():
    """While old and new instances both run, an old one never drops a newer type's balance."""
    ledger.write_ledger_entry(request(amount=5))
    ledger.balance_ref("u1").update({"audio": 7})
    ledger.write_ledger_entry(request(amount=5))  # remembered, then read afresh
    ledger.forget_remembered_balances()
    ledger.write_ledger_entry(request(amount=5))

    stored = ledger.balance_ref("u1").get().to_dict() or {}
    assert (stored["image"], stored["video"], stored["audio"]) == (15, 0, 7)
