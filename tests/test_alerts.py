"""Credit alerts against the Firestore emulator: one low-balance alert per crossing, re-armed by a
credit, whatever the concurrency, the order or the repetition of the trigger's deliveries; the
hourly sweep that makes up for lost deliveries; expiring-soon alerts once per block; and what the
banner shows (``GET /api/credits/alerts``)."""

from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ledger_helpers import request, stored_entries
from openapi_check import assert_conforms
from test_quotes import grant, id_token

from credits.api.routes import app
from credits.core import ledger
from credits.core.errors import InsufficientCredits
from credits.core.firestore_client import db
from credits.core.ledger import CreditType, Direction
from credits.core.settings import SETTINGS
from credits.flows import alerts, credit_settings, expiry
from credits.flows.credit_settings import SettingsPatch

IMAGE, VIDEO = CreditType.IMAGE, CreditType.VIDEO
DAYS = SETTINGS.alerts.expiring_soon_days


def debit(uid: str, amount: int, credit_type: CreditType = IMAGE, key: str | None = None) -> ledger.LedgerEntry:
    return ledger.write_ledger_entry(
        request(uid=uid, direction=Direction.DEBIT, amount=amount, type=credit_type, key=key)
    ).entry


def set_threshold(uid: str, credit_type: CreditType, threshold: int | None) -> None:
    credit_settings.update(uid, SettingsPatch.model_validate({"lowBalance": {str(credit_type): threshold}}))


def stored_alerts(uid: str | None = None) -> dict[str, dict[str, Any]]:
    return {
        snap.id: snap.to_dict() or {}
        for snap in db().collection(alerts.ALERTS).stream()
        if uid is None or (snap.to_dict() or {}).get("uid") == uid
    }


def deliver_every_entry(uid: str, times: int = 1, seed: int = 0) -> list[alerts.Alert | None]:
    """The trigger on every entry of the user, each ``times`` times, in a shuffled order, on 8 threads."""
    deliveries = [entry["id"] for entry in entries_of(uid) for _ in range(times)]
    random.Random(seed).shuffle(deliveries)
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(alerts.raise_low_balance_alert, deliveries))


def entries_of(uid: str) -> list[dict[str, Any]]:
    """The user's stored entries in ledger order, each with its id."""
    return [
        {**(snap.to_dict() or {}), "id": snap.id}
        for snap in sorted(
            (s for s in ledger.ledger_collection().stream() if s.get("uid") == uid), key=lambda s: s.get("seq")
        )
    ]


def crossings(uid: str, credit_type: CreditType, threshold: int) -> list[str]:
    """The entries whose balance went from at or above ``threshold`` to below it, worked out from the chain."""
    found, before = [], 0
    for entry in (e for e in entries_of(uid) if e["type"] == str(credit_type)):
        if before >= threshold > entry["balance_after"]:
            found.append(entry["id"])
        before = entry["balance_after"]
    return found


# Low balance: one alert per crossing.


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_eight_concurrent_debits_across_the_threshold_raise_exactly_one_alert(firestore, seed):
    grant("hot", 60)  # the image threshold is 20 by default: 60 -> 4 after eight debits of 7
    assert credit_settings.read("hot").threshold(IMAGE) == 20

    def spend(n: int) -> ledger.LedgerEntry:
        return debit("hot", 7, key=f"spend:{n}")

    with ThreadPoolExecutor(8) as pool:
        spent = list(pool.map(spend, range(8)))

    assert ledger.read_balances("hot").of(IMAGE) == 60 - 8 * 7
    # Every entry's trigger delivered twice, shuffled, concurrently.
    raised = [alert for alert in deliver_every_entry("hot", times=2, seed=seed) if alert is not None]

    (crossing,) = crossings("hot", IMAGE, 20)
    assert crossing in {entry.id for entry in spent}
    assert [alert.id for alert in raised] == [f"low_balance:{crossing}"]
    stored = stored_alerts()
    assert list(stored) == [f"low_balance:{crossing}"]
    record = stored[f"low_balance:{crossing}"]
    entry = next(e for e in entries_of("hot") if e["id"] == crossing)
    assert {k: record[k] for k in ("uid", "kind", "type", "balance", "threshold", "entryId", "source")} == {
        "uid": "hot",
        "kind": "low_balance",
        "type": "image",
        "balance": entry["balance_after"],
        "threshold": 20,
        "entryId": crossing,
        "source": "admin_adjustment",
    }
    assert entry["balance_after"] < 20 <= entry["balance_after"] + 7
    assert record["crossedAt"] == entry["createdAt"]
    assert record["createdAt"] >= entry["createdAt"]
    assert (record["blockId"], record["credits"], record["expiresAt"]) == (None, None, None)


