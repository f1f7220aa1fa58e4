"""Cloud Functions entry points: thin, typed registrations. The logic lives in ``credits``.

They deploy as the functions codebase ``credits`` (``firebase deploy --only functions:credits``)
beside a host app's own codebases. Function names are unique in a project across codebases,
so each names what it does for credits (``credits_api``, not ``api``).
"""

from __future__ import annotations

from typing import Any

import flask
from firebase_functions import firestore_fn, https_fn, options, scheduler_fn
from firebase_functions.core import Change
from firebase_functions.options import Timezone
from google.cloud.firestore import DocumentSnapshot

from credits.api import routes
from credits.core.environment import EXPORT_LINK_SECRET, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET
from credits.core.generation_jobs import JOBS
from credits.core.ledger import LEDGER
from credits.flows import alerts, auto_top_up, expiry, job_sweep, jobs
from credits.operations import activity_repair, days, reconcile, summaries
from credits.reads import activity_log

options.set_global_options(region="us-central1", max_instances=20)
UTC = Timezone("Etc/UTC")


@https_fn.on_request(secrets=[STRIPE_WEBHOOK_SECRET, STRIPE_SECRET_KEY, EXPORT_LINK_SECRET])
def credits_api(req: flask.Request) -> flask.Response:
    """The HTTP API, reached at ``/api/**`` through the Hosting rewrite."""
    return routes.handle(req)


@firestore_fn.on_document_written(document=f"{JOBS}/{{jobId}}")
def bill_generation_job(
    event: firestore_fn.Event[Change[DocumentSnapshot[Any] | None]],
) -> None:
    """Reserve, keep or refund a job's credits whenever its document changes; then its Activity item.

    The billing write fires this trigger again, so the item catches up with the billing.
    """
    jobs.bill_job(event.params["jobId"])
    activity_log.project_job(event.params["jobId"])


@firestore_fn.on_document_created(document=f"{LEDGER}/{{entryId}}")
def project_ledger_entry(event: firestore_fn.Event[DocumentSnapshot[Any] | None]) -> None:
    """Write a new ledger entry's Activity item (users/{uid}/activity/entry:<entryId>)."""
    activity_log.project_entry(event.params["entryId"])


@firestore_fn.on_document_created(document=f"{LEDGER}/{{entryId}}", secrets=[STRIPE_WEBHOOK_SECRET, STRIPE_SECRET_KEY])
def raise_credit_alerts(event: firestore_fn.Event[DocumentSnapshot[Any] | None]) -> None:
    """Raise the low-balance alert of a debit that took its balance below the user's threshold, and
    start the automatic top-up of one that crossed theirs (each once)."""
    auto_top_up.on_ledger_entry(event.params["entryId"])


@scheduler_fn.on_schedule(schedule="10 0 * * *", timezone=UTC, timeout_sec=540)
def daily_credits_summary(event: scheduler_fn.ScheduledEvent) -> None:
    """Build daily_credits_summary/{day} for the UTC day before the scheduled time."""
    summaries.build_daily_summary(days.previous_day(event.schedule_time))


@scheduler_fn.on_schedule(schedule="30 0 * * *", timezone=UTC, timeout_sec=540)
def reconcile_ledger(event: scheduler_fn.ScheduledEvent) -> None:
    """Verify every user whose ledger changed the day before; record mismatches as anomalies."""
    reconcile.reconcile_day(days.previous_day(event.schedule_time))


@scheduler_fn.on_schedule(schedule="*/5 * * * *", timezone=UTC, timeout_sec=300)
def sweep_job_billing(event: scheduler_fn.ScheduledEvent) -> None:
    """Bill the jobs whose trigger delivery was lost (their billing does not match their status)."""
    job_sweep.sweep_job_billing()


@scheduler_fn.on_schedule(schedule="*/15 * * * *", timezone=UTC, timeout_sec=540)
def expire_credits(event: scheduler_fn.ScheduledEvent) -> None:
    """Write the expiration entry of every credit block that expired with credits left."""
    expiry.expire_credits(event.schedule_time)


@scheduler_fn.on_schedule(schedule="*/15 * * * *", timezone=UTC, timeout_sec=540)
def repair_activity(event: scheduler_fn.ScheduledEvent) -> None:
    """Write the Activity items whose trigger delivery was lost (missing, or an older job status)."""
    activity_repair.repair_activity()


@scheduler_fn.on_schedule(
    schedule="20 * * * *", timezone=UTC, timeout_sec=540, secrets=[STRIPE_WEBHOOK_SECRET, STRIPE_SECRET_KEY]
)
def sweep_credit_alerts(event: scheduler_fn.ScheduledEvent) -> None:
    """Raise expiring-soon alerts and the low-balance alerts whose trigger delivery was lost; make up
    the automatic top-ups whose delivery was lost, and charge again what Stripe never answered."""
    alerts.sweep_credit_alerts(event.schedule_time)
    auto_top_up.sweep_auto_top_ups(event.schedule_time)
