"""The balance document as the checklist names it: ``users/{uid}/balances/current`` holds an
integer ``image`` and ``video`` at its top level, beside ``updatedAt``, ``seq`` and the blocks.

Also the older shape, the ``amounts`` map: read correctly, moved by the document's next write
and by ``scripts/migrate_balances.py``, once.
"""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest
from conftest import ROOT
from google.cloud.firestore import DELETE_FIELD
from ledger_helpers import request

from credits.core import ledger
from credits.core.ledger import CreditType, Direction
from credits.operations import verify

pytestmark = pytest.mark.usefixtures("firestore")

MIGRATE = [sys.executable, str(ROOT / "scripts" / "migrate_balances.py")]


def stored(uid: str) -> dict[str, Any]:
    return ledger.balance_ref(uid).get().to_dict() or {}


def as_map_shaped(uid: str, **unknown: int) -> None:
    """Make a user's balance document look as the ledger wrote it with the ``amounts`` map,
    holding ``unknown`` types (of a newer deployment) in the map too."""
    doc = stored(uid)
    amounts = {str(t): doc.pop(str(t)) for t in CreditType if str(t) in doc}
    ledger.balance_ref(uid).set({**doc, ledger.LEGACY_AMOUNTS: {**amounts, **unknown}})
    ledger.forget_remembered_balances()


def test_each_type_is_a_top_level_integer_named_by_the_type():
    ledger.write_ledger_entry(request(amount=25))
    ledger.write_ledger_entry(request(amount=7, type=CreditType.VIDEO))
    ledger.write_ledger_entry(request(amount=5, direction=Direction.DEBIT))

    doc = stored("u1")
    assert (doc["image"], doc["video"], doc["seq"]) == (20, 7, 3)
    assert all(type(doc[str(t)]) is int for t in CreditType)
    assert ledger.LEGACY_AMOUNTS not in doc
    assert set(doc) == {*map(str, CreditType), *ledger.BALANCE_FIELDS} - {ledger.LEGACY_AMOUNTS}


def test_the_first_entry_of_a_type_still_sets_every_type():
    ledger.write_ledger_entry(request(amount=3, type=CreditType.VIDEO))
    assert (stored("u1")["image"], stored("u1")["video"]) == (0, 3)


def test_a_map_shaped_document_is_read_and_moved_by_its_next_write():
    ledger.write_ledger_entry(request(amount=40))
    ledger.write_ledger_entry(request(amount=9, type=CreditType.VIDEO))
    as_map_shaped("u1", audio=4)
    assert ledger.read_balances("u1").of(CreditType.IMAGE) == 40

    debit = ledger.write_ledger_entry(request(amount=15, direction=Direction.DEBIT)).entry

    assert debit.balance_after == 25
    doc = stored("u1")
    assert ledger.LEGACY_AMOUNTS not in doc
    assert (doc["image"], doc["video"], doc["audio"], doc["seq"]) == (25, 9, 4, 3)
    assert verify.verify_users(["u1"]).ok


def test_a_remembered_balance_does_not_hide_a_map_shaped_document():
    """A write that skips the read (its process wrote last) still moves a document changed to the map since."""
    ledger.write_ledger_entry(request(amount=10))
    doc = stored("u1")
    del doc["image"], doc["video"]
    ledger.balance_ref("u1").set({**doc, ledger.LEGACY_AMOUNTS: {"image": 10, "video": 0}})

    ledger.write_ledger_entry(request(amount=1))

    doc = stored("u1")
    assert (doc["image"], ledger.LEGACY_AMOUNTS in doc) == (11, False)


def test_the_migration_moves_every_map_shaped_document_once():
    for uid, amount in (("a", 40), ("b", 7), ("c", 12)):
        ledger.write_ledger_entry(request(uid=uid, amount=amount))
        ledger.write_ledger_entry(request(uid=uid, amount=3, type=CreditType.VIDEO))
    ledger.write_ledger_entry(request(uid="a", amount=5, direction=Direction.DEBIT))
    before = {uid: stored(uid) for uid in ("a", "b", "c")}
    as_map_shaped("a")
    as_map_shaped("b", audio=2)
    # c stays in today's shape; d holds the map and predates blocks as well
    ledger.write_ledger_entry(request(uid="d", amount=8))
    as_map_shaped("d")
    ledger.balance_ref("d").update({name: DELETE_FIELD for name in (ledger.BLOCKS, ledger.BLOCKS_SINCE)})

    first = subprocess.run(MIGRATE, capture_output=True, text=True, timeout=60, check=True)
    after_first = {uid: stored(uid) for uid in ("a", "b", "c", "d")}
    again = subprocess.run(MIGRATE, capture_output=True, text=True, timeout=60, check=True)

    assert first.stdout.strip() == "3 users migrated, 1 already in today's shape"
    assert again.stdout.strip() == "0 users migrated, 4 already in today's shape"
    assert {uid: stored(uid) for uid in ("a", "b", "c", "d")} == after_first
    assert after_first["a"] == before["a"]  # amounts and blocks exactly as they were
    assert after_first["b"] == {**before["b"], "audio": 2}
    assert after_first["c"] == before["c"]
    assert (after_first["d"]["image"], after_first["d"]["blocksSince"]) == (8, 1)
    assert ledger.read_balances("d").blocks["opening-image"].remaining == 8
    assert verify.verify_users(["a", "b", "c", "d"]).ok


def test_the_web_app_knows_the_same_bookkeeping_fields():
    """The balance cards read every other top-level integer as a credit type."""
    source = (ROOT / "web" / "src" / "credits" / "balances.ts").read_text()
    listed = re.search(r"export const BALANCE_FIELDS = \[(.*?)\] as const", source, re.DOTALL)
    assert listed is not None
    assert set(re.findall(r'"(\w+)"', listed.group(1))) == ledger.BALANCE_FIELDS
