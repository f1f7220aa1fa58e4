"""Firestore security rules, cell by cell, against the official Firestore emulator.

The table is every collection the rules name (and one they do not) × four actors (the
owner ``alice``, another user ``bob``, an admin, and a signed-out visitor) × every client
operation (get, list, create, update, delete). Each cell is one call to the emulator's REST
API with a real client token: an unsigned JWT (``alg: none``), which the emulator accepts
as that user. An allowed read must return exactly the seeded documents it may see; a
denied call must fail with HTTP 403 ``PERMISSION_DENIED``. No client may write, admins
included: every write goes through the Cloud Functions and the Admin SDK.

The documents are seeded once through the Admin path (``credits.core.firestore_client.db()``,
which the rules do not apply to) and shared by the whole table. Reads run before writes,
and a write that wrongly succeeded is undone by seeding again, so one wrong cell does not
spill into the others.

The table is then run against weakened copies of the rules, loaded into the running
emulator, to show that it catches each weakening and names the cells it opens; and against
the rules of a host app (``tests/fixtures/host.firestore.rules``) with the ledger's merged in by
``scripts/merge_rules.py``, where the host's own rules must keep working beside the table.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import merge_rules
import pytest
import requests
from emulators import FirestoreEmulator

from credits.core.firestore_client import db

# The seed writes documents of every collection directly, balances without entries among them.
pytestmark = pytest.mark.tampers

RULES_FILE = Path(__file__).resolve().parents[1] / "firestore.rules"
HOST_RULES_FILE = Path(__file__).resolve().parent / "fixtures" / "host.firestore.rules"
HTTP_TIMEOUT_S = 10


@dataclass(frozen=True)
class Actor:
    name: str
    uid: str | None
    admin: bool = False


ALICE = Actor("alice", "alice")
BOB = Actor("bob", "bob")
ADMIN = Actor("admin", "ada", admin=True)
SIGNED_OUT = Actor("signed-out", None)
ACTORS = (ALICE, BOB, ADMIN, SIGNED_OUT)


@dataclass(frozen=True, kw_only=True)
class Target:
    """One collection of the table."""

    label: str
    """The name of the collection in the table's cell names."""
    collection_id: str
    """The last segment of the collection's path."""
    alice_doc: str
    """The seeded document of alice that get, update and delete aim at."""
    owner_field: bool = False
    """True when ownership is the ``uid`` field; list queries then filter on it."""
    owner_path: bool = False
    """True when ownership is the ``{uid}`` segment of the path (balances, activity, credit settings)."""


TARGETS = (
    Target(
        label="credits_ledger",
        collection_id="credits_ledger",
        alice_doc="credits_ledger/alice-entry",
        owner_field=True,
    ),
    Target(
        label="balances",
        collection_id="balances",
        alice_doc="users/alice/balances/current",
        owner_path=True,
    ),
    Target(
        label="activity",
        collection_id="activity",
        alice_doc="users/alice/activity/alice-item",
        owner_path=True,
    ),
    Target(
        label="credit_settings",
        collection_id="credit_settings",
        alice_doc="users/alice/credit_settings/current",
        owner_path=True,
    ),
    Target(
        label="credit_alerts",
        collection_id="credit_alerts",
        alice_doc="credit_alerts/low_balance:alice-entry",
        owner_field=True,
    ),
    Target(
        label="auto_top_ups",
        collection_id="auto_top_ups",
        alice_doc="auto_top_ups/alice-entry",
        owner_field=True,
    ),
    Target(label="stripe_customers", collection_id="stripe_customers", alice_doc="stripe_customers/alice"),
    Target(
        label="invoices",
        collection_id="invoices",
        alice_doc="invoices/in_alice",
        owner_field=True,
    ),
    Target(
        label="generation_jobs",
        collection_id="generation_jobs",
        alice_doc="generation_jobs/alice-job",
        owner_field=True,
    ),
    Target(
        label="daily_credits_summary",
        collection_id="daily_credits_summary",
        alice_doc="daily_credits_summary/2026-01-15",
    ),
    Target(label="anomalies", collection_id="anomalies", alice_doc="anomalies/alice-anomaly"),
    Target(label="config", collection_id="config", alice_doc="config/pricing"),
    Target(
        label="idempotency",
        collection_id="idempotency",
        alice_doc="idempotency/5f0c1a2b3c4d",
    ),
    Target(label="stripe_payments", collection_id="stripe_payments", alice_doc="stripe_payments/pi_alice"),
    Target(label="other (not named)", collection_id="other", alice_doc="other/doc"),
)