def test_a_credit_rearms_the_alert_and_the_next_crossing_raises_a_second(firestore):
    grant("rea", 30)
    first = debit("rea", 15)  # 30 -> 15: below 20
    debit("rea", 5)  # 15 -> 10: still below, no new crossing
    grant("rea", 5)  # 10 -> 15: still below, not re-armed
    debit("rea", 1)  # 15 -> 14
    grant("rea", 50)  # 14 -> 64: above again, re-armed
    debit("rea", 40)  # 64 -> 24: above
    second = debit("rea", 5)  # 24 -> 19: the second crossing
    debit("rea", 19)  # 19 -> 0

    deliver_every_entry("rea", times=2, seed=7)

    assert sorted(stored_alerts("rea")) == sorted([f"low_balance:{first.id}", f"low_balance:{second.id}"])
    assert crossings("rea", IMAGE, 20) == [first.id, second.id]


def test_no_alert_when_the_balance_starts_below_or_lands_on_the_threshold(firestore):
    grant("low", 10)
    debit("low", 5)  # 10 -> 5: already below 20 before
    grant("edge", 30)
    debit("edge", 10)  # 30 -> 20: on the threshold is not below it

    for uid in ("low", "edge"):
        deliver_every_entry(uid)

    assert stored_alerts() == {}


def test_each_type_has_its_own_threshold_and_zero_turns_alerts_off(firestore):
    grant("types", 30)
    grant("types", 30, type=VIDEO)
    set_threshold("types", IMAGE, 0)
    set_threshold("types", VIDEO, 25)
    debit("types", 30)  # image 30 -> 0: alerts off
    video = debit("types", 10, credit_type=VIDEO)  # video 30 -> 20: below its own 25 (the default is 10)

    deliver_every_entry("types")

    assert list(stored_alerts("types")) == [f"low_balance:{video.id}"]
    assert stored_alerts("types")[f"low_balance:{video.id}"]["threshold"] == 25


def test_any_debit_counts_an_expiration_too(firestore):
    past = datetime.now(UTC) - timedelta(minutes=1)
    grant("exp", 15)
    grant("exp", 10, expires_at=past)  # 25 of record, 15 spendable: no debit has crossed yet
    assert expiry.expire_credits().expired == 1

    deliver_every_entry("exp")

    (expiration,) = (e for e in entries_of("exp") if e["source"] == "expiration")
    assert list(stored_alerts("exp")) == [f"low_balance:{expiration['id']}"]
    assert stored_alerts("exp")[f"low_balance:{expiration['id']}"]["source"] == "expiration"


def test_a_credit_or_a_missing_entry_raises_nothing(firestore):
    entry = grant("credit", 100)
    assert alerts.raise_low_balance_alert(entry.id) is None
    assert alerts.raise_low_balance_alert("no-such-entry") is None
    assert stored_alerts() == {}


def test_the_log_line_is_written_once_per_alert(firestore, capsys):
    grant("log", 25)
    crossing = debit("log", 10)
    capsys.readouterr()

    deliver_every_entry("log", times=3)

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"credit_alert"' in line]
    assert len(lines) == 1
    assert {k: lines[0][k] for k in ("severity", "event", "alertId", "uid", "type", "balance", "threshold")} == {
        "severity": "WARNING",
        "event": "credit_alert",
        "alertId": f"low_balance:{crossing.id}",
        "uid": "log",
        "type": "image",
        "balance": 15,
        "threshold": 20,
    }
    assert lines[0]["entryId"] == crossing.id and lines[0]["via"] == "trigger"


# The hourly sweep: lost trigger deliveries.


def test_the_sweep_raises_a_crossing_whose_delivery_was_lost_once(firestore):
    grant("lost", 30)
    crossing = debit("lost", 20)  # its trigger never runs
    later = datetime.now(UTC) + alerts.GRACE + timedelta(seconds=5)

    first = alerts.sweep_credit_alerts(later)
    again = alerts.sweep_credit_alerts(later)
    assert alerts.raise_low_balance_alert(crossing.id) is None  # the trigger, late: already there

    assert [alert.id for alert in first.repaired] == [f"low_balance:{crossing.id}"]
    assert (first.debits, again.debits, again.repaired) == (1, 1, [])
    assert list(stored_alerts()) == [f"low_balance:{crossing.id}"]


