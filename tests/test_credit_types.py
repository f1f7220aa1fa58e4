"""Credit types are data: the recipe of docs/flows.md adds a third type and a job source, and nothing else changes.

The test follows "Adding a source or a credit type" as written, on a copy of ``functions/``
made here: in its configuration file, one credit type, one job kind and one row of prices.
Then, in a separate Python process running that copy against the same Firestore emulator,
an ``audio`` job is priced, debited from the audio balance (never from another type's),
refunded, verified, summed in the daily summary and shown in Activity and in the API's
balances. The repository's own code and configuration know no ``audio``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from emulators import FirestoreEmulator

from credits.core.ledger import BALANCE_FIELDS, CreditType, check_credit_type_names

ROOT = Path(__file__).resolve().parents[1]


def add_audio(config: dict[str, Any]) -> None:
    """The recipe: a credit type, a job kind that spends it, and its prices."""
    config["credit_types"]["audio"] = {"label": "Audio credits", "hint": "for text-to-audio"}
    config["job_kinds"]["text2audio"] = {"credit_type": "audio", "unit": "durationSec", "max_units": 300}
    config["prices"]["units"]["audio"] = {"standard": 1, "hq": 3}


SCENARIO = """
import json, sys
from datetime import UTC, datetime

from credits.reads import activity, activity_log
from credits.flows import admin, jobs, pricing
from credits.core import ledger
from credits.operations import summaries, verify
from credits.core.accounts import Caller
from credits.core.ledger import CreditType, Direction
from credits.core import generation_jobs

ops = Caller(uid="ops", admin=True, email="ops@example.com")

def grant(credit_type, amount):
    body = admin.AdjustRequest(
        uid="u", type=credit_type, direction=Direction.CREDIT, amount=amount, reason="grant",
        idempotencyKey=f"grant-{credit_type}",
    )
    admin.adjust(ops, body)

def queue(job_id, seconds):
    generation_jobs.job_ref(job_id).set({
        "uid": "u", "status": "queued", "source": "text2audio", "durationSec": seconds, "quality": "hq",
        "createdAt": datetime.now(UTC),
    })
    return jobs.bill_job(job_id)

grant(CreditType.AUDIO, 40)
grant(CreditType.VIDEO, 1000)
price = pricing.price_job({"source": "text2audio", "durationSec": 10, "quality": "hq"}, pricing.DEFAULT_PRICES)
charged = queue("song", 10)
too_long = queue("album", 20)  # 60 audio credits: more than the 10 left, far less than the video balance
generation_jobs.job_ref("song").update({"status": "failed"})
refunded = jobs.bill_job("song")
activity_log.backfill()  # what the triggers would have written
feed = activity.feed("u", activity.ActivityFilters(range="all", type="all"))
summary = summaries.build_daily_summary(datetime.now(UTC).date(), run="manual")
observed = {
    "price": [str(price.credit_type), price.amount],
    "charged": [charged.action, charged.entry.to_api()],
    "too_long": [too_long.action, (generation_jobs.job_ref("album").get().to_dict() or {}).get("failureReason")],
    "refunded": [refunded.action, refunded.entry.to_api()],
    "balances": ledger.read_balances("u").to_api(),
    "mismatches": [m.to_dict() for m in verify.verify_user("u")[1]],
    "feed": feed.to_api()["items"],
    "by_type": summary["byType"]["audio"],
    "by_source": summary["bySource"]["text2audio"],
    "document": ledger.balance_ref("u").get().to_dict(),
}
with open(sys.argv[1], "w") as out:
    json.dump(observed, out, default=str)
