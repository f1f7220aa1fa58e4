"""Who is calling: Firebase ID tokens and the ``admin`` custom claim.

The Admin SDK app is :func:`credits.core.accounts.firebase_app`; against the Auth emulator the SDK
checks no signature, so the expiry is checked here as well.
"""

from __future__ import annotations

import time

from firebase_admin import auth

from credits.core.accounts import Caller, firebase_app
from credits.core.errors import InvalidArgument, NotFound, Unauthenticated


def caller_from_header(authorization: str | None, *, check_revoked: bool = False) -> Caller:
    """Verify ``Authorization: Bearer <Firebase ID token>``; raise :class:`Unauthenticated`.

    ``check_revoked`` also asks Firebase Auth whether the user's sessions were revoked (one
    more call): admin routes do, so that revoking an admin takes effect at once.
    """
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("sign in: send Authorization: Bearer <Firebase ID token>")
    try:
        claims = auth.verify_id_token(token.strip(), app=firebase_app(), check_revoked=check_revoked)
    except (
        ValueError,
        auth.InvalidIdTokenError,
        auth.ExpiredIdTokenError,
        auth.RevokedIdTokenError,
        auth.CertificateFetchError,
        auth.UserDisabledError,
    ) as exc:
        raise Unauthenticated("the ID token is invalid or expired") from exc
    # Against the Auth emulator the SDK checks neither signature nor expiry; production checks
    # both. Checking expiry here too keeps an expired token out on every backend.
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= time.time():
        raise Unauthenticated("the ID token is invalid or expired")
    return Caller(uid=claims["uid"], admin=claims.get("admin") is True, email=claims.get("email"))


def set_admin(uid_or_email: str, admin: bool) -> str:
    """Grant or revoke the ``admin`` claim, keeping the user's other claims; returns the uid."""
    if not uid_or_email:
        raise InvalidArgument("name a uid or an email")
    try:
        user = (
            auth.get_user_by_email(uid_or_email, app=firebase_app())
            if "@" in uid_or_email
            else auth.get_user(uid_or_email, app=firebase_app())
        )
    except auth.UserNotFoundError as exc:
        raise NotFound(f"no user {uid_or_email}") from exc
    claims = dict(user.custom_claims or {})
    if admin:
        claims["admin"] = True
    else:
        claims.pop("admin", None)
    auth.set_custom_user_claims(user.uid, claims or None, app=firebase_app())
    if not admin:
        # Tokens issued before still carry the claim: end those sessions now.
        auth.revoke_refresh_tokens(user.uid, app=firebase_app())
    return str(user.uid)