def test_the_sweep_leaves_recent_debits_to_the_trigger_and_old_ones_alone(firestore):
    grant("win", 30)
    crossing = debit("win", 20)
    now = datetime.now(UTC)

    assert alerts.sweep_credit_alerts(now).repaired == []  # within the grace period
    long_after = now + alerts.LOOKBACK + timedelta(minutes=1)
    assert alerts.sweep_credit_alerts(long_after).repaired == []  # older than the look back
    assert stored_alerts() == {}

    # After an outage of the schedule, a longer look back makes the gap up.
    caught_up = alerts.sweep_credit_alerts(long_after, lookback=2 * alerts.LOOKBACK)
    assert [alert.id for alert in caught_up.repaired] == [f"low_balance:{crossing.id}"]
    assert alerts.raise_low_balance_alert(crossing.id) is None


def test_the_sweep_does_not_judge_old_debits_by_a_threshold_set_after_them(firestore):
    grant("late", 30)
    debit("late", 12)  # 30 -> 18: crossed the default 20 then; its delivery was lost
    set_threshold("late", IMAGE, 25)  # then the user raised the threshold
    grant("late", 10)  # 18 -> 28: above the new threshold
    last = debit("late", 10)  # 28 -> 18: crosses 25
    later = datetime.now(UTC) + alerts.GRACE + timedelta(seconds=5)

    report = alerts.sweep_credit_alerts(later)

    # The first debit was written before the settings changed: its trigger judged it by the
    # threshold of then, and the sweep leaves it; the second is judged by the new one.
    assert report.debits == 2
    assert [alert.id for alert in report.repaired] == [f"low_balance:{last.id}"]
    assert stored_alerts()[f"low_balance:{last.id}"]["threshold"] == 25


# Expiring soon: once per block.


def test_expiring_soon_is_raised_once_per_block_with_credits_left_within_the_window(firestore):
    now = datetime.now(UTC)
    soon = grant("ex", 30, expires_at=now + timedelta(days=DAYS - 1))
    grant("ex", 10, expires_at=now + timedelta(hours=12))
    later = grant("ex", 40, expires_at=now + timedelta(days=DAYS + 2))
    grant("ex", 50)  # never expires
    debit("ex", 10)  # takes the block that expires soonest (in 12 hours): emptied and closed
    grant("other", 5, expires_at=now + timedelta(days=1))
    debit("other", 5)  # the only block of this user, emptied

    runs = [alerts.sweep_credit_alerts(now + timedelta(minutes=n)) for n in range(3)]

    assert [[a.id for a in run.expiring] for run in runs] == [[f"expiring_soon:ex:{soon.id}"], [], []]
    assert runs[0].expiring_users == 1
    stored = stored_alerts()
    assert list(stored) == [f"expiring_soon:ex:{soon.id}"]
    record = stored[f"expiring_soon:ex:{soon.id}"]
    assert {k: record[k] for k in ("uid", "kind", "type", "blockId", "entryId", "credits", "threshold")} == {
        "uid": "ex",
        "kind": "expiring_soon",
        "type": "image",
        "blockId": soon.id,
        "entryId": soon.id,
        "credits": 30,
        "threshold": None,
    }
    assert record["expiresAt"] == soon.expires_at
    assert record["balance"] == 30 + 40 + 50

    # Days later the far block comes within the window; the first one has expired meanwhile.
    after = alerts.sweep_credit_alerts(now + timedelta(days=3, hours=1))
    assert [a.id for a in after.expiring] == [f"expiring_soon:ex:{later.id}"]
    assert sorted(stored_alerts()) == sorted([f"expiring_soon:ex:{soon.id}", f"expiring_soon:ex:{later.id}"])


def test_a_partly_spent_block_is_announced_with_what_is_left(firestore):
    now = datetime.now(UTC)
    block = grant("part", 30, expires_at=now + timedelta(days=1))
    debit("part", 12)

    (alert,) = alerts.sweep_credit_alerts(now).expiring

    assert (alert.block_id, alert.credits, alert.balance) == (block.id, 18, 18)


def test_concurrent_runs_raise_one_expiring_soon_alert_per_block(firestore):
    now = datetime.now(UTC)
    blocks = [grant(f"c{n}", 10, expires_at=now + timedelta(days=1)) for n in range(4)]

    with ThreadPoolExecutor(4) as pool:
        reports = list(pool.map(alerts.sweep_credit_alerts, [now] * 4))

    assert sorted(a.id for r in reports for a in r.expiring) == sorted(
        f"expiring_soon:c{n}:{block.id}" for n, block in enumerate(blocks)
    )
    assert len(stored_alerts()) == 4


# What the banner shows: GET /api/credits/alerts.


def get_alerts(uid: str) -> Any:
    response = app.test_client().get("/api/credits/alerts", headers={"Authorization": f"Bearer {id_token(uid)}"})
    assert response.status_code == 200, response.json
    assert_conforms("get", "/api/credits/alerts", 200, response.json)
    return response.json


