"""The HTTP API: one Flask app behind the ``api`` function, reached at ``/api/...``.

Routes stay thin: parse and validate the request, call one plain function, shape the
response. Every :class:`~credits.core.errors.CreditsError` becomes the documented error body
``{"error": {"code", "message", "details"}}`` with its status.
"""

from __future__ import annotations

import functools
import pathlib
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import flask
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.exceptions import HTTPException

from credits.api.auth import caller_from_header
from credits.core import environment, generation_jobs, ledger, logs
from credits.core.accounts import Caller
from credits.core.errors import CreditsError, InvalidArgument, MethodNotAllowed, NotFound, PermissionDenied
from credits.flows import admin, alerts, auto_top_up, checkout, credit_settings, payments, quotes
from credits.operations import summaries
from credits.reads import activity, activity_log, export, export_links, queries, reports, usage

MAX_BODY_BYTES = 64 * 1024
Body = TypeVar("Body", bound=BaseModel)

app = flask.Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES


@app.errorhandler(CreditsError)
def _credits_error(error: CreditsError) -> tuple[dict[str, Any], int]:
    return error.to_dict(), error.http_status


@app.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> tuple[dict[str, Any], int]:
    # Unknown routes are not_found and a wrong method keeps its 405; every other request the
    # framework refuses (a body over 64 KiB, a malformed request) is the documented 400.
    refused = {404: NotFound, 405: MethodNotAllowed}.get(error.code or 400, InvalidArgument)
    return _credits_error(refused(error.description or ""))


@app.errorhandler(Exception)
def _unexpected(error: Exception) -> tuple[dict[str, Any], int]:
    logs.error("unhandled error", event="unhandled_error", error=repr(error), path=flask.request.path)
    return _credits_error(CreditsError("internal error"))


@app.get("/api/health")
def health() -> dict[str, Any]:
    return {"ok": True}


@app.get("/api/openapi.json")
def openapi() -> dict[str, Any]:
    return openapi_document()


@functools.cache
def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((pathlib.Path(__file__).parent / "openapi.yaml").read_text())
    return document


@app.get("/api/jobs/schema")
def job_schema() -> dict[str, Any]:
    """The job contract: the JSON Schema of a ``generation_jobs`` document, public like this API's own."""
    return generation_jobs_schema()


@functools.cache
def generation_jobs_schema() -> dict[str, Any]:
    return generation_jobs.job_schema()


@app.get("/api/credits/ledger")
def my_ledger() -> dict[str, Any]:
    caller = require_caller()
    filters = parse_query(queries.LedgerFilters)
    page = queries.ledger_page(queries.Scope(field="uid", value=caller.uid), filters)
    return {
        "entries": [entry.to_api() for entry in page.entries],
        "nextCursor": page.next_cursor,
        "balances": ledger.read_balances(caller.uid).to_api(),
    }


@app.get("/api/credits/quote")
def my_quote() -> dict[str, Any]:
    caller = require_caller()
    return quotes.quote(caller.uid, parse_query(quotes.QuoteRequest)).to_api()


@app.get("/api/credits/usage")
def my_usage() -> dict[str, Any]:
    caller = require_caller()
    return usage.usage(caller.uid, parse_query(usage.UsageQuery)).to_api()


@app.get("/api/credits/settings")
def my_settings() -> dict[str, Any]:
    caller = require_caller()
    parse_query(NoParameters)
    return auto_top_up.settings_answer(caller.uid)


@app.patch("/api/credits/settings")
def change_my_settings() -> dict[str, Any]:
    caller = require_caller()
    parse_query(NoParameters)
    return auto_top_up.settings_answer(
        caller.uid, credit_settings.update(caller.uid, parse_body(credit_settings.SettingsPatch))
    )


@app.get("/api/credits/alerts")
def my_alerts() -> dict[str, Any]:
    caller = require_caller()
    parse_query(NoParameters)
    return alerts.active_alerts(caller.uid).to_api()


