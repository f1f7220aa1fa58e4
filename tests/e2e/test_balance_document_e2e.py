"""The balance document as a client app reads it: signed in, through the Firebase JS SDK,
under the security rules, it finds integer ``image`` and ``video`` fields equal to the
ledger's sums, after a purchase, admin grants, a job's debit, a failed job's refund and an
expiration, each written by its real path on the Emulator Suite.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from ledger_helpers import job_document

from e2e import helpers
from e2e.helpers import ROOT, User

EXPIRES_IN_S = 6


def grant(admin: User, uid: str, credit_type: str, amount: int, expires_at: datetime | None = None) -> None:
    body = {
        "uid": uid,
        "type": credit_type,
        "direction": "credit",
        "amount": amount,
        "reason": "welcome credits",
        "idempotencyKey": helpers.unique("grant"),
        "expiresAt": expires_at.isoformat() if expires_at else None,
    }
    response = helpers.adjust(body, admin.auth_header)
    assert response.status_code == 201, response.text


def run_job(uid: str, *, num_images: int, fail: bool) -> None:
    job_id = helpers.unique("job")
    document = job_document(uid=uid, numImages=num_images, quality="standard", createdAt=datetime.now(UTC))
    helpers.create_document("generation_jobs", job_id, document)
    helpers.wait_for(lambda: helpers.job_entries(job_id), lambda found: len(found) == 1, what=f"the debit of {job_id}")
    status = {"status": "failed", "error": "model crashed"} if fail else {"status": "completed"}
    helpers.update_document(f"generation_jobs/{job_id}", status)
    if fail:
        helpers.wait_for(lambda: helpers.job_entries(job_id), lambda found: len(found) == 2, what="the refund")


def ledger_sums(uid: str) -> Counter[str]:
    sums: Counter[str] = Counter()
    for entry in helpers.ledger_entries(uid):
        sign = 1 if entry.data["direction"] == "credit" else -1
        sums[entry.data["type"]] += sign * int(entry.data["amount"])
    return sums


def read_as_client(user: User, other_uid: str) -> dict[str, object]:
    script = ROOT / "tests" / "e2e" / "read_balance.mjs"
    run = subprocess.run(
        ["node", str(script), user.email, user.password, helpers.PROJECT, other_uid],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, object] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def test_a_signed_in_client_reads_integer_image_and_video_equal_to_the_ledger(admin: User) -> None:
    user = helpers.sign_up(helpers.unique("reader") + "@example.com")
    helpers.buy_image_credits(user.uid, tag=helpers.unique("pack"))  # +100 image
    expiring_at = datetime.now(UTC) + timedelta(seconds=EXPIRES_IN_S)
    grant(admin, user.uid, "video", 30, expires_at=expiring_at)
    grant(admin, user.uid, "video", 12)
    run_job(user.uid, num_images=4, fail=False)  # -4 image
    run_job(user.uid, num_images=3, fail=True)  # -3, +3 image
    time.sleep(max(0.0, (expiring_at - datetime.now(UTC)).total_seconds()) + 1)
    helpers.fire_schedule("expire_credits")
    helpers.wait_for(
        lambda: [e for e in helpers.ledger_entries(user.uid) if e.data["source"] == "expiration"],
        lambda found: len(found) == 1,
        what="the expiration of the video grant",
    )

    seen = read_as_client(user, other_uid=admin.uid)

    assert seen["uid"] == user.uid
    data = seen["data"]
    assert isinstance(data, dict)
    sums = ledger_sums(user.uid)
    assert (data["image"], data["video"]) == (sums["image"], sums["video"]) == (96, 12)
    assert "amounts" not in data
    stored = helpers.get_document(f"users/{user.uid}/balances/current")
    assert stored is not None
    assert type(stored.data["image"]) is int and type(stored.data["video"]) is int  # integerValue, not a double
    assert seen["other"] == "permission-denied"
