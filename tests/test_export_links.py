"""Signed CSV download links: signing and verification as plain functions, with an injected clock."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from credits.core import generation_jobs
from credits.core.errors import InvalidArgument, Unauthenticated
from credits.reads import export_links, queries
from credits.reads.export_links import AdminLinkRequest, UserLinkRequest

pytestmark = pytest.mark.usefixtures("firestore")  # a user's link records its export in their Activity

KEY = b"unit-test-export-link-key"
NOW = datetime(2026, 11, 21, 14, 0, 0, tzinfo=UTC)


def token_of(link: export_links.ExportLink) -> str:
    assert link.url.startswith("/api/exports/")
    return link.url.removeprefix("/api/exports/")


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def payload_of(token: str) -> dict[str, object]:
    part = token.split(".")[0]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def signed(payload: bytes, key: bytes = KEY) -> str:
    """A token whose signature is right for ``payload``: what only the key's holder can make."""
    return f"{b64(payload)}.{b64(hmac.new(key, payload, hashlib.sha256).digest())}"


def alice_link(**filters: object) -> str:
    return token_of(export_links.user_link("alice", UserLinkRequest.model_validate(filters), KEY, now=NOW))


def test_a_link_carries_the_scope_filters_and_expiry():
    request = UserLinkRequest.model_validate({"type": "image", "source": "purchase", "from": "2026-11-01"})
    link = export_links.user_link("alice", request, KEY, now=NOW + timedelta(microseconds=600))

    assert link.expires_at == NOW + timedelta(seconds=60)
    assert link.to_api() == {"url": link.url, "expiresAt": "2026-11-21T14:01:00+00:00"}
    grant = export_links.verify(token_of(link), KEY, now=NOW)
    assert grant.scope == queries.Scope(field="uid", value="alice")
    assert grant.selection.fingerprint() == request.fingerprint()
    assert grant.selection.from_ == date(2026, 11, 1)
    assert (grant.label, grant.expires_at) == ("my", link.expires_at)


def test_a_date_time_bound_keeps_its_meaning():
    token = alice_link(to="2026-11-20T10:30:00+02:00")
    grant = export_links.verify(token, KEY, now=NOW)
    assert grant.selection.bounds() == (None, datetime(2026, 11, 20, 8, 30, tzinfo=UTC))


def test_expiry_with_an_injected_clock():
    token = alice_link()
    export_links.verify(token, KEY, now=NOW + timedelta(seconds=59, microseconds=999_999))
    for later in (timedelta(seconds=60), timedelta(seconds=61), timedelta(days=30)):
        with pytest.raises(Unauthenticated, match="expired") as caught:
            export_links.verify(token, KEY, now=NOW + later)
        assert caught.value.details == {"expiredAt": "2026-11-21T14:01:00+00:00"}


def test_any_change_to_a_token_is_refused():
    token = alice_link(type="video")
    payload, signature = token.split(".")
    changed = [
        ("B" if payload[0] != "B" else "C") + payload[1:] + "." + signature,
        payload + "." + signature[:-2] + ("AA" if not signature.endswith("AA") else "BB"),
        payload[:-1] + "." + signature,
        payload + "x." + signature,
        payload + "." + signature + "!",
        payload + "." + signature + ".extra",
        token.replace(".", "_", 1),
    ]
    for bad in changed:
        with pytest.raises(Unauthenticated, match="invalid"):
            export_links.verify(bad, KEY, now=NOW)


def test_malformed_tokens_are_refused():
    for bad in ("", ".", "abc", "a.b.c", "!!!.???", "é.é", "a b.c", "x" * 5000 + ".y", "a/b.c"):
        with pytest.raises(Unauthenticated, match="invalid"):
            export_links.verify(bad, KEY, now=NOW)