@app.get("/api/credits/export.csv")
def my_export() -> flask.Response:
    caller = require_caller()
    filters = parse_query(queries.LedgerFilters)
    filters.bounds()  # refuse bad dates before the export is recorded
    export_id = activity_log.record_export(caller.uid, filters.selection())
    return csv_response(queries.Scope(field="uid", value=caller.uid), filters, "my", export_id)


@app.post("/api/credits/export-link")
def my_export_link() -> dict[str, Any]:
    caller = require_caller()
    request = parse_body(export_links.UserLinkRequest)
    return export_links.user_link(caller.uid, request, export_links.signing_key()).to_api()


@app.get("/api/exports/<path:token>")
def download_export(token: str) -> flask.Response:
    # No Authorization header: the signed token is the permission (credits.reads.export_links).
    grant = export_links.verify(token, export_links.signing_key())
    parse_query(NoParameters)  # the filters are in the token; a query string could only mislead
    return csv_response(grant.scope, grant.selection, grant.label, grant.export_id)


@app.get("/api/credits/packs")
def credit_packs() -> dict[str, Any]:
    require_caller()
    parse_query(NoParameters)
    return {"packs": checkout.packs(), "testMode": environment.on_emulator()}


@app.post("/api/credits/checkout")
def start_checkout() -> dict[str, Any]:
    caller = require_caller()
    request = parse_body(checkout.CheckoutRequest)
    if environment.on_emulator():
        return {"url": checkout.new_test_checkout_url(request.pack), "testMode": True}
    url = checkout.start_stripe_checkout(
        caller.uid,
        request.pack,
        forwarded_host=flask.request.headers.get("X-Forwarded-Host"),
        host=flask.request.headers.get("Host"),
        api_key=environment.require(environment.STRIPE_SECRET_KEY),
        extra_hosts=environment.checkout_return_hosts(),
    )
    return {"url": url, "testMode": False}


@app.post("/api/credits/test-checkout")
def complete_test_checkout() -> dict[str, Any]:
    caller = require_caller()
    checkout.require_test_mode()
    request = parse_body(checkout.CompleteTestCheckout)
    secret = environment.require(environment.STRIPE_WEBHOOK_SECRET)
    return checkout.complete_test_checkout(caller.uid, request, webhook_secret=secret).to_api()


@app.get("/api/activity")
def my_activity() -> dict[str, Any]:
    caller = require_caller()
    return activity.feed(caller.uid, parse_query(activity.ActivityFilters)).to_api()


@app.get("/api/activity/influencers")
def my_influencers() -> dict[str, Any]:
    # A fixed path: werkzeug matches it before the /api/activity/<item_id> rule, whatever the order.
    caller = require_caller()
    parse_query(NoParameters)
    return {"influencers": activity.influencers(caller.uid)}


@app.get("/api/activity/<item_id>")
def my_activity_item(item_id: str) -> dict[str, Any]:
    caller = require_caller()
    return activity.item_detail(caller.uid, item_id)


@app.get("/api/admin/credits/ledger")
def admin_ledger() -> dict[str, Any]:
    require_admin()
    filters = parse_query(queries.AdminLedgerFilters)
    scope = queries.resolve_admin_query(filters.q)
    page = queries.ledger_page(scope, filters)
    return {
        "entries": [entry.to_api() for entry in page.entries],
        "nextCursor": page.next_cursor,
        "query": {"field": scope.field, "value": scope.value},
    }


@app.get("/api/admin/credits/export.csv")
def admin_export() -> flask.Response:
    require_admin()
    filters = parse_query(queries.AdminLedgerFilters)
    scope = queries.resolve_admin_query(filters.q)
    return csv_response(scope, filters, scope.value or "all")


@app.post("/api/admin/credits/export-link")
def admin_export_link() -> dict[str, Any]:
    require_admin()
    request = parse_body(export_links.AdminLinkRequest)
    return export_links.admin_link(request, export_links.signing_key()).to_api()


