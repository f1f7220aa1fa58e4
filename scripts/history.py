"""Back-dated history written through the product's own code: what the demo seed and bench_web share.

A tool that shows or measures the product with weeks of use behind it needs that past in the
database, and only the product's own code may write a ledger. This module writes one step
of such a past at a time, each inside ``ledger.entry_time(at)`` so that its entries carry
the time they would have had (docs/ledger.md, "Writing history with a given time"); the
caller runs the steps in time order, every user's oldest first, as ``entry_time`` requires:

* **jobs** (:class:`Job`, drawn by :func:`draw_job`): the document written to
  ``generation_jobs`` as the pipeline writes it (:func:`queue_job`, :func:`completed`,
  :func:`fail_job`) and billed by ``jobs.bill_job``, the path the Firestore trigger takes,
  each billing checked against what it should have done (:func:`bill`);
* **Stripe events** (:func:`checkout`, :func:`plan_paid`, :func:`dated`): built by
  ``credits.flows.stripe_events``, signed as Stripe signs them, verified by
  ``payments.verify_event`` and handled by ``payments.handle_event`` (:func:`deliver`);
* **admin grants** through ``admin.adjust`` as the admin (:func:`grant`).

The users are :class:`DemoUser` values; :func:`sign_in` gets one's ID token from the Auth
emulator, for the steps that go through the API instead.

While the steps run, the Functions emulator's background triggers are disabled through
the Emulator Hub (:func:`background_triggers_disabled`), so that the trigger does not bill
the same jobs at the present time, and the product's JSON log lines go to a file
(:func:`product_logs_to`). Used by ``scripts/seed_demo.py`` (through
``scripts/demo_stories.py``) and ``scripts/bench_web_history.py``; nothing to run on its own.
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests
import target  # noqa: F401  (puts functions/ on sys.path)

from credits.core import generation_jobs, ledger
from credits.core.accounts import Caller
from credits.core.ledger import CreditType, Direction
from credits.flows import admin, jobs, payments
from credits.flows import stripe_events as se

HUB = "http://" + os.environ.get("FIREBASE_EMULATOR_HUB", "127.0.0.1:4400")

LUNA = {"influencerId": "inf-luna", "influencerName": "Luna"}
NOVA = {"influencerId": "inf-nova", "influencerName": "Nova"}
IMAGE_SETTINGS = (
    {"model": "flux-pro", "resolution": "1024x1792", "aspectRatio": "9:16"},
    {"model": "flux-pro", "resolution": "1024x1024", "aspectRatio": "1:1"},
    {"model": "sdxl-turbo", "resolution": "1344x768", "aspectRatio": "16:9"},
)
VIDEO_SETTINGS = (
    {"model": "kling-2", "resolution": "1080p", "aspectRatio": "9:16"},
    {"model": "kling-2", "resolution": "720p", "aspectRatio": "16:9"},
)
ERRORS = (
    "upstream model timed out",
    "GPU worker lost during rendering",
    "output failed the safety check",
)


@dataclass(frozen=True)
class DemoUser:
    uid: str
    email: str
    name: str
    admin: bool = False


def auth_emulator(method: str) -> str:
    """The Auth emulator's REST URL for ``accounts:<method>`` (``signUp``, ``signInWithPassword``)."""
    host = os.environ["FIREBASE_AUTH_EMULATOR_HOST"]
    return f"http://{host}/identitytoolkit.googleapis.com/v1/accounts:{method}?key=demo"


def sign_in(email: str, password: str) -> str:
    """A user's ID token, from a password sign-in on the Auth emulator."""
    response = requests.post(
        auth_emulator("signInWithPassword"),
        json={"email": email, "password": password, "returnSecureToken": True},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["idToken"])


