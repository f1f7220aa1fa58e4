"""The Activity projection through the real triggers: an entry and a job reach
``users/{uid}/activity`` as the Functions emulator delivers their writes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ledger_helpers import job_document

from e2e import helpers


def item(uid: str, item_id: str) -> dict[str, Any]:
    return helpers.activity_items(uid).get(item_id, {})


def test_an_entry_and_a_job_reach_the_projection_through_the_triggers():
    uid = helpers.new_account("projected")
    helpers.buy_image_credits(uid, tag=helpers.unique("projected"))
    [purchase] = helpers.ledger_entries(uid)
    bought = helpers.wait_for(
        lambda: item(uid, f"entry:{purchase.id}"), lambda d: bool(d), what="the purchase's Activity item"
    )
    assert (bought["uid"], bought["kind"], bought["inAll"], bought["influencerId"]) == (uid, "credits", True, None)
    assert bought["item"]["type"] == "credits_purchased" and bought["item"]["delta"] == 100

    job_id = helpers.unique("projected-job")
    helpers.create_document(
        "generation_jobs", job_id, job_document(uid=uid, model="flux-pro", createdAt=datetime.now(UTC))
    )
    started = helpers.wait_for(
        lambda: item(uid, f"job:{job_id}"),
        lambda d: (d.get("item", {}).get("credits") or {}).get("charged") == 10,
        what="the job's item showing its debit",
    )
    assert started["item"]["type"] == "generation_started" and started["influencerId"] == "inf-luna"
    debit_id = started["item"]["credits"]["debitEntryId"]
    debit = helpers.wait_for(lambda: item(uid, f"entry:{debit_id}"), lambda d: bool(d), what="the debit's item")
    assert (debit["inAll"], debit["influencerId"], debit["item"]["generationItemId"]) == (
        False,
        "inf-luna",
        f"job:{job_id}",
    )

    helpers.update_document(f"generation_jobs/{job_id}", {"status": "failed", "error": "GPU lost"})
    failed = helpers.wait_for(
        lambda: item(uid, f"job:{job_id}"),
        lambda d: (d.get("item", {}).get("credits") or {}).get("refunded") == 10,
        what="the job's item showing its refund",
    )
    assert failed["item"]["type"] == "generation_failed" and failed["item"]["status"] == "failed"
    refund_id = failed["item"]["credits"]["refundEntryId"]
    helpers.wait_for(lambda: item(uid, f"entry:{refund_id}"), lambda d: bool(d), what="the refund's item")
    assert set(helpers.activity_items(uid)) == {
        f"entry:{purchase.id}",
        f"job:{job_id}",
        f"entry:{debit_id}",
        f"entry:{refund_id}",
    }
    # Late or repeated deliveries (the refund's write fires the trigger again) never move it back.
    helpers.stays(lambda: item(uid, f"job:{job_id}")["item"]["type"], "generation_failed", what="the job's item")
