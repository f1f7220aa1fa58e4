"""Test wiring: the official emulators, started by the test session and stopped by it.

* ``firestore`` starts the Firestore emulator jar directly on a free port with the
  project's ``firestore.rules`` loaded, and empties the database before each test.
* ``suite`` starts the whole Emulator Suite (``firebase emulators:start``) with the
  functions, for end-to-end tests through Hosting, Auth and triggers.

Both need ``scripts/setup.sh`` to have run (``scripts/run_tests.sh`` does it).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))  # the offline tools the tests check (check_indexes)

from emulators import AuthEmulator, FirestoreEmulator, Suite  # noqa: E402

TEST_PROJECT = "demo-credits-test"


@pytest.fixture(scope="session")
def firestore_emulator() -> Iterator[FirestoreEmulator]:
    emulator = FirestoreEmulator.start(ROOT, project=TEST_PROJECT)
    os.environ["FIRESTORE_EMULATOR_HOST"] = emulator.host
    os.environ["GCLOUD_PROJECT"] = TEST_PROJECT
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def auth_emulator() -> Iterator[AuthEmulator]:
    emulator = AuthEmulator.start(ROOT, project=TEST_PROJECT)
    os.environ["FIREBASE_AUTH_EMULATOR_HOST"] = emulator.host
    try:
        yield emulator
    finally:
        emulator.stop()
        del os.environ["FIREBASE_AUTH_EMULATOR_HOST"]


@pytest.fixture
def accounts(auth_emulator: AuthEmulator, firestore: FirestoreEmulator) -> Callable[..., None]:
    """``accounts("alice", "bob")``: make users of those uids (emails ``<uid>@example.com``) in an
    emptied Auth emulator, which the Admin SDK in this process talks to."""
    from firebase_admin import auth

    from credits.core.accounts import firebase_app

    auth_emulator.reset()

    def make(*uids: str) -> None:
        for uid in uids:
            auth.create_user(uid=uid, email=f"{uid}@example.com", app=firebase_app())

    return make


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "tampers: the test breaks the ledger on purpose; skip the closing verify")


@pytest.fixture
def firestore(firestore_emulator: FirestoreEmulator, request: pytest.FixtureRequest) -> Iterator[FirestoreEmulator]:
    """A running, empty Firestore emulator that ``credits.core.firestore_client.db()`` talks to.

    After the test, the verifier checks every user's ledger: whatever a test did through the
    product's code, the sum rule and the chain must still hold.
    """
    reset_database(firestore_emulator)
    yield firestore_emulator
    if request.node.get_closest_marker("tampers") is None:
        from credits.core import ledger
        from credits.operations import verify

        report = verify.verify_users(sorted(ledger.uids_with_balances()))
        assert report.ok, [m.to_dict() for m in report.mismatches]


def reset_database(emulator: FirestoreEmulator) -> None:
    """Empty the database, and make the ledger forget the balances it committed before."""
    from credits.core import ledger

    emulator.reset()
    ledger.forget_remembered_balances()


@pytest.fixture(scope="session")
def suite() -> Iterator[Suite]:
    running = Suite.start(ROOT)
    try:
        yield running
    finally:
        running.stop()
