"""The README's first command seeds demo data through the product's paths; here on the test suite."""

from __future__ import annotations

import os
import subprocess
import sys

from e2e import helpers


def test_seed_makes_balances_the_ledger_agrees_with():
    env = {**os.environ, "FIRESTORE_EMULATOR_HOST": "127.0.0.1:8080", "GCLOUD_PROJECT": helpers.PROJECT}
    script = helpers.ROOT / "scripts" / "seed_demo.py"
    run = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "alice@demo.test" in run.stdout

    alice = helpers.balance("demo-alice")
    assert alice is not None and alice["image"] > 0 and alice["video"] > 0
    for uid in ("demo-alice", "demo-bob", "demo-carol"):
        helpers.assert_chain(uid)
    carol_job = helpers.get_document("generation_jobs/demo-c2")
    assert carol_job is not None and carol_job.data["failureReason"] == "insufficient_credits"

    again = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "already present" in again.stdout
    assert helpers.balance("demo-alice") == alice