@dataclass(frozen=True, kw_only=True)
class Job:
    """One generation job of the history, as the pipeline would have run it."""

    id: str
    user: DemoUser
    source: str
    settings: dict[str, Any]
    created: datetime
    outcome: str
    """``completed``, ``failed``, or ``failed_then_completed`` (a late success report)."""
    ends: datetime
    error: str = ""
    deliveries_lost: bool = False
    """No trigger delivery of this job arrives: the job billing sweeper bills it afterwards."""

    def failing(self, error: str) -> Job:
        """The same job, failed with ``error`` when it ends."""
        return replace(self, outcome="failed", error=error)


def draw_settings(rng: random.Random, image_share: float) -> tuple[str, dict[str, Any], float]:
    """A generation's source, settings and rendering time in seconds, drawn from ``rng``."""
    if rng.random() < image_share:
        source = "text2image" if rng.random() < 0.7 else "image2image"
        quality = "hq" if rng.random() < 0.4 else "standard"
        settings = {"numImages": rng.choice((1, 2, 4, 4, 5)), "quality": quality, **rng.choice(IMAGE_SETTINGS)}
        return source, settings, rng.uniform(25, 110)
    source = "text2video" if rng.random() < 0.5 else "image2video"
    quality = "hq" if rng.random() < 0.2 else "standard"
    settings = {"durationSec": rng.choice((3, 4, 5, 6)), "quality": quality, **rng.choice(VIDEO_SETTINGS)}
    return source, settings, rng.uniform(60, 150)


def draw_job(
    rng: random.Random, *, id: str, user: DemoUser, created: datetime, image_share: float, influencer: dict[str, str]
) -> Job:
    """A completed job of ``user`` created at ``created``, its settings drawn from ``rng``."""
    source, settings, duration = draw_settings(rng, image_share)
    return Job(
        id=id,
        user=user,
        source=source,
        settings={**settings, **influencer},
        created=created,
        outcome="completed",
        ends=created + timedelta(seconds=duration),
    )


def outputs(job: Job) -> list[str]:
    """Sample pictures the web app ships under /demo/outputs, so the demo loads nothing from outside."""
    if "durationSec" in job.settings:
        return [f"/demo/outputs/video-{len(job.id) % 2}.svg"]
    name = "luna" if job.settings.get("influencerId") == LUNA["influencerId"] else "nova"
    return [f"/demo/outputs/{name}-{i % 4}.svg" for i in range(int(job.settings["numImages"]))]


# Jobs: the pipeline's writes, and the trigger's billing of them.


def bill(job_id: str, at: datetime, expected: jobs.Action) -> None:
    """Bill the job at ``at`` as the trigger does; anything but ``expected`` stops the history."""
    with ledger.entry_time(at):
        billing = jobs.bill_job(job_id)
    if billing.action is not expected:
        raise RuntimeError(f"job {job_id} at {at}: expected {expected}, the billing did {billing.action}")


def queue_job(job: Job, at: datetime, *, picked_up: bool = True) -> None:
    """The pipeline queues the job (the trigger reserves its price now) and, if ``picked_up``, starts it."""
    ref = generation_jobs.job_ref(job.id)
    ref.set(
        {
            "uid": job.user.uid,
            "status": "queued",
            "source": job.source,
            **job.settings,
            "createdAt": job.created,
            "updatedAt": job.created,
        }
    )
    if not job.deliveries_lost:
        bill(job.id, at, jobs.Action.CHARGED)
    if picked_up:
        ref.update({"status": "processing", "updatedAt": at + timedelta(seconds=2)})


def completed(job: Job, at: datetime) -> dict[str, Any]:
    """The fields the pipeline writes when the job completes at ``at`` (the billing has nothing to do)."""
    return {"status": "completed", "updatedAt": at, "completedAt": at, "outputs": outputs(job)}


def fail_job(job: Job, at: datetime) -> None:
    """The pipeline reports the job failed; its billing at ``at`` refunds the debit."""
    generation_jobs.job_ref(job.id).update(
        {"status": "failed", "updatedAt": job.ends, "failedAt": job.ends, "error": job.error}
    )
    bill(job.id, at, jobs.Action.REFUNDED)


