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
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))
sys.path.insert(0, str(ROOT / "tests"))

from emulators import FirestoreEmulator, Suite  # noqa: E402

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


@pytest.fixture
def firestore(firestore_emulator: FirestoreEmulator) -> FirestoreEmulator:
    """A running, empty Firestore emulator that ``credits.firestore_client.db()`` talks to."""
    reset_database(firestore_emulator)
    return firestore_emulator


def reset_database(emulator: FirestoreEmulator) -> None:
    """Empty the database, and make the ledger forget the balances it committed before."""
    from credits import ledger

    emulator.reset()
    ledger.forget_remembered_balances()


@pytest.fixture(scope="session")
def suite() -> Iterator[Suite]:
    running = Suite.start(ROOT)
    try:
        yield running
    finally:
        running.stop()
