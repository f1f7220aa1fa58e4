"""Demo data for the local Emulator Suite, written through the product's own paths.

Users are created in the Auth emulator; purchases and plan grants arrive as signed Stripe
events at the webhook through Hosting; generation jobs are written the way the pipeline
writes them and billed by the Firestore trigger; admin grants go through the admin API with
the admin's ID token. Nothing writes a balance or an entry directly, so the ledger and the
balances always agree.

    python scripts/seed_demo.py      (scripts/run_local.sh runs it once the suite is up)

Run against data that already has the demo users, it changes nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import target

HOSTING = "http://127.0.0.1:5000"
PASSWORD = "demo-password"


@dataclass(frozen=True)
class DemoUser:
    uid: str
    email: str
    name: str
    admin: bool = False


ADMIN = DemoUser("demo-admin", "admin@demo.test", "Ada Admin", admin=True)
ALICE = DemoUser("demo-alice", "alice@demo.test", "Alice Artist")
BOB = DemoUser("demo-bob", "bob@demo.test", "Bob Builder")
CAROL = DemoUser("demo-carol", "carol@demo.test", "Carol Curious")
USERS = (ADMIN, ALICE, BOB, CAROL)


def main() -> int:
    where = target.connect(None)
    from credits import ledger

    if ledger.balance_ref(ALICE.uid).get().exists:
        print(f"demo data already present on {where}")
    else:
        print(f"seeding demo data on {where}")
        seed()
    print_accounts()
    return 0


def seed() -> None:
    from firebase_admin import auth

    from credits.auth import firebase_app, set_admin

    for user in USERS:
        try:
            auth.get_user(user.uid, app=firebase_app())
        except auth.UserNotFoundError:
            auth.create_user(
                uid=user.uid, email=user.email, password=PASSWORD, display_name=user.name, app=firebase_app()
            )
        if user.admin:
            set_admin(user.uid, True)

    stripe = StripeSender()
    stripe.send("invoice.paid", ALICE, plan="price_plan_pro_monthly", n=1)
    stripe.send("checkout", ALICE, pack="price_pack_video_60", n=2)
    stripe.send("checkout", BOB, pack="price_pack_image_100", n=3)
    stripe.send("checkout", BOB, pack="price_pack_image_500", n=4)
    stripe.send("refund", BOB, n=4, amount=4900)

    admin_grant(CAROL, 5, "Welcome credits", "welcome-carol")
    admin_grant(BOB, 25, "Sorry for the outage on Tuesday", "outage-bob")

    now = datetime.now(UTC)
    luna = {"influencerId": "inf-luna", "influencerName": "Luna"}
    nova = {"influencerId": "inf-nova", "influencerName": "Nova"}
    image = {"model": "flux-pro", "resolution": "1024x1792", "aspectRatio": "9:16"}
    video = {"model": "kling-2", "resolution": "1080p", "aspectRatio": "9:16"}
    jobs = [
        ("demo-a1", ALICE, "completed", "text2image", {"numImages": 5, "quality": "hq", **image, **luna}, 50),
        (
            "demo-a2",
            ALICE,
            "completed",
            "image2image",
            {"numImages": 2, "quality": "standard", **image, **luna},
            30,
        ),
        ("demo-a3", ALICE, "failed", "text2image", {"numImages": 5, "quality": "hq", **image, **luna}, 26),
        (
            "demo-a4",
            ALICE,
            "completed",
            "text2video",
            {"durationSec": 8, "quality": "hq", **video, **nova},
            5,
        ),
        (
            "demo-a5",
            ALICE,
            "processing",
            "image2video",
            {"durationSec": 5, "quality": "standard", **video, **nova},
            1,
        ),
        (
            "demo-a6",
            ALICE,
            "queued",
            "text2image",
            {"numImages": 4, "quality": "standard", **image, **luna},
            0,
        ),
        ("demo-b1", BOB, "completed", "text2image", {"numImages": 1, "quality": "hq", **image}, 20),
        (
            "demo-c1",
            CAROL,
            "completed",
            "text2image",
            {"numImages": 2, "quality": "standard", **image, **luna},
            3,
        ),
        ("demo-c2", CAROL, "queued", "text2image", {"numImages": 5, "quality": "hq", **image, **luna}, 2),
    ]
    for job_id, user, final_status, source, fields, hours_ago in jobs:
        run_job(job_id, user, final_status, source, fields, created=now - timedelta(hours=hours_ago))


class StripeSender:
    """Posts signed Stripe events to the webhook, as Stripe would."""

    def __init__(self) -> None:
        secrets = (target.ROOT / "functions" / ".secret.local").read_text().splitlines()
        self.secret = next(line.split("=", 1)[1] for line in secrets if line.startswith("STRIPE_WEBHOOK_SECRET="))

    def send(self, kind: str, user: DemoUser, *, n: int, pack: str = "", plan: str = "", amount: int = 0) -> None:
        from credits import stripe_events as se

        suffix = f"demo_{user.uid}_{n}"
        if kind == "checkout":
            event = se.checkout_completed(
                event_id=f"evt_{suffix}",
                uid=user.uid,
                pack=pack,
                payment_intent=f"pi_{suffix}",
                session_id=f"cs_{suffix}",
                invoice=f"in_{suffix}",
                amount_total=4900 if pack.endswith("500") else 999,
            )
        elif kind == "invoice.paid":
            event = se.invoice_paid(
                event_id=f"evt_{suffix}",
                uid=user.uid,
                plan=plan,
                invoice_id=f"in_{suffix}",
                subscription_id=f"sub_{user.uid}",
            )
        else:
            event = se.charge_refunded(
                event_id=f"evt_refund_{suffix}",
                charge_id=f"ch_{suffix}",
                payment_intent=f"pi_{suffix}",
                amount=amount,
                amount_refunded=amount,
            )
        payload = se.encode(event)
        response = requests.post(
            f"{HOSTING}/api/stripe/webhook",
            data=payload,
            headers={"Stripe-Signature": se.signature_header(payload, self.secret)},
            timeout=30,
        )
        response.raise_for_status()


def admin_grant(user: DemoUser, amount: int, reason: str, key: str) -> None:
    token = sign_in(ADMIN)
    response = requests.post(
        f"{HOSTING}/api/admin/credits/adjust",
        json={
            "uid": user.uid,
            "type": "image",
            "direction": "credit",
            "amount": amount,
            "reason": reason,
            "idempotencyKey": key,
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    response.raise_for_status()


def sign_in(user: DemoUser) -> str:
    import os

    url = (
        f"http://{os.environ['FIREBASE_AUTH_EMULATOR_HOST']}"
        "/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=demo"
    )
    response = requests.post(
        url, json={"email": user.email, "password": PASSWORD, "returnSecureToken": True}, timeout=30
    )
    response.raise_for_status()
    return str(response.json()["idToken"])


def run_job(
    job_id: str, user: DemoUser, final_status: str, source: str, fields: dict[str, Any], *, created: datetime
) -> None:
    """Write the job as the pipeline would, stepping through its states as the trigger bills it."""
    from credits.jobs import job_ref

    ref = job_ref(job_id)
    ref.set(
        {
            "uid": user.uid,
            "status": "queued",
            "source": source,
            "createdAt": created,
            "updatedAt": created,
            **fields,
        }
    )
    settled = wait_for(lambda: _billed(ref.get().to_dict() or {}), f"billing of {job_id}")
    if final_status == "queued" or settled.get("status") == "failed":
        return
    steps = ["processing"] if final_status == "processing" else ["processing", final_status]
    for step in steps:
        changes: dict[str, Any] = {"status": step, "updatedAt": created + timedelta(minutes=1)}
        if step == "completed":
            changes |= {
                "completedAt": created + timedelta(minutes=2),
                "outputs": [f"https://example.com/outputs/{job_id}/{i}.png" for i in range(2)],
            }
        if step == "failed":
            changes |= {"failedAt": created + timedelta(minutes=2), "error": "upstream model timed out"}
        ref.update(changes)
    if final_status == "failed":
        wait_for(lambda: (ref.get().to_dict() or {}).get("refundEntryId"), f"refund of {job_id}")


def _billed(job: dict[str, Any]) -> dict[str, Any] | None:
    return job if job.get("debitEntryId") or job.get("failureReason") else None


def wait_for(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(f"timed out waiting for {what}: is the Functions emulator running?")


def print_accounts() -> None:
    from credits import ledger

    print("\nDemo accounts (password: demo-password)")
    for user in USERS:
        balances = ledger.read_balances(user.uid)
        role = "admin" if user.admin else "user"
        credits = f"image {balances.image:>4}  video {balances.video:>4}"
        print(f"  {user.email:<18} uid {user.uid:<11} {role:<5}  {credits}")


if __name__ == "__main__":
    sys.exit(main())
