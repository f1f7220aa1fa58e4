"""Deploy-time configuration: secrets declared with ``firebase_functions.params``.

``firebase deploy`` asks for each secret once and stores it in Secret Manager; the
emulators read ``functions/.secret.local`` (a test-only value is committed there).
"""

from __future__ import annotations

from firebase_functions import params

STRIPE_WEBHOOK_SECRET = params.SecretParam("STRIPE_WEBHOOK_SECRET")
"""The signing secret of the Stripe webhook endpoint (``whsec_…``)."""