SEED: Mapping[str, Mapping[str, Any]] = {
    "credits_ledger/alice-entry": {
        "uid": "alice",
        "type": "image",
        "direction": "credit",
        "amount": 100,
        "balance_after": 100,
        "source": "purchase",
        "createdBy": "stripe",
        "idempotencyKey": "credit:purchase:pi_alice",
    },
    "credits_ledger/bob-entry": {
        "uid": "bob",
        "type": "image",
        "direction": "credit",
        "amount": 50,
        "balance_after": 50,
        "source": "purchase",
        "createdBy": "stripe",
        "idempotencyKey": "credit:purchase:pi_bob",
    },
    "users/alice/balances/current": {"image": 100, "video": 0, "seq": 1},
    "users/bob/balances/current": {"image": 50, "video": 0, "seq": 1},
    "users/alice/activity/alice-item": {"uid": "alice", "kind": "credits", "inAll": True, "item": {"delta": 100}},
    "users/bob/activity/bob-item": {"uid": "bob", "kind": "credits", "inAll": True, "item": {"delta": 50}},
    "users/alice/credit_settings/current": {"lowBalance": {"image": 50}, "updatedBy": "user:alice"},
    "users/bob/credit_settings/current": {"lowBalance": {"video": 5}, "updatedBy": "user:bob"},
    "credit_alerts/low_balance:alice-entry": {
        "uid": "alice",
        "kind": "low_balance",
        "type": "image",
        "balance": 12,
        "threshold": 20,
        "entryId": "alice-entry",
    },
    "credit_alerts/expiring_soon:bob:bob-entry": {
        "uid": "bob",
        "kind": "expiring_soon",
        "type": "image",
        "balance": 50,
        "credits": 50,
        "blockId": "bob-entry",
        "entryId": "bob-entry",
    },
    "auto_top_ups/alice-entry": {"uid": "alice", "status": "succeeded", "pack": "price_pack_image_100", "amount": 999},
    "auto_top_ups/bob-entry": {"uid": "bob", "status": "failed", "pack": "price_pack_image_100", "amount": 999},
    "stripe_customers/alice": {"uid": "alice", "customerId": "cus_alice", "paymentMethod": {"id": "pm_alice"}},
    "stripe_customers/bob": {"uid": "bob", "customerId": "cus_bob"},
    "invoices/in_alice": {"uid": "alice", "amount": 999, "currency": "usd", "status": "paid"},
    "invoices/in_bob": {"uid": "bob", "amount": 499, "currency": "usd", "status": "paid"},
    "generation_jobs/alice-job": {"uid": "alice", "status": "completed", "source": "text2image"},
    "generation_jobs/bob-job": {"uid": "bob", "status": "queued", "source": "text2video"},
    "daily_credits_summary/2026-01-15": {"entryCount": 2, "usersTouched": 2},
    "anomalies/alice-anomaly": {
        "kind": "insufficient_credits",
        "uid": "alice",
        "attempted": 10,
        "balance": 3,
    },
    "config/pricing": {"version": 1},
    "idempotency/5f0c1a2b3c4d": {"key": "credit:purchase:pi_alice", "entryId": "alice-entry", "uid": "alice"},
    "stripe_payments/pi_alice": {"charge": "ch_alice", "amount": 999, "refunds": {"999": {"before": 0}}},
    "other/doc": {"uid": "alice"},
}


OWNER_READS = (
    "alice | get",
    "alice | list uid==alice",
    "bob | list uid==bob",
    "admin | get",
    "admin | list uid==alice",
    "admin | list uid==bob",
    "admin | list unfiltered",
)
ALLOWED = frozenset(
    [
        f"{target} | {read}"
        for target in ("credits_ledger", "credit_alerts", "auto_top_ups", "invoices", "generation_jobs")
        for read in OWNER_READS
    ]
    + [
        f"{target} | {read}"
        for target in ("balances", "activity", "credit_settings")
        for read in (
            "alice | get",
            f"alice | list users/alice/{target}",
            f"bob | list users/bob/{target}",
            "admin | get",
            f"admin | list users/alice/{target}",
            f"admin | list users/bob/{target}",
        )
    ]
    + [
        f"{target} | admin | {read}"
        for target in ("daily_credits_summary", "anomalies", "config")
        for read in ("get", "list")
    ]
)
"""The cells the rules allow; every other cell must be denied."""