"""


def follow_the_recipe(copy: Path, change: Callable[[dict[str, Any]], None] = add_audio) -> None:
    path = copy / "credits.config.yaml"
    config = yaml.safe_load(path.read_text())
    change(config)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def copy_of_the_functions(tmp_path: Path) -> Path:
    copy = tmp_path / "functions"
    shutil.copytree(ROOT / "functions" / "credits", copy / "credits", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "functions" / "credits.config.yaml", copy / "credits.config.yaml")
    return copy


def test_a_third_credit_type_and_job_source_need_only_the_recipe(firestore: FirestoreEmulator, tmp_path: Path):
    assert "audio" not in set(CreditType)
    copy = copy_of_the_functions(tmp_path)
    follow_the_recipe(copy)
    result = tmp_path / "observed.json"
    try:
        run = subprocess.run(
            [sys.executable, "-c", SCENARIO, str(result)],
            env={**os.environ, "PYTHONPATH": str(copy)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        seen = json.loads(result.read_text())
    finally:
        # The entries are of a type this process does not know: the closing verify could not read them.
        firestore.reset()

    assert seen["price"] == ["audio", 30]  # 10 seconds at the recipe's hq price of 3
    action, debit = seen["charged"]
    assert action == "charged"
    assert (debit["type"], debit["direction"], debit["amount"], debit["balance_after"]) == ("audio", "debit", 30, 10)
    assert (debit["source"], debit["idempotencyKey"]) == ("text2audio", "debit:text2audio:song")
    assert debit["reason"] == "text2audio: 10s audio (HQ)"
    # Checked against the audio balance (10), not the video balance (1000).
    assert seen["too_long"] == ["rejected", "insufficient_credits"]
    action, refund = seen["refunded"]
    assert action == "refunded"
    assert (refund["type"], refund["source"], refund["amount"], refund["balance_after"]) == ("audio", "refund", 30, 40)
    assert {k: v for k, v in seen["balances"].items() if k not in ("updatedAt", "expiring")} == {
        "image": 0,
        "video": 1000,
        "audio": 40,
    }
    assert (seen["document"]["audio"], seen["document"]["video"]) == (40, 1000)  # a type's field is its name
    assert seen["mismatches"] == []
    items = {item["id"]: item for item in seen["feed"]}
    assert items["job:song"]["credits"]["type"] == "audio"
    assert items["job:song"]["summary"] == "Generation failed: 10s audio (HQ)"
    assert items["job:album"]["summary"] == "Generation failed: 20s audio (HQ)"
    grants = sorted(item["creditType"] for item in seen["feed"] if item["kind"] == "credits")
    assert grants == ["audio", "video"]
    assert seen["by_type"]["credit"] == {"amount": 70, "count": 2}
    assert seen["by_type"]["debit"] == {"amount": 30, "count": 1}
    assert seen["by_source"] == {"debit": {"audio": {"amount": 30, "count": 1}}}


@pytest.mark.usefixtures("firestore")
def test_a_job_source_that_is_not_a_job_kind_is_never_charged():
    from credits.core import generation_jobs
    from credits.flows import jobs

    assert generation_jobs.job_kind("purchase") is None and generation_jobs.job_kind("nonsense") is None
    generation_jobs.job_ref("j").set(
        {"uid": "u", "status": "queued", "source": "purchase", "numImages": 1, "quality": "hq"}
    )
    assert jobs.bill_job("j").action is jobs.Action.INVALID


@pytest.mark.parametrize("name", sorted(BALANCE_FIELDS))
def test_a_credit_type_named_like_a_field_of_the_balance_document_is_refused(name: str):
    with pytest.raises(ValueError, match=f"credit type '{name}' is named like a field of the balance document"):
        check_credit_type_names(["image", name])


@pytest.mark.parametrize("name", ["", "Image", "image credits", "a.b", "x" * 33, "9lives", "video\n"])
def test_a_credit_type_that_is_no_plain_field_name_is_refused(name: str):
    with pytest.raises(ValueError, match="lower-case"):
        check_credit_type_names([name])


def test_the_functions_do_not_load_with_a_credit_type_named_like_a_balance_field(tmp_path: Path):
    copy = copy_of_the_functions(tmp_path)
    follow_the_recipe(copy, lambda config: config["credit_types"].update(seq={"label": "Seq credits"}))
    run = subprocess.run(
        [sys.executable, "-c", "import credits.core.ledger"],
        env={**os.environ, "PYTHONPATH": str(copy)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert "credit_types.seq: credit type 'seq' is named like a field of the balance document" in run.stderr
