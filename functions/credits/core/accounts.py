"""The project's users, as Firebase Auth knows them: who is calling (:class:`Caller`, as
:mod:`credits.api.auth` verifies it), does a uid exist, whose email is this.

The Admin SDK app is built here and nowhere else. Against the Auth emulator
(``FIREBASE_AUTH_EMULATOR_HOST`` set) it needs no credentials; in production it uses the
runtime's default credentials.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import firebase_admin
from firebase_admin import auth

from credits.core.firestore_client import project_id


@dataclass(frozen=True, kw_only=True)
class Caller:
    """The verified identity behind a request."""

    uid: str
    """The Firebase Auth user id."""
    admin: bool
    """True when the token carries the custom claim ``admin: true``."""
    email: str | None = None
    """The email in the token, when it has one."""


@functools.cache
def firebase_app() -> firebase_admin.App:
    """The Admin SDK's default app: made here, or taken as it is when something made it first.

    firebase-functions' Firestore trigger wrapper makes the default app (``initialize_app()``)
    before it decodes an event, so in a trigger a second ``initialize_app`` raises ValueError
    ("The default Firebase app already exists"), which :func:`user_exists` read as "no such
    user": an automatic top-up charged from the ledger's trigger credited nobody.
    """
    try:
        return firebase_admin.get_app()
    except ValueError:  # none yet
        pass
    try:
        return firebase_admin.initialize_app(options={"projectId": project_id()})
    except ValueError:  # made meanwhile, by another thread
        return firebase_admin.get_app()


def user_exists(uid: str) -> bool:
    """True when ``uid`` is a user of the project (a disabled one included)."""
    app = firebase_app()  # outside the try: a failure to reach Auth is not "no such user"
    try:
        auth.get_user(uid, app=app)
    except (auth.UserNotFoundError, ValueError):  # ValueError: not a well-formed uid
        return False
    return True


def find_uid_by_email(email: str) -> str | None:
    app = firebase_app()
    try:
        return str(auth.get_user_by_email(email, app=app).uid)
    except (auth.UserNotFoundError, ValueError):  # ValueError: not a well-formed email
        return None


def emails_of(uids: list[str]) -> dict[str, str | None]:
    """The email of each uid (None when the user has none or no longer exists)."""
    found: dict[str, str | None] = dict.fromkeys(uids)
    for start in range(0, len(uids), 100):
        chunk = [auth.UidIdentifier(uid) for uid in uids[start : start + 100]]
        result = auth.get_users(chunk, app=firebase_app())
        for user in result.users:
            found[user.uid] = user.email
    return found
