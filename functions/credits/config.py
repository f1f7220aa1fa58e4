"""Deploy-time configuration: secrets declared with ``firebase_functions.params``, and the
environment the code runs in.

``firebase deploy`` asks for each secret once and stores it in Secret Manager; the
emulators read ``functions/.secret.local`` (test-only values are committed there). No
secret has a default in code: an empty value at run time is refused where it is used
(:func:`require`), never replaced by a fallback.
"""

from __future__ import annotations

from firebase_functions import params

STRIPE_WEBHOOK_SECRET = params.SecretParam("STRIPE_WEBHOOK_SECRET")
"""The signing secret of the Stripe webhook endpoint (``whsec_…``)."""

EXPORT_LINK_SECRET = params.SecretParam("EXPORT_LINK_SECRET")
"""The HMAC key that signs CSV download links (``credits.export_links``): any long random string."""


def require(secret: params.SecretParam) -> str:
    """The secret's value; a RuntimeError (a 500, logged) when it is not configured.

    A missing secret is a deployment mistake: refusing loudly beats signing or verifying
    with an empty or well-known key.
    """
    value = secret.value
    if not value:
        raise RuntimeError(f"{secret.name} is not configured")
    return value
