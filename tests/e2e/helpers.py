"""Talk to the running Emulator Suite over HTTP only.

The test process may point ``FIRESTORE_EMULATOR_HOST`` at another emulator, so nothing
here uses the Firestore client or the Admin SDK: Firestore is reached through its REST
API as the owner (rules do not apply), Auth through the Identity Toolkit REST API of the
Auth emulator, and the product through Hosting's ``/api/**`` rewrite.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import requests

from credits.flows import stripe_events

PROJECT = "demo-credits"
HOSTING = "http://127.0.0.1:5000"
FIRESTORE = "http://127.0.0.1:8080"
AUTH = "http://127.0.0.1:9099"
FUNCTIONS = "http://127.0.0.1:5001"
HUB = "http://127.0.0.1:4400"
DOCUMENTS = f"{FIRESTORE}/v1/projects/{PROJECT}/databases/(default)/documents"
OWNER = {"Authorization": "Bearer owner"}
ROOT = Path(__file__).resolve().parents[2]
SECRET_FILE = ROOT / "functions" / ".secret.local"
SUITE_LOG = ROOT / ".local" / "suite-emulators.log"
"""Where the ``suite`` fixture sends the output of ``firebase emulators:start``."""

POLL_TIMEOUT_S = 30.0
POLL_STEP_S = 0.25
SETTLE_S = 2.5
"""How long to keep watching after the expected state, for late duplicate writes."""
HTTP_TIMEOUT_S = 60.0
MAX_TRIGGER_GENERATIONS = 20

T = TypeVar("T")
Json = dict[str, Any]


# Firestore REST values. integerValue is a decimal string in REST JSON.


def encode_value(value: Any) -> Json:
    if value is None:
        return {"nullValue": None}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"integerValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode()}
    if isinstance(value, datetime):
        return {"timestampValue": value.astimezone(UTC).isoformat().replace("+00:00", "Z")}
    if isinstance(value, Mapping):
        return {"mapValue": {"fields": encode_fields(value)}}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [encode_value(v) for v in value]}}
    raise TypeError(f"no Firestore encoding for {type(value).__name__}")


def encode_fields(data: Mapping[str, Any]) -> Json:
    return {name: encode_value(value) for name, value in data.items()}


def decode_value(value: Mapping[str, Any]) -> Any:
    (kind, raw), *_ = value.items()
    match kind:
        case "nullValue":
            return None
        case "booleanValue":
            return bool(raw)
        case "integerValue":
            return int(raw)
        case "doubleValue":
            return float(raw)
        case "stringValue" | "referenceValue":
            return str(raw)
        case "bytesValue":
            return base64.b64decode(raw)
        case "timestampValue":
            return parse_timestamp(raw)
        case "geoPointValue":
            return (float(raw.get("latitude", 0.0)), float(raw.get("longitude", 0.0)))
        case "mapValue":
            return decode_fields(raw.get("fields", {}))
        case "arrayValue":
            return [decode_value(v) for v in raw.get("values", [])]
    raise ValueError(f"unknown Firestore value kind {kind!r}")


def decode_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {name: decode_value(value) for name, value in fields.items()}


def parse_timestamp(text: str) -> datetime:
    """RFC 3339 with up to nanoseconds, which ``fromisoformat`` cannot read past microseconds."""
    stamp, _, fraction = text.removesuffix("Z").partition(".")
    micros = f".{fraction[:6]}" if fraction else ""
    return datetime.fromisoformat(f"{stamp}{micros}+00:00")


@dataclass(frozen=True, kw_only=True)
class Document:
    """A Firestore document as read over REST."""

    id: str
    path: str
    data: dict[str, Any]

    @classmethod
    def from_rest(cls, doc: Mapping[str, Any]) -> Document:
        name: str = doc["name"]
        path = name.split("/documents/", 1)[1]
        return cls(id=path.rsplit("/", 1)[-1], path=path, data=decode_fields(doc.get("fields", {})))


# Firestore as the owner.


def get_document(path: str) -> Document | None:
    response = requests.get(f"{DOCUMENTS}/{path}", headers=OWNER, timeout=HTTP_TIMEOUT_S)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return Document.from_rest(response.json())


def create_document(collection: str, doc_id: str, data: Mapping[str, Any]) -> Document:
    response = requests.post(
        f"{DOCUMENTS}/{collection}",
        params={"documentId": doc_id},
        json={"fields": encode_fields(data)},
        headers=OWNER,
        timeout=HTTP_TIMEOUT_S,
    )
    response.raise_for_status()
    return Document.from_rest(response.json())


def update_document(path: str, changes: Mapping[str, Any]) -> Document:
    """Change only the named fields of an existing document."""
    response = requests.patch(
        f"{DOCUMENTS}/{path}",
        params=[("updateMask.fieldPaths", name) for name in changes] + [("currentDocument.exists", "true")],
        json={"fields": encode_fields(changes)},
        headers=OWNER,
        timeout=HTTP_TIMEOUT_S,
    )
    response.raise_for_status()
    return Document.from_rest(response.json())


def query(collection: str, filters: Mapping[str, Any] | None = None) -> list[Document]:
    """Every document of ``collection`` whose fields equal ``filters``."""
    structured: Json = {"from": [{"collectionId": collection}]}
    conditions = [
        {"fieldFilter": {"field": {"fieldPath": name}, "op": "EQUAL", "value": encode_value(value)}}
        for name, value in (filters or {}).items()
    ]
    if len(conditions) == 1:
        structured["where"] = conditions[0]
    elif conditions:
        structured["where"] = {"compositeFilter": {"op": "AND", "filters": conditions}}
    response = requests.post(
        f"{DOCUMENTS}:runQuery", json={"structuredQuery": structured}, headers=OWNER, timeout=HTTP_TIMEOUT_S
    )
    response.raise_for_status()
    return [Document.from_rest(row["document"]) for row in response.json() if "document" in row]


def activity_items(uid: str) -> dict[str, dict[str, Any]]:
    """Every document of the user's projection, by item id."""
    response = requests.post(
        f"{DOCUMENTS}/users/{uid}:runQuery",
        json={"structuredQuery": {"from": [{"collectionId": "activity"}]}},
        headers=OWNER,
        timeout=HTTP_TIMEOUT_S,
    )
    response.raise_for_status()
    docs = [Document.from_rest(row["document"]) for row in response.json() if "document" in row]
    return {doc.id: doc.data for doc in docs}


