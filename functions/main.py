"""Cloud Functions entry points: thin, typed registrations. The logic lives in ``credits``."""

from __future__ import annotations

from typing import Any

import flask
from firebase_functions import firestore_fn, https_fn, options
from firebase_functions.core import Change
from google.cloud.firestore import DocumentSnapshot

import credits.api
from credits import jobs
from credits.config import STRIPE_WEBHOOK_SECRET

options.set_global_options(region="us-central1", max_instances=20)


@https_fn.on_request(secrets=[STRIPE_WEBHOOK_SECRET])
def api(req: flask.Request) -> flask.Response:
    """The HTTP API, reached at ``/api/**`` through the Hosting rewrite."""
    return credits.api.handle(req)


@firestore_fn.on_document_written(document="generation_jobs/{jobId}")
def bill_generation_job(
    event: firestore_fn.Event[Change[DocumentSnapshot[Any] | None]],
) -> None:
    """Reserve, keep or refund a job's credits whenever its document changes."""
    jobs.bill_job(event.params["jobId"])