WRITES = ("create", "update", "delete")


@dataclass(frozen=True, kw_only=True)
class Cell:
    """One call of the table and what the rules must answer."""

    target: str
    actor: Actor
    operation: str
    method: str
    path: str
    """Relative to ``.../databases/(default)/documents``; may carry a query string."""
    body: Mapping[str, Any] | None = None
    sees: frozenset[str] = field(default_factory=frozenset)
    """For an allowed read: the seeded documents it must return, no more and no fewer."""

    @property
    def name(self) -> str:
        return f"{self.target} | {self.actor.name} | {self.operation}"

    @property
    def allowed(self) -> bool:
        return self.name in ALLOWED

    @property
    def writes(self) -> bool:
        return self.operation in WRITES


@dataclass(frozen=True)
class Mismatch:
    cell: str
    expected: str
    got: str

    def __str__(self) -> str:
        return f"{self.cell}: expected {self.expected}, got {self.got}"


def _b64(data: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def id_token(actor: Actor, project: str) -> str:
    """An unsigned Firebase ID token, which only the emulator accepts."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": actor.uid,
        "user_id": actor.uid,
        "iat": now,
        "exp": now + 3600,
        "auth_time": now,
        "aud": project,
        "iss": f"https://securetoken.google.com/{project}",
        "firebase": {"sign_in_provider": "password", "identities": {}},
    }
    if actor.admin:
        claims["admin"] = True
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def _parent(path: str) -> tuple[str, str]:
    """The parent document path ('' for the root) and the collection id of a document path."""
    *parent, collection_id, _ = path.split("/")
    return "/".join(parent), collection_id


def _query(target: Target, actor: Actor, label: str, parent: str, where_uid: str | None) -> Cell:
    query: dict[str, Any] = {"from": [{"collectionId": target.collection_id}]}
    if where_uid is not None:
        query["where"] = {
            "fieldFilter": {
                "field": {"fieldPath": "uid"},
                "op": "EQUAL",
                "value": {"stringValue": where_uid},
            }
        }
    sees = frozenset(
        path
        for path, data in SEED.items()
        if _parent(path) == (parent, target.collection_id) and (where_uid is None or data.get("uid") == where_uid)
    )
    return Cell(
        target=target.label,
        actor=actor,
        operation=label,
        method="POST",
        path=f"/{parent}:runQuery" if parent else ":runQuery",
        body={"structuredQuery": query},
        sees=sees,
    )


def _lists(target: Target, actor: Actor) -> list[Cell]:
    if target.owner_field:
        return [
            _query(target, actor, "list uid==alice", "", "alice"),
            _query(target, actor, "list uid==bob", "", "bob"),
            _query(target, actor, "list unfiltered", "", None),
        ]
    if target.owner_path:
        return [
            _query(target, actor, f"list users/{uid}/{target.collection_id}", f"users/{uid}", None)
            for uid in ("alice", "bob")
        ]
    parent, _ = _parent(target.alice_doc)
    return [_query(target, actor, "list", parent, None)]


def _writes(target: Target, actor: Actor) -> list[Cell]:
    own = actor.uid or "alice"
    fields = {"uid": {"stringValue": own}, "amount": {"integerValue": "1000000"}}
    parent, collection_id = _parent(target.alice_doc)
    if target.owner_path:
        parent = f"users/{own}"
    collection = f"{parent}/{collection_id}" if parent else collection_id

    def write(operation: str, method: str, path: str, body: Mapping[str, Any] | None) -> Cell:
        return Cell(target=target.label, actor=actor, operation=operation, method=method, path=path, body=body)

    return [
        write("create", "POST", f"/{collection}?documentId=created-by-{actor.name}", {"fields": fields}),
        write(
            "update",
            "PATCH",
            f"/{target.alice_doc}?updateMask.fieldPaths=amount&currentDocument.exists=true",
            {"fields": fields},
        ),
        write("delete", "DELETE", f"/{target.alice_doc}", None),
    ]


def build_table() -> list[Cell]:
    """Every cell, reads before writes."""
    cells: list[Cell] = []
    for target in TARGETS:
        for actor in ACTORS:
            cells.append(
                Cell(
                    target=target.label,
                    actor=actor,
                    operation="get",
                    method="GET",
                    path=f"/{target.alice_doc}",
                    sees=frozenset({target.alice_doc}),
                )
            )
            cells.extend(_lists(target, actor))
            cells.extend(_writes(target, actor))
    return sorted(cells, key=lambda cell: cell.writes)


TABLE = build_table()


def seed() -> None:
    batch = db().batch()
    for path, data in SEED.items():
        batch.set(db().document(path), dict(data))
    batch.commit()


def database_state() -> dict[str, tuple[datetime, dict[str, Any]]]:
    """Every document of the table's collections, with its update time, read through the Admin path."""
    state: dict[str, tuple[datetime, dict[str, Any]]] = {}
    for collection_id in sorted({target.collection_id for target in TARGETS}):
        for snapshot in db().collection_group(collection_id).stream():
            state[snapshot.reference.path] = (snapshot.update_time, snapshot.to_dict() or {})
    return state


def _returned(response: requests.Response, documents_root: str) -> frozenset[str]:
    payload = response.json()
    items = payload if isinstance(payload, list) else [{"document": payload}]
    return frozenset(item["document"]["name"].removeprefix(documents_root) for item in items if "document" in item)


def _check(cell: Cell, response: requests.Response, documents_root: str) -> Mismatch | None:
    expected = "allow" if cell.allowed else "deny (403 PERMISSION_DENIED)"
    if not cell.allowed:
        denied = response.status_code == 403 and response.json()["error"]["status"] == "PERMISSION_DENIED"
        return None if denied else Mismatch(cell.name, expected, f"HTTP {response.status_code}")
    if response.status_code != 200:
        return Mismatch(cell.name, expected, f"HTTP {response.status_code}: {response.text[:200]}")
    returned = _returned(response, documents_root)
    if returned != cell.sees:
        return Mismatch(cell.name, f"allow, returning {sorted(cell.sees)}", f"returned {sorted(returned)}")
    return None


def run_table(emulator: FirestoreEmulator, table: list[Cell] = TABLE) -> list[Mismatch]:
    """Run every cell against the seeded emulator; the cells whose answer differs from the table."""
    documents_root = f"projects/{emulator.project}/databases/(default)/documents/"
    base = f"http://{emulator.host}/v1/{documents_root.rstrip('/')}"
    tokens = {actor: id_token(actor, emulator.project) for actor in ACTORS if actor.uid}
    mismatches: list[Mismatch] = []
    with requests.Session() as session:
        for cell in table:
            token = tokens.get(cell.actor)
            response = session.request(
                cell.method,
                base + cell.path,
                json=cell.body,
                headers={"Authorization": f"Bearer {token}"} if token else {},
                timeout=HTTP_TIMEOUT_S,
            )
            mismatch = _check(cell, response, documents_root)
            if mismatch is not None:
                mismatches.append(mismatch)
                if cell.writes:
                    seed()
    return mismatches


def load_rules(emulator: FirestoreEmulator, rules: str) -> list[Any]:
    """Replace the rules of the running emulator; the compiler's warnings (an error raises)."""
    response = requests.put(
        f"http://{emulator.host}/emulator/v1/projects/{emulator.project}:securityRules",
        json={"rules": {"files": [{"name": "firestore.rules", "content": rules}]}},
        timeout=HTTP_TIMEOUT_S,
    )
    response.raise_for_status()
    issues: list[Any] = response.json().get("issues", [])
    return issues


def weaken(rules: str, match: str, old: str, new: str) -> str:
    """The rules with ``old`` replaced by ``new`` inside the block ``match <match> {...}`` only."""
    start = rules.index(f"match {match} {{")
    end = rules.index("\n    }\n", start)
    block = rules[start:end]
    assert block.count(old) == 1, f"{old!r} is not in the block of {match}"
    return rules[:start] + block.replace(old, new) + rules[end:]


@pytest.fixture
def seeded(firestore: FirestoreEmulator) -> FirestoreEmulator:
    seed()
    return firestore


@pytest.fixture
def load(seeded: FirestoreEmulator) -> Iterator[Callable[[str], list[Any]]]:
    """Load other rules into the emulator for one test; the real rules come back afterwards."""
    try:
        yield lambda rules: load_rules(seeded, rules)
    finally:
        load_rules(seeded, RULES_FILE.read_text())


def cells(predicate: Callable[[Cell], bool]) -> set[str]:
    return {cell.name for cell in TABLE if predicate(cell)}


def test_the_table_covers_every_collection_actor_and_operation() -> None:
    assert len({cell.name for cell in TABLE}) == len(TABLE) == 352
    assert cells(lambda c: c.allowed) == ALLOWED
    assert not cells(lambda c: c.allowed and (c.writes or c.actor is SIGNED_OUT))
    for target in TARGETS:
        for actor in ACTORS:
            operations = {c.operation.split()[0] for c in TABLE if c.target == target.label and c.actor == actor}
            assert operations == {"get", "list", "create", "update", "delete"}, (target.label, actor.name)


def test_the_real_rules_answer_every_cell_as_the_table_says(seeded: FirestoreEmulator) -> None:
    before = database_state()

    mismatches = run_table(seeded)

    assert not mismatches, "\n".join(map(str, mismatches))
    assert database_state() == before, "a denied write changed the database"


def _ledger_writable(rules: str) -> str:
    return weaken(rules, "/credits_ledger/{entryId}", "allow write: if false;", "allow write: if true;")


def _ledger_readable_by_any_user(rules: str) -> str:
    return weaken(
        rules,
        "/credits_ledger/{entryId}",
        "allow read: if creditsIsAdmin() || creditsOwns(resource.data.uid);",
        "allow read: if creditsSignedIn();",
    )


def _catch_all_read(rules: str) -> str:
    anchor = "    match /credits_ledger/{entryId} {"
    assert rules.count(anchor) == 1
    catch_all = "    match /{document=**} {\n      allow read: if creditsSignedIn();\n    }\n\n"
    return rules.replace(anchor, catch_all + anchor)


WEAKENINGS: dict[str, tuple[Callable[[str], str], set[str]]] = {
    "ledger-writable": (
        _ledger_writable,
        cells(lambda c: c.target == "credits_ledger" and c.writes),
    ),
    "ledger-readable-by-any-user": (
        _ledger_readable_by_any_user,
        {
            "credits_ledger | alice | list uid==bob",
            "credits_ledger | alice | list unfiltered",
            "credits_ledger | bob | get",
            "credits_ledger | bob | list uid==alice",
            "credits_ledger | bob | list unfiltered",
        },
    ),
    "catch-all-read": (
        _catch_all_read,
        cells(lambda c: not c.writes and not c.allowed and c.actor is not SIGNED_OUT),
    ),
}


@pytest.mark.parametrize("weakening", list(WEAKENINGS))
def test_the_table_catches_weakened_rules(
    weakening: str, seeded: FirestoreEmulator, load: Callable[[str], list[Any]]
) -> None:
    weaken_rules, opened = WEAKENINGS[weakening]
    load(weaken_rules(RULES_FILE.read_text()))

    mismatches = run_table(seeded)

    assert {m.cell for m in mismatches} == opened
    assert {m.got for m in mismatches} == {"HTTP 200"}


# -- a host app's rules with the ledger's merged in --------------------------------------------

HOST_SEED: Mapping[str, Mapping[str, Any]] = {
    "posts/alice-post": {"authorUid": "alice", "title": "Hello"},
    "users/alice": {"displayName": "Alice"},
}


@dataclass(frozen=True, kw_only=True)
class HostCall:
    """One call to the host app's own collections, and whether its rules allow it."""

    what: str
    actor: Actor
    method: str
    path: str
    fields: Mapping[str, str] | None = None
    allowed: bool


HOST_CALLS = (
    HostCall(
        what="alice writes a post of her own",
        actor=ALICE,
        method="POST",
        path="/posts?documentId=alice-second",
        fields={"authorUid": "alice", "title": "Again"},
        allowed=True,
    ),
    HostCall(
        what="alice edits her post",
        actor=ALICE,
        method="PATCH",
        path="/posts/alice-post?updateMask.fieldPaths=title&currentDocument.exists=true",
        fields={"title": "Hello again"},
        allowed=True,
    ),
    HostCall(
        what="alice writes a post in bob's name",
        actor=ALICE,
        method="POST",
        path="/posts?documentId=forged",
        fields={"authorUid": "bob", "title": "Not mine"},
        allowed=False,
    ),
    HostCall(
        what="bob edits alice's post",
        actor=BOB,
        method="PATCH",
        path="/posts/alice-post?updateMask.fieldPaths=title&currentDocument.exists=true",
        fields={"title": "Defaced"},
        allowed=False,
    ),
    HostCall(what="bob deletes alice's post", actor=BOB, method="DELETE", path="/posts/alice-post", allowed=False),
    HostCall(what="bob reads alice's post", actor=BOB, method="GET", path="/posts/alice-post", allowed=True),
    HostCall(
        what="a visitor reads alice's post", actor=SIGNED_OUT, method="GET", path="/posts/alice-post", allowed=False
    ),
    HostCall(what="alice reads her profile", actor=ALICE, method="GET", path="/users/alice", allowed=True),
    HostCall(
        what="alice writes her profile",
        actor=ALICE,
        method="PATCH",
        path="/users/alice",
        fields={"displayName": "Alice A."},
        allowed=True,
    ),
    HostCall(what="bob reads alice's profile", actor=BOB, method="GET", path="/users/alice", allowed=False),
    HostCall(
        what="bob writes alice's profile",
        actor=BOB,
        method="PATCH",
        path="/users/alice",
        fields={"displayName": "Mallory"},
        allowed=False,
    ),
)


def host_call(emulator: FirestoreEmulator, call: HostCall) -> int:
    """The HTTP status the emulator answers the call with."""
    base = f"http://{emulator.host}/v1/projects/{emulator.project}/databases/(default)/documents"
    headers = {"Authorization": f"Bearer {id_token(call.actor, emulator.project)}"} if call.actor.uid else {}
    body = None if call.fields is None else {"fields": {k: {"stringValue": v} for k, v in call.fields.items()}}
    response = requests.request(call.method, base + call.path, json=body, headers=headers, timeout=HTTP_TIMEOUT_S)
    return response.status_code


def test_a_host_app_with_the_ledger_merged_in_answers_the_table_and_its_own_rules(
    seeded: FirestoreEmulator, load: Callable[[str], list[Any]]
) -> None:
    merged = merge_rules.merge(HOST_RULES_FILE.read_text(), merge_rules.BLOCK_FILE.read_text())
    assert load(merged) == [], "the merged rules compile with warnings"
    before = database_state()

    mismatches = run_table(seeded)

    assert not mismatches, "\n".join(map(str, mismatches))
    assert database_state() == before, "a denied write changed the database"

    for path, data in HOST_SEED.items():
        db().document(path).set(dict(data))
    answers = {call.what: host_call(seeded, call) for call in HOST_CALLS}
    assert answers == {call.what: 200 if call.allowed else 403 for call in HOST_CALLS}
    assert db().document("posts/alice-post").get().get("title") == "Hello again"


def test_a_host_function_named_like_one_of_the_ledgers_is_refused_by_the_merge_and_the_emulator(
    seeded: FirestoreEmulator, load: Callable[[str], list[Any]]
) -> None:
    """Why the merge refuses it; and that loading the merged rules above proves they compile."""
    helper = "function creditsOwns(uid) {\n      return request.auth.uid == uid;\n    }\n"
    host = HOST_RULES_FILE.read_text().replace("function isSignedIn() {", helper + "\n    function isSignedIn() {")
    with pytest.raises(merge_rules.FunctionNameTaken, match=r"`creditsOwns` \(line 8\)"):
        merge_rules.merge(host, merge_rules.BLOCK_FILE.read_text())

    glued = RULES_FILE.read_text().replace(
        "function creditsSignedIn() {", helper + "\n    function creditsSignedIn() {"
    )
    with pytest.raises(requests.HTTPError, match="400"):
        load(glued)


def test_a_host_rule_the_merge_refuses_would_open_the_ledger(
    seeded: FirestoreEmulator, load: Callable[[str], list[Any]]
) -> None:
    """What the merge refuses is real: slipped past it, the rule opens balances, Activity and
    credit settings to writes."""
    merged = merge_rules.merge(HOST_RULES_FILE.read_text(), merge_rules.BLOCK_FILE.read_text())
    rule = "match /users/{uid}/{document=**} {\n      allow read, write: if request.auth.uid == uid;\n    }\n\n    "
    slipped = merged.replace(merge_rules.BEGIN, rule + merge_rules.BEGIN, 1)
    with pytest.raises(
        merge_rules.OpensLedger,
        match=r"(?s)users/\{uid\}/balances/\{doc\}.*users/\{uid\}/activity.*users/\{uid\}/credit_settings",
    ):
        merge_rules.merge(slipped, merge_rules.BLOCK_FILE.read_text())
    load(slipped)

    mismatches = run_table(seeded)

    # Each signed-in user may now write balances, Activity items and settings under their own uid.
    opened = cells(
        lambda c: (
            c.target in ("balances", "activity", "credit_settings")
            and c.writes
            and c.actor.uid is not None
            and (c.actor is ALICE or c.operation == "create")
        )
    )
    assert {m.cell for m in mismatches} == opened
