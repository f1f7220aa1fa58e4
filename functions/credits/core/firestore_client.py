"""The one place that builds the Firestore client.

Against an emulator (``FIRESTORE_EMULATOR_HOST`` set) there are no Application
Default Credentials, so the client uses anonymous credentials, which the emulator
treats as the admin. In production it uses the runtime's default credentials.
"""

from __future__ import annotations

import functools
import os

from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore

DEMO_PROJECT = "demo-credits"


def project_id() -> str:
    return os.environ.get("GCLOUD_PROJECT") or os.environ.get("GOOGLE_CLOUD_PROJECT") or DEMO_PROJECT


@functools.cache
def db() -> firestore.Client:
    if os.environ.get("FIRESTORE_EMULATOR_HOST"):
        return firestore.Client(project=project_id(), credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
    return firestore.Client()