def test_a_signed_payload_must_still_be_a_link():
    # Only the key's holder could make these; they are refused all the same.
    good = payload_of(alice_link())
    for payload in (
        b"not json",
        b"[]",
        json.dumps({**good, "v": 2}).encode(),
        json.dumps({**good, "k": "root"}).encode(),
        json.dumps({**good, "f": {"limit": 5}}).encode(),
        json.dumps({**good, "f": {"type": "gold"}}).encode(),
        json.dumps({**good, "exp": "soon"}).encode(),
        json.dumps({**good, "exp": 10**20}).encode(),
        json.dumps({k: v for k, v in good.items() if k != "s"}).encode(),
    ):
        with pytest.raises(Unauthenticated):
            export_links.verify(signed(payload), KEY, now=NOW)


def test_another_users_scope_cannot_be_put_in_a_token():
    token = alice_link()
    _, signature = token.split(".")
    as_bob = {**payload_of(token), "s": ["uid", "bob"]}
    forged = b64(json.dumps(as_bob, separators=(",", ":"), sort_keys=True).encode()) + "." + signature
    with pytest.raises(Unauthenticated):
        export_links.verify(forged, KEY, now=NOW)
    # A token signed with another key (another deployment, an old key) is refused too.
    with pytest.raises(Unauthenticated):
        export_links.verify(signed(json.dumps(as_bob).encode(), key=b"another key"), KEY, now=NOW)
    assert export_links.verify(token, KEY, now=NOW).scope.value == "alice"


def test_link_requests_take_the_ledger_filters_without_paging():
    for body in ({"limit": 5}, {"cursor": "abc"}, {"uid": "bob"}, {"type": "gold"}, {"from": "yesterday"}):
        with pytest.raises(ValidationError):
            UserLinkRequest.model_validate(body)
    with pytest.raises(ValidationError):
        UserLinkRequest.model_validate({"q": "bob"})
    with pytest.raises(InvalidArgument, match="from must be before to"):
        alice_link(**{"from": "2026-11-02", "to": "2026-11-01"})


def test_admin_links_resolve_q_when_made():
    everything = export_links.admin_link(AdminLinkRequest(), KEY, now=NOW)
    grant = export_links.verify(token_of(everything), KEY, now=NOW)
    assert (grant.scope, grant.label) == (queries.Scope(field=None), "all")

    by_uid = export_links.admin_link(AdminLinkRequest(q="uid:carol", direction="debit"), KEY, now=NOW)
    grant = export_links.verify(token_of(by_uid), KEY, now=NOW)
    assert (grant.scope, grant.label, grant.selection.direction) == (
        queries.Scope(field="uid", value="carol"),
        "carol",
        "debit",
    )
    by_payment = export_links.admin_link(AdminLinkRequest(q="pi_123"), KEY, now=NOW)
    assert export_links.verify(token_of(by_payment), KEY, now=NOW).scope == queries.Scope(
        field="paymentId", value="pi_123"
    )
    for bad in ({"q": ""}, {"q": "x" * 257}, {"limit": 1}):
        with pytest.raises(ValidationError):
            AdminLinkRequest.model_validate(bad)


@pytest.mark.usefixtures("firestore")
def test_admin_link_to_a_job_resolves_against_firestore():
    generation_jobs.job_ref("job-42").set({"uid": "alice", "status": "completed"})
    link = export_links.admin_link(AdminLinkRequest(q="job-42"), KEY, now=NOW)
    assert export_links.verify(token_of(link), KEY, now=NOW).scope == queries.Scope(field="jobId", value="job-42")


def test_no_key_no_link(monkeypatch):
    monkeypatch.delenv("EXPORT_LINK_SECRET", raising=False)
    with pytest.raises(RuntimeError, match="EXPORT_LINK_SECRET is not configured"):
        export_links.signing_key()
    with pytest.raises(RuntimeError):
        export_links.user_link("alice", UserLinkRequest(), b"", now=NOW)
    with pytest.raises(RuntimeError):
        export_links.verify(alice_link(), b"", now=NOW)
    monkeypatch.setenv("EXPORT_LINK_SECRET", "configured")
    assert export_links.signing_key() == b"configured"
