"""The HTTP API: one Flask app behind the ``api`` function, reached at ``/api/...``.

Routes stay thin: parse and validate the request, call one plain function, shape the
response. Every :class:`~credits.errors.CreditsError` becomes the documented error body
``{"error": {"code", "message", "details"}}`` with its status.
"""

from __future__ import annotations

from typing import Any, TypeVar

import flask
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException

from credits import admin, logs, payments
from credits.auth import Caller, caller_from_header
from credits.config import STRIPE_WEBHOOK_SECRET
from credits.errors import CreditsError, InvalidArgument, PermissionDenied

MAX_BODY_BYTES = 64 * 1024
Body = TypeVar("Body", bound=BaseModel)

app = flask.Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES


@app.errorhandler(CreditsError)
def _credits_error(error: CreditsError) -> tuple[dict[str, Any], int]:
    return error.to_dict(), error.http_status


@app.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> tuple[dict[str, Any], int]:
    status = error.code or 500
    code = "not_found" if status == 404 else "invalid_argument"
    return {"error": {"code": code, "message": error.description or "", "details": {}}}, status


@app.errorhandler(Exception)
def _unexpected(error: Exception) -> tuple[dict[str, Any], int]:
    logs.error("unhandled error", event="unhandled_error", error=repr(error), path=flask.request.path)
    return {"error": {"code": "internal", "message": "internal error", "details": {}}}, 500


@app.get("/api/health")
def health() -> dict[str, Any]:
    return {"ok": True}


@app.post("/api/stripe/webhook")
def stripe_webhook() -> tuple[dict[str, Any], int]:
    secret = STRIPE_WEBHOOK_SECRET.value
    if not secret:
        raise RuntimeError("STRIPE_WEBHOOK_SECRET is not configured")
    event = payments.verify_event(
        flask.request.get_data(cache=False), flask.request.headers.get("Stripe-Signature"), secret
    )
    return payments.handle_event(event).to_api(), 200


@app.post("/api/admin/credits/adjust")
def admin_adjust() -> tuple[dict[str, Any], int]:
    caller = require_admin()
    write = admin.adjust(caller, parse_body(admin.AdjustRequest))
    return {"entry": write.entry.to_api(), "replayed": write.replayed}, 200 if write.replayed else 201


def require_caller() -> Caller:
    return caller_from_header(flask.request.headers.get("Authorization"))


def require_admin() -> Caller:
    caller = require_caller()
    if not caller.admin:
        raise PermissionDenied("this route needs the admin claim")
    return caller


def parse_body(model: type[Body]) -> Body:
    """The JSON body as ``model``, or InvalidArgument naming each bad field."""
    try:
        return model.model_validate_json(flask.request.get_data() or b"")
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in error["loc"]) or "body", "message": error["msg"]}
            for error in exc.errors(include_url=False, include_input=False)
        ]
        raise InvalidArgument("invalid request body", errors=errors) from None


def handle(request: flask.Request) -> flask.Response:
    """Dispatch a Cloud Functions request to the Flask app."""
    with app.request_context(request.environ):
        return app.full_dispatch_request()
