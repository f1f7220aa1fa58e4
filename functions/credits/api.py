"""The HTTP API: one Flask app behind the ``api`` function, reached at ``/api/...``.

Routes stay thin: parse and validate the request, call one plain function, shape the
response. Every :class:`~credits.errors.CreditsError` becomes the documented error body
``{"error": {"code", "message", "details"}}`` with its status.
"""

from __future__ import annotations

from typing import Any

import flask
from werkzeug.exceptions import HTTPException

from credits import logs
from credits.errors import CreditsError

app = flask.Flask(__name__)


@app.errorhandler(CreditsError)
def _credits_error(error: CreditsError) -> tuple[dict[str, Any], int]:
    return error.to_dict(), error.http_status


@app.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> tuple[dict[str, Any], int]:
    code = {404: "not_found", 405: "invalid_argument"}.get(error.code or 500, "invalid_argument")
    status = error.code or 500
    return {"error": {"code": code, "message": error.description or "", "details": {}}}, status


@app.errorhandler(Exception)
def _unexpected(error: Exception) -> tuple[dict[str, Any], int]:
    logs.error("unhandled error", event="unhandled_error", error=repr(error), path=flask.request.path)
    return {"error": {"code": "internal", "message": "internal error", "details": {}}}, 500


@app.get("/api/health")
def health() -> dict[str, Any]:
    return {"ok": True}


def handle(request: flask.Request) -> flask.Response:
    """Dispatch a Cloud Functions request to the Flask app."""
    with app.request_context(request.environ):
        return app.full_dispatch_request()