@app.get("/api/admin/credits/users")
def admin_users() -> dict[str, Any]:
    require_admin()
    return reports.low_balance_users(parse_query(reports.LowBalanceFilters)).to_api()


@app.get("/api/admin/credits/summaries")
def admin_summaries() -> dict[str, Any]:
    require_admin()
    window = parse_query(SummaryWindow)
    end = window.to or (datetime.now(UTC).date() - timedelta(days=1))
    start = window.from_ or end - timedelta(days=29)
    return {"summaries": summaries.summaries_between(start, end), "from": start.isoformat(), "to": end.isoformat()}


@app.get("/api/admin/credits/anomalies")
def admin_anomalies() -> dict[str, Any]:
    require_admin()
    return reports.anomalies_page(parse_query(reports.AnomalyFilters)).to_api()


class SummaryWindow(BaseModel):
    """The query string of ``GET /api/admin/credits/summaries``: days, both included (default: the last 30)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: date | None = Field(default=None, alias="from")
    to: date | None = None


class NoParameters(BaseModel):
    """The query string of a route that takes none: anything in it is refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def csv_response(
    scope: queries.Scope, filters: queries.LedgerSelection, label: str, export_id: str | None = None
) -> flask.Response:
    """The CSV stream; with ``export_id``, the scope user's export item gets the rows once all were sent."""
    filters.bounds()  # refuse bad dates now, not halfway through the stream
    entries = queries.iter_entries(scope, filters)
    if export_id is not None and scope.value is not None:
        uid = scope.value
        entries = export.counted(entries, lambda rows: activity_log.record_export_rows(uid, export_id, rows))
    lines = export.csv_lines(entries)
    return flask.Response(
        lines,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename(label)}"',
            "Cache-Control": "no-store",
        },
    )


@app.post("/api/stripe/webhook")
def stripe_webhook() -> tuple[dict[str, Any], int]:
    secret = environment.require(environment.STRIPE_WEBHOOK_SECRET)
    handled = payments.receive(
        flask.request.get_data(cache=False), flask.request.headers.get("Stripe-Signature"), secret
    )
    return handled.to_api(), 200


@app.post("/api/admin/credits/adjust")
def admin_adjust() -> tuple[dict[str, Any], int]:
    caller = require_admin()
    write = admin.adjust(caller, parse_body(admin.AdjustRequest))
    return {"entry": write.entry.to_api(), "replayed": write.replayed}, 200 if write.replayed else 201


def require_caller() -> Caller:
    return caller_from_header(flask.request.headers.get("Authorization"))


def require_admin() -> Caller:
    caller = caller_from_header(flask.request.headers.get("Authorization"), check_revoked=True)
    if not caller.admin:
        raise PermissionDenied("this route needs the admin claim")
    return caller


def parse_body(model: type[Body]) -> Body:
    """The JSON body as ``model``, or InvalidArgument naming each bad field."""
    try:
        return model.model_validate_json(flask.request.get_data() or b"")
    except ValidationError as exc:
        raise _invalid("invalid request body", exc) from None


def parse_query(model: type[Body]) -> Body:
    """The query string as ``model``: unknown, repeated or malformed parameters are refused."""
    args = flask.request.args
    repeated = [name for name in args if len(args.getlist(name)) > 1]
    if repeated:
        raise InvalidArgument(f"repeated query parameter {repeated[0]}", field=repeated[0])
    try:
        return model.model_validate(args.to_dict())
    except ValidationError as exc:
        raise _invalid("invalid query parameters", exc) from None


def _invalid(message: str, exc: ValidationError) -> InvalidArgument:
    errors = [
        {"field": ".".join(str(p) for p in error["loc"]) or "body", "message": error["msg"]}
        for error in exc.errors(include_url=False, include_input=False)
    ]
    return InvalidArgument(message, errors=errors)


def handle(request: flask.Request) -> flask.Response:
    """Dispatch a Cloud Functions request to the Flask app."""
    with app.request_context(request.environ):
        return app.full_dispatch_request()