def ledger_entries(uid: str) -> list[Document]:
    """A user's ledger entries in the order they were written."""
    return sorted(query("credits_ledger", {"uid": uid}), key=lambda d: int(d.data["seq"]))


def job_entries(job_id: str) -> list[Document]:
    """Every ledger entry that names ``job_id``, whoever it belongs to, oldest first."""
    return sorted(query("credits_ledger", {"jobId": job_id}), key=lambda d: int(d.data["seq"]))


def balance(uid: str) -> dict[str, int] | None:
    """The user's ``image`` and ``video`` balances (top-level fields), None before their first entry."""
    doc = get_document(f"users/{uid}/balances/current")
    return None if doc is None else {name: int(doc.data[name]) for name in ("image", "video")}


def image_balance(uid: str) -> int | None:
    current = balance(uid)
    return None if current is None else current["image"]


def anomalies(kind: str) -> list[Document]:
    return query("anomalies", {"kind": kind})


def assert_chain(uid: str) -> None:
    """The ledger promise: balance_after continues the previous entry and ends at the balance."""
    totals: dict[str, int] = {}
    entries = ledger_entries(uid)
    for expected_seq, entry in enumerate(entries, start=1):
        data = entry.data
        totals[data["type"]] = totals.get(data["type"], 0) + (
            data["amount"] if data["direction"] == "credit" else -data["amount"]
        )
        assert data["seq"] == expected_seq, entries
        assert data["balance_after"] == totals[data["type"]], entries
    current = balance(uid) or {}
    assert {name: amount for name, amount in current.items() if amount or name in totals} == totals


# Bulk ledger data, written straight into Firestore as the owner (for read-side tests).

SEED_T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
"""The newest seeded entry's time; 10 entries share each second before it."""


def commit(writes: list[dict[str, Any]]) -> None:
    for start in range(0, len(writes), 500):
        response = requests.post(
            f"{DOCUMENTS}:commit",
            json={"writes": writes[start : start + 500]},
            headers=OWNER,
            timeout=HTTP_TIMEOUT_S,
        )
        response.raise_for_status()


def doc_name(path: str) -> str:
    return f"projects/{PROJECT}/databases/(default)/documents/{path}"