def test_the_banner_shows_a_low_balance_until_a_credit_brings_it_back(firestore, auth_emulator):
    grant("ban", 25)
    assert get_alerts("ban")["lowBalance"] == []
    crossing = debit("ban", 10)
    alerts.raise_low_balance_alert(crossing.id)

    shown = get_alerts("ban")
    assert [(i["type"], i["balance"], i["threshold"], i["alert"]["id"]) for i in shown["lowBalance"]] == [
        ("image", 15, 20, f"low_balance:{crossing.id}")
    ]
    assert get_alerts("someone-else")["lowBalance"] == []

    grant("ban", 5)  # 20: back at the threshold
    assert get_alerts("ban")["lowBalance"] == []


def test_no_banner_for_a_balance_that_never_crossed(firestore, auth_emulator):
    grant("new", 3)
    assert get_alerts("new") == {"lowBalance": [], "expiringSoon": [], "autoTopUpOff": [], "expiringSoonDays": DAYS}


def test_the_banner_says_automatic_top_up_is_off_after_a_failed_payment_until_it_is_on_again(firestore, auth_emulator):
    settings = credit_settings.settings_ref("off")
    settings.set({"autoTopUp": {"enabled": True, "pack": "price_pack_image_100", "threshold": 50, "monthlyCap": 2997}})
    assert get_alerts("off")["autoTopUpOff"] == []  # on: nothing to say

    # What a failed payment writes (top_up_attempts): the alert, and the settings turned off, saying why.
    at = datetime(2026, 11, 22, 9, 1, 3, tzinfo=UTC)
    failed = alerts.Alert(
        id="auto_top_up_failed:d1",
        uid="off",
        kind=alerts.Kind.AUTO_TOP_UP_FAILED,
        type=CreditType.IMAGE,
        balance=40,
        threshold=50,
        entry_id="d1",
        source="text2image",
        crossed_at=at,
        credits=100,
        pack="price_pack_image_100",
        amount=999,
        currency="usd",
        reason="card_declined",
    )
    alerts.alert_ref(failed.id).set(failed.document())
    off = credit_settings.TurnedOff(reason="card_declined", at=at, attempt_id="d1", alert_id=failed.id)
    settings.update(credit_settings.turned_off_fields(off))

    [shown] = get_alerts("off")["autoTopUpOff"]
    assert (shown["type"], shown["reason"], shown["at"]) == ("image", "card_declined", at.isoformat())
    alert = shown["alert"]
    assert (alert["id"], alert["kind"], alert["amount"]) == (failed.id, "auto_top_up_failed", 999)
    assert get_alerts("someone-else")["autoTopUpOff"] == []

    # Turned off by the user too: still off because of the failure, so still said.
    settings.update({"autoTopUp.enabled": False})
    assert len(get_alerts("off")["autoTopUpOff"]) == 1
    # Turned on again (which clears turnedOff): cleared.
    settings.update({"autoTopUp.enabled": True, "autoTopUp.turnedOff": None})
    assert get_alerts("off")["autoTopUpOff"] == []


def test_the_banner_lists_blocks_expiring_soon_with_their_alert_once_raised(firestore, auth_emulator):
    now = datetime.now(UTC)
    soon = grant("eb", 30, expires_at=now + timedelta(days=1))
    grant("eb", 30, expires_at=now + timedelta(days=DAYS + 1))

    before = get_alerts("eb")["expiringSoon"]
    alerts.sweep_credit_alerts()
    after = get_alerts("eb")["expiringSoon"]

    assert [(i["blockId"], i["credits"], i["alert"]) for i in before] == [(soon.id, 30, None)]
    assert [(i["blockId"], i["alert"]["id"]) for i in after] == [(soon.id, f"expiring_soon:eb:{soon.id}")]
    debit("eb", 30)  # spent: nothing left to expire soon
    assert get_alerts("eb")["expiringSoon"] == []


def test_the_route_needs_a_token_and_takes_no_parameters(firestore, auth_emulator):
    client = app.test_client()
    anonymous = client.get("/api/credits/alerts")
    assert (anonymous.status_code, anonymous.json["error"]["code"]) == (401, "unauthenticated")
    stranger = client.get("/api/credits/alerts?uid=bob", headers={"Authorization": f"Bearer {id_token('alice')}"})
    assert (stranger.status_code, stranger.json["error"]["code"]) == (400, "invalid_argument")


def test_insufficient_debits_raise_nothing(firestore):
    grant("short", 25)
    with pytest.raises(InsufficientCredits):
        debit("short", 30)
    deliver_every_entry("short")
    assert stored_alerts() == {}
    assert len(stored_entries("short")) == 1
