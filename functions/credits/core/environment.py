"""Deploy-time configuration: secrets declared with ``firebase_functions.params``, and the
environment the code runs in.

``firebase deploy`` asks for each secret once and stores it in Secret Manager; the
emulators read ``functions/.secret.local`` (test-only values are committed there). No
secret has a default in code: an empty value at run time is refused where it is used
(:func:`require`), never replaced by a fallback.

Seen on firebase-tools 15: a secret declared on a function but missing from
``.secret.local`` makes the Functions emulator try Secret Manager at every worker start,
log an error, and run the function with the variable unset. ``STRIPE_SECRET_KEY`` is such a
secret (the emulators never call Stripe), so ``.secret.local`` holds a placeholder for it
that is plainly not a key, to keep the emulator from reaching out and the log clean.
"""

from __future__ import annotations

import os

from firebase_functions import params

STRIPE_WEBHOOK_SECRET = params.SecretParam("STRIPE_WEBHOOK_SECRET")
"""The signing secret of the Stripe webhook endpoint (``whsec_…``)."""

STRIPE_SECRET_KEY = params.SecretParam("STRIPE_SECRET_KEY")
"""The Stripe API secret key (``sk_live_…`` or ``sk_test_…``) that creates Checkout Sessions.

Unused on the emulators, where checkout runs in test mode (:func:`on_emulator`)."""

EXPORT_LINK_SECRET = params.SecretParam("EXPORT_LINK_SECRET")
"""The HMAC key that signs CSV download links (``credits.reads.export_links``): any long random string."""


CHECKOUT_RETURN_HOSTS_ENV = "CHECKOUT_RETURN_HOSTS"
"""An environment variable (set it in ``functions/.env``, which ``firebase deploy`` reads): the
hosts, comma-separated, that Stripe Checkout may send the browser back to besides the project's
default Hosting domains, i.e. custom domains and other Hosting sites. A plain variable rather
than a ``params.StringParam``: a declared parameter without a value makes every deploy, and a
non-interactive one fail, ask for it, and most projects need none."""


def checkout_return_hosts() -> frozenset[str]:
    """The extra hosts of :data:`CHECKOUT_RETURN_HOSTS_ENV`, lower case."""
    raw = os.environ.get(CHECKOUT_RETURN_HOSTS_ENV, "")
    return frozenset(host.strip().lower() for host in raw.split(",") if host.strip())


def on_emulator() -> bool:
    """True inside the Functions emulator, which sets ``FUNCTIONS_EMULATOR=true`` for its workers."""
    return os.environ.get("FUNCTIONS_EMULATOR") == "true"


def require(secret: params.SecretParam) -> str:
    """The secret's value; a RuntimeError (a 500, logged) when it is not configured.

    A missing secret is a deployment mistake: refusing loudly beats signing or verifying
    with an empty or well-known key.
    """
    value = secret.value
    if not value:
        raise RuntimeError(f"{secret.name} is not configured")
    return value