# Stripe events, through the webhook's own verification and handler.


def dated(event: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The event as Stripe created it at ``at`` (its signature is made at delivery, as Stripe's is)."""
    event["created"] = int(at.timestamp())
    return event


def checkout(user: DemoUser, at: datetime, *, pack: str, ids: str, amount: int) -> dict[str, Any]:
    """``checkout.session.completed`` of a credit pack at ``at``; its Stripe ids end in ``ids``."""
    event = se.checkout_completed(
        event_id=f"evt_{ids}",
        uid=user.uid,
        pack=pack,
        payment_intent=f"pi_{ids}",
        session_id=f"cs_{ids}",
        invoice=f"in_{ids}",
        amount_total=amount,
    )
    return dated(event, at)


def plan_paid(user: DemoUser, at: datetime, *, plan: str, ids: str, subscription: str, amount: int) -> dict[str, Any]:
    """``invoice.paid`` of a plan's period starting at ``at``; the event and invoice ids end in ``ids``."""
    event = se.invoice_paid(
        event_id=f"evt_{ids}",
        uid=user.uid,
        plan=plan,
        invoice_id=f"in_{ids}",
        subscription_id=subscription,
        amount_paid=amount,
        period_start=int(at.timestamp()),
    )
    return dated(event, at)


def deliver(event: dict[str, Any], secret: str, at: datetime, *, expect: str = payments.Outcome.PROCESSED) -> None:
    """Sign the event as Stripe does, then verify and handle it at ``at`` as the webhook does."""
    payload = se.encode(event)
    verified = payments.verify_event(payload.encode(), se.signature_header(payload, secret), secret)
    with ledger.entry_time(at):
        handled = payments.handle_event(verified)
    if handled.outcome != expect:
        raise RuntimeError(f"Stripe event {event['id']}: expected {expect}, the webhook said {handled.outcome}")


# Admin grants.


def grant(
    by: DemoUser, user: DemoUser, at: datetime, amount: int, reason: str, key: str, *, expires: datetime | None = None
) -> None:
    """The admin ``by`` grants ``user`` image credits at ``at`` (lasting until ``expires``)."""
    fields = {
        "uid": user.uid,
        "type": CreditType.IMAGE,
        "direction": Direction.CREDIT,
        "amount": amount,
        "reason": reason,
        "idempotencyKey": key,
        "expiresAt": expires,
    }
    # The grant is checked as on the day it was made: its expiry was then in the future.
    body = admin.AdjustRequest.model_validate(fields, context={"now": at})
    with ledger.entry_time(at):
        admin.adjust(Caller(uid=by.uid, admin=True, email=by.email), body)


# While the history is written.


def disable_background_triggers() -> None:
    """Ask the Functions emulator (again) not to run Firestore triggers.

    It enables them again whenever it reloads them (a file under functions/ changed), so a
    long history asks again from time to time.
    """
    requests.put(f"{HUB}/functions/disableBackgroundTriggers", timeout=60).raise_for_status()


@contextlib.contextmanager
def background_triggers_disabled() -> Iterator[None]:
    """Stop the Functions emulator from running Firestore triggers, and start it again after."""
    try:
        disable_background_triggers()
    except requests.RequestException as exc:
        raise SystemExit(f"cannot reach the Emulator Hub at {HUB} ({exc}): is the Emulator Suite running?") from exc
    try:
        yield
    finally:
        try:
            requests.put(f"{HUB}/functions/enableBackgroundTriggers", timeout=120).raise_for_status()
        except requests.RequestException:
            print("could not enable the background triggers again: restart the emulators", file=sys.stderr)
            raise


@contextlib.contextmanager
def product_logs_to(log: Path, mode: str = "a") -> Iterator[None]:
    """The flows log one JSON line per entry: keep them out of the terminal, in ``log``."""
    log.parent.mkdir(exist_ok=True)
    with log.open(mode) as file, contextlib.redirect_stdout(file):
        yield