def seed_ledger(uid: str, count: int) -> list[dict[str, Any]]:
    """``count`` entries of ``uid`` cycling purchase, text2image debit and video adjustment, with a balance."""
    kinds = itertools.cycle(
        [("credit", "image", "purchase"), ("debit", "image", "text2image"), ("credit", "video", "admin_adjustment")]
    )
    entries = []
    for n in range(count):
        direction, credit_type, source = next(kinds)
        entries.append(
            {
                "id": f"{uid}-e{n:05d}",
                "uid": uid,
                "type": credit_type,
                "direction": direction,
                "amount": 1,
                "balance_after": n,
                "seq": n + 1,
                "source": source,
                "reason": '=HYPERLINK("x")' if n == 7 else f"entry {n}",
                "jobId": f"job-{n}" if source == "text2image" else None,
                "paymentId": f"pi_{uid}_{n}" if source == "purchase" else None,
                "invoiceId": None,
                "meta": {},
                # Many equal timestamps: 10 entries share each second.
                "createdAt": SEED_T0 - timedelta(seconds=n // 10),
                "createdBy": "system",
                "idempotencyKey": f"seed:{uid}:{n}",
            }
        )
    commit(
        [
            {
                "update": {
                    "name": doc_name(f"credits_ledger/{e['id']}"),
                    "fields": encode_fields({k: v for k, v in e.items() if k != "id"}),
                }
            }
            for e in entries
        ]
        + [
            {
                "update": {
                    "name": doc_name(f"users/{uid}/balances/current"),
                    "fields": encode_fields({"image": 5, "video": 3, "seq": count, "updatedAt": SEED_T0}),
                }
            }
        ]
    )
    return entries


def expected_ids(entries: list[dict[str, Any]], **match: str) -> list[str]:
    """The ids of the entries that match, newest first, as the API orders them."""
    chosen = [e for e in entries if all(e[k] == v for k, v in match.items())]
    return [e["id"] for e in sorted(chosen, key=lambda e: (e["createdAt"], e["id"]), reverse=True)]


# Waiting for asynchronous triggers.


def wait_for(
    probe: Callable[[], T],
    done: Callable[[T], bool],
    *,
    what: str,
    timeout: float = POLL_TIMEOUT_S,
) -> T:
    """Call ``probe`` until ``done`` accepts its result; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last seen: {value!r}")
        time.sleep(POLL_STEP_S)


def stays(probe: Callable[[], object], expected: object, *, what: str, duration: float = SETTLE_S) -> None:
    """Assert that ``probe`` keeps returning ``expected`` for ``duration`` seconds."""
    deadline = time.monotonic() + duration
    while True:
        value = probe()
        assert value == expected, f"{what} changed: expected {expected!r}, got {value!r}"
        if time.monotonic() >= deadline:
            return
        time.sleep(POLL_STEP_S)


def finished_runs(function: str) -> int:
    """How many executions of ``function`` the Functions emulator has finished so far."""
    marker = f'Finished "us-central1-{function}"'
    return SUITE_LOG.read_text(errors="replace").count(marker)


@contextlib.contextmanager
def background_triggers_off() -> Iterator[None]:
    """Lose trigger deliveries on purpose: writes made inside fire no Firestore trigger, ever."""
    requests.put(f"{HUB}/functions/disableBackgroundTriggers", timeout=HTTP_TIMEOUT_S).raise_for_status()
    try:
        yield
    finally:
        requests.put(f"{HUB}/functions/enableBackgroundTriggers", timeout=HTTP_TIMEOUT_S).raise_for_status()


def fire_schedule(function: str) -> None:
    """Run a scheduled function now, as Cloud Scheduler calls a 2nd-gen scheduled function.

    The emulator also subscribes it to the Pub/Sub topic ``firebase-schedule-<name>``, but its
    Pub/Sub bridge refuses to deliver to Python's HTTP-signature functions ("Unsupported
    trigger signature: http"), so this posts to the function's emulator URL with Scheduler's
    headers. It returns once the run has finished.
    """
    schedule_loaded(function)
    before = finished_runs(function)
    # The emulator names a scheduled function's endpoint <name>-<generation>. Re-enabling
    # background triggers through the Emulator Hub (the demo seed does, earlier in the
    # session) loads them again under the next generation and leaves the older ones
    # disabled, answering 204 without running: fire the first generation that runs.
    for generation in range(MAX_TRIGGER_GENERATIONS):
        response = requests.post(
            f"{FUNCTIONS}/{PROJECT}/us-central1/{function}-{generation}",
            headers={
                "X-CloudScheduler-ScheduleTime": datetime.now(UTC).isoformat(),
                "X-CloudScheduler-JobName": f"firebase-schedule-{function}",
            },
            timeout=HTTP_TIMEOUT_S,
        )
        response.raise_for_status()
        if response.status_code != 204:
            break
    else:
        raise AssertionError(f"no enabled generation of {function} among the first {MAX_TRIGGER_GENERATIONS}")
    wait_for_trigger_runs(before, function=function)


def schedule_loaded(function: str) -> None:
    marker = f"functions[us-central1-{function}]: pubsub function initialized"
    wait_for(lambda: SUITE_LOG.read_text(errors="replace"), lambda log: marker in log, what=f"{function} to load")


def wait_for_trigger_runs(since: int, *, count: int = 1, function: str = "bill_generation_job") -> None:
    """Wait until ``count`` more runs of a trigger have finished than ``since`` counted."""
    wait_for(
        lambda: finished_runs(function),
        lambda runs: runs >= since + count,
        what=f"{count} more finished run(s) of {function}",
    )


# Auth emulator.


@dataclass(frozen=True, kw_only=True)
class User:
    uid: str
    email: str
    password: str
    id_token: str

    @property
    def auth_header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.id_token}"}


def _identity_toolkit(method: str, body: Mapping[str, Any]) -> Json:
    response = requests.post(
        f"{AUTH}/identitytoolkit.googleapis.com/v1/accounts:{method}",
        params={"key": "fake"},
        json=dict(body),
        timeout=HTTP_TIMEOUT_S,
    )
    response.raise_for_status()
    result: Json = response.json()
    return result


def sign_up(email: str, password: str = "correct-horse-42") -> User:
    body = {"email": email, "password": password, "returnSecureToken": True}
    result = _identity_toolkit("signUp", body)
    return User(uid=result["localId"], email=email, password=password, id_token=result["idToken"])


def sign_in(user: User) -> User:
    body = {"email": user.email, "password": user.password, "returnSecureToken": True}
    result = _identity_toolkit("signInWithPassword", body)
    return User(uid=user.uid, email=user.email, password=user.password, id_token=result["idToken"])


def make_admin(user: User) -> User:
    """Give ``user`` the ``admin: true`` claim and return it with a token that carries it."""
    response = requests.post(
        f"{AUTH}/identitytoolkit.googleapis.com/v1/projects/{PROJECT}/accounts:update",
        json={"localId": user.uid, "customAttributes": json.dumps({"admin": True})},
        headers=OWNER,
        timeout=HTTP_TIMEOUT_S,
    )
    response.raise_for_status()
    return sign_in(user)


def new_account(prefix: str) -> str:
    """The uid of a new user of the project without a password (a buyer, say), made as the Admin SDK would."""
    uid = unique(prefix)
    response = requests.post(
        f"{AUTH}/identitytoolkit.googleapis.com/v1/projects/{PROJECT}/accounts",
        json={"localId": uid},
        headers=OWNER,
        timeout=HTTP_TIMEOUT_S,
    )
    response.raise_for_status()
    return uid


def token_claims(token: str) -> Json:
    payload = token.split(".")[1]
    claims: Json = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


# The product's HTTP API through Hosting.


def adjust(body: Mapping[str, Any] | bytes, headers: Mapping[str, str] | None = None) -> requests.Response:
    """``POST /api/admin/credits/adjust`` with ``body`` as JSON, or as raw bytes."""
    data = body if isinstance(body, bytes) else json.dumps(dict(body)).encode()
    return requests.post(
        f"{HOSTING}/api/admin/credits/adjust",
        data=data,
        headers={"Content-Type": "application/json", **(headers or {})},
        timeout=HTTP_TIMEOUT_S,
    )


def error_of(response: requests.Response) -> Json:
    body = response.json()
    assert set(body) == {"error"}, body
    error: Json = body["error"]
    assert set(error) >= {"code", "message", "details"}, error
    return error


# Stripe webhooks through Hosting.


def local_secret(wanted: str) -> str:
    """The test-only value the Functions emulator gives the secret ``wanted`` (``functions/.secret.local``)."""
    for line in SECRET_FILE.read_text().splitlines():
        name, _, value = line.partition("=")
        if name.strip() == wanted:
            return value.strip().strip("\"'")
    raise RuntimeError(f"no {wanted} in {SECRET_FILE}")


def webhook_secret() -> str:
    return local_secret("STRIPE_WEBHOOK_SECRET")


def post_webhook(payload: str | bytes, signature: str | None) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    body = payload.encode() if isinstance(payload, str) else payload
    return requests.post(f"{HOSTING}/api/stripe/webhook", data=body, headers=headers, timeout=HTTP_TIMEOUT_S)


def deliver(event: Mapping[str, Any], *, secret: str | None = None) -> requests.Response:
    """Send ``event`` as Stripe would: the exact bytes it signed, signed now."""
    payload = stripe_events.encode(dict(event))
    return post_webhook(payload, stripe_events.signature_header(payload, secret or webhook_secret()))


def buy_image_credits(uid: str, *, tag: str, pack: str = "price_pack_image_100") -> requests.Response:
    """A paid Checkout Session of an image credit pack for ``uid``, delivered once."""
    event = stripe_events.checkout_completed(
        event_id=f"evt_{tag}",
        uid=uid,
        pack=pack,
        payment_intent=f"pi_{tag}",
        session_id=f"cs_{tag}",
    )
    response = deliver(event)
    assert response.status_code == 200, response.text
    return response


def unique(prefix: str) -> str:
    """A name no earlier test used: function workers outlive ``suite.reset()`` with their caches."""
    return f"{prefix}_{uuid.uuid4().hex[:16]}"
