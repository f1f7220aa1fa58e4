"""The project's users as Firebase Auth knows them (``credits.core.accounts``), against the Auth emulator."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT

# What firebase-functions' Firestore trigger wrapper does before it runs a trigger's code
# (``firestore_fn``: ``initialize_app()`` when no default app exists), then the ledger's own use.
IN_A_TRIGGER = """
import firebase_admin

firebase_admin.initialize_app()

from credits.core import accounts

print(accounts.user_exists("trigger-user"), accounts.user_exists("nobody"))
print(accounts.firebase_app() is firebase_admin.get_app())
"""


def test_users_are_found_where_a_library_made_the_default_app_first(accounts):
    """A trigger's Admin SDK app is made by firebase-functions; the ledger takes it rather than
    failing to make its own (a failure once read as "no such user", so an automatic top-up
    charged from the ledger's trigger credited nobody)."""
    accounts("trigger-user")
    result = subprocess.run(
        [sys.executable, "-c", IN_A_TRIGGER],
        cwd=ROOT / "functions",
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False", "True"], result.stderr
