"""Cloud Functions entry points: thin, typed registrations. The logic lives in ``credits``."""

from __future__ import annotations

import flask
from firebase_functions import https_fn, options

import credits.api

options.set_global_options(region="us-central1", max_instances=20)


@https_fn.on_request()
def api(req: flask.Request) -> flask.Response:
    """The HTTP API, reached at ``/api/**`` through the Hosting rewrite."""
    return credits.api.handle(req)
