"""The Activity repair and the projection's check, against the Firestore emulator (no triggers here).

A job or an entry written through the product's code and never passed to
``activity_log.project_job``/``project_entry`` is one whose trigger delivery was lost: the
repair must find it by its ``updatedAt`` or ``createdAt`` and write its item, logging each
one; the verifier (``activity=True``) and the nightly reconciliation must name every item
missing, stale or orphaned, and nothing on a projection in line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import ROOT
from google.cloud.firestore_v1.base_query import FieldFilter
from ledger_helpers import put_job, request, run_together

from credits.core import anomalies, generation_jobs, ledger
from credits.core.firestore_client import db
from credits.flows import job_sweep, jobs
from credits.operations import activity_repair, reconcile, verify
from credits.reads import activity, activity_log

pytestmark = pytest.mark.usefixtures("firestore")

STATUS_ORDER = ("queued", "processing", "completed")


def settled() -> datetime:
    """A run's ``now`` late enough that what was just written is past the repair's grace period."""
    return datetime.now(UTC) + activity_repair.GRACE + timedelta(minutes=1)


def judged() -> datetime:
    """The verifier's ``now`` late enough that what was just written is judged."""
    return datetime.now(UTC) + verify.ACTIVITY_GRACE + timedelta(minutes=1)


def fund(uid: str, amount: int = 100) -> ledger.LedgerEntry:
    return ledger.write_ledger_entry(request(uid=uid, amount=amount)).entry


def queue_job(job_id: str, uid: str = "alice", **fields: Any) -> None:
    """A job as the pipeline writes it, billed as its trigger would; its projection delivery lost."""
    put_job(job_id, uid=uid, updatedAt=datetime.now(UTC), **fields)
    jobs.bill_job(job_id)


def items(uid: str) -> dict[str, dict[str, Any]]:
    return {snap.id: snap.to_dict() or {} for snap in activity_log.items_of(uid).stream()}


def status_of(uid: str, job_id: str) -> str:
    return str(items(uid)[f"job:{job_id}"]["item"]["status"])


def debit_of(job_id: str) -> str:
    return str((generation_jobs.job_ref(job_id).get().to_dict() or {})["debitEntryId"])


def logged(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The structured log lines written since the last look."""
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def events(capsys: pytest.CaptureFixture[str], event: str) -> list[dict[str, Any]]:
    return [line for line in logged(capsys) if line.get("event") == event]


# -- the repair --------------------------------------------------------------------------------


def test_lost_deliveries_are_projected_page_by_page_and_each_item_written_is_logged(
    capsys: pytest.CaptureFixture[str],
):
    grant = fund("alice")
    queue_job("charged")  # its pipeline write and its billing write: both deliveries lost
    queue_job("refused", uid="bob")  # bob has no credits: failed for want of them
    put_job("nobody", uid=None, updatedAt=datetime.now(UTC))  # no usable uid: no item
    carol = fund("carol", 5)
    activity_log.project_entry(carol.id)
    activity_log.item_ref("carol", f"entry:{carol.id}").delete()  # written, then lost
    capsys.readouterr()

    report = activity_repair.repair_activity(settled(), page_size=2)

    expected = {
        ("alice", f"entry:{grant.id}"),
        ("alice", f"entry:{debit_of('charged')}"),
        ("alice", "job:charged"),
        ("bob", "job:refused"),
        ("carol", f"entry:{carol.id}"),
    }
    written = report.projection.items or []
    assert set(written) == expected and len(written) == len(expected)
    assert status_of("alice", "charged") == "queued"
    assert items("alice")["job:charged"]["item"]["credits"]["debitEntryId"] == debit_of("charged")
    assert status_of("bob", "refused") == "failed"
    repaired = events(capsys, "activity_item_repaired")
    assert {(line["uid"], line["itemId"]) for line in repaired} == expected
    assert len(repaired) == len(expected) and {line["severity"] for line in repaired} == {"WARNING"}
    # What it wrote is what the sources build: a backfill finds nothing left to write.
    assert activity_log.backfill().written == 0
    assert (report.projection.jobs, report.projection.entries, report.projection.skipped) == (3, 3, 1)
    assert report.failures == 0
    swept = job_sweep.checkpoint(activity_repair.CHECKPOINT).get().to_dict() or {}
    assert swept["sweptThrough"] == report.end


def test_the_summary_line_counts_the_run(capsys: pytest.CaptureFixture[str]):
    fund("alice")
    queue_job("j1")
    activity_log.project_job("j1")
    capsys.readouterr()

    report = activity_repair.repair_activity(settled())

    [finished] = events(capsys, "activity_repair_finished")
    assert finished["severity"] == "WARNING"
    counts = {key: finished[key] for key in ("run", "jobs", "entries", "repaired", "unchanged", "skipped", "failures")}
    assert counts == {
        "run": "scheduled",
        "jobs": 1,
        "entries": 2,
        "repaired": 2,
        "unchanged": 1,
        "skipped": 0,
        "failures": 0,
    }
    assert (finished["start"], finished["end"]) == (report.start.isoformat(), report.end.isoformat())


def test_a_stale_job_item_is_brought_forward_and_a_rerun_writes_nothing(capsys: pytest.CaptureFixture[str]):
    fund("alice")
    queue_job("j1")
    activity_log.backfill()
    # The pipeline completes the job; that delivery is lost.
    generation_jobs.job_ref("j1").update({"status": "completed", "updatedAt": datetime.now(UTC)})
    assert status_of("alice", "j1") == "queued"
    at = settled()

    report = activity_repair.repair_activity(at)

    assert report.projection.items == [("alice", "job:j1")]
    assert status_of("alice", "j1") == "completed"
    assert items("alice")["job:j1"]["item"]["type"] == "generation_completed"
    before = {snap.id: snap.update_time for snap in activity_log.items_of("alice").stream()}
    capsys.readouterr()

    again = activity_repair.repair_activity(at + timedelta(minutes=15))

    # It read the same sources again (the overlap) and found them in line.
    assert again.start == report.end - job_sweep.OVERLAP
    assert (again.projection.jobs, again.projection.entries) == (1, 2)
    assert (again.projection.written, again.projection.unchanged, again.projection.items) == (0, 3, [])
    [finished] = logged(capsys)
    assert (finished["event"], finished["severity"]) == ("activity_repair_finished", "INFO")
    assert {snap.id: snap.update_time for snap in activity_log.items_of("alice").stream()} == before


def test_an_item_built_from_a_newer_version_of_its_job_is_kept():
    fund("alice")
    queue_job("j1")
    activity_log.backfill()
    # As a trigger that read the job after the version this run reads would have written it:
    # the item shows the job completed, built from a later version than the stored job's.
    job = generation_jobs.job_ref("j1").get()
    ref, data = activity_log.job_document(job) or (None, {})
    assert ref is not None
    newer = activity.job_item("j1", {**(job.to_dict() or {}), "status": "completed"}).to_api()
    ref.set({**data, "item": newer, "sourceVersion": job.update_time + timedelta(seconds=1)})

    report = activity_repair.repair_activity(settled())

    assert report.projection.written == 0 and report.projection.unchanged == 3
    assert status_of("alice", "j1") == "completed"
    # Nor is it stale to the verifier: it was built from a newer version than the one read.
    assert verify.verify_users(["alice"], now=judged(), activity=True).ok


def test_a_source_within_the_grace_period_or_beyond_the_window_waits_and_the_next_run_starts_where_it_stopped():
    started = datetime.now(UTC)
    grant = fund("alice")
    put_job("long-ago", uid="alice", updatedAt=started - timedelta(hours=25))

    first = activity_repair.repair_activity(started + timedelta(minutes=5))

    assert (first.start, first.end) == (
        started + timedelta(minutes=5) - activity_repair.WINDOW,
        started + timedelta(minutes=5) - activity_repair.GRACE,
    )
    assert (first.projection.jobs, first.projection.entries) == (0, 0)
    assert items("alice") == {}

    second = activity_repair.repair_activity(started + timedelta(minutes=20))

    assert second.start == first.end - job_sweep.OVERLAP
    assert second.projection.items == [("alice", f"entry:{grant.id}")]
    assert "job:long-ago" not in items("alice")  # beyond the window: the backfill's work


def test_repairs_racing_the_triggers_never_move_an_item_back():
    fund("alice", 200)
    ids = [f"job-{n}" for n in range(3)]
    for job_id in ids:
        queue_job(job_id)
        activity_log.project_job(job_id)
    at = settled()

    def pipeline() -> None:
        for status in STATUS_ORDER[1:]:
            for job_id in ids:
                generation_jobs.job_ref(job_id).update({"status": status})
                activity_log.project_job(job_id)  # the trigger's delivery
                shown = status_of("alice", job_id)
                assert STATUS_ORDER.index(shown) >= STATUS_ORDER.index(status), (job_id, shown, status)

    def repairs() -> None:
        for _ in range(4):
            activity_repair.repair_activity(at, page_size=2)

    assert run_together(pipeline, repairs, repairs) == []
    assert [status_of("alice", job_id) for job_id in ids] == ["completed"] * 3
    assert activity_log.backfill().written == 0


# -- the verifier ------------------------------------------------------------------------------


def test_the_verifier_names_missing_stale_and_orphan_items_and_nothing_on_a_clean_projection():
    grant = fund("alice")
    bobs = fund("bob")
    queue_job("j1")
    queue_job("gone")
    activity_log.backfill()
    # An export's item has no other source: the check leaves it alone.
    activity_log.items_of("alice").document("export:e1").set({"uid": "alice", "kind": "export"})

    clean = verify.verify_users(["alice", "bob"], now=judged(), activity=True)

    assert clean.ok, [m.to_dict() for m in clean.mismatches]
    assert clean.items == 1 + 2 + 2 + 1 + 1  # alice's grant, two jobs, their debits, the export; bob's grant

    activity_log.item_ref("alice", f"entry:{grant.id}").delete()  # a lost entry delivery
    generation_jobs.job_ref("j1").update({"status": "completed"})  # a lost job delivery
    generation_jobs.job_ref("gone").delete()  # its item stays
    bob_item = activity_log.item_ref("bob", f"entry:{bobs.id}").get().to_dict() or {}
    activity_log.item_ref("alice", f"entry:{bobs.id}").set(bob_item)  # another user's credit
    activity_log.item_ref("alice", "entry:no-such-entry").set(bob_item)  # no entry at all

    found = verify.verify_users(["alice", "bob"], now=judged(), activity=True).mismatches

    assert sorted(((m.uid, m.kind, m.entry_id, m.job_id) for m in found), key=str) == sorted(
        [
            ("alice", "activity_item_missing", grant.id, None),
            ("alice", "activity_item_stale", None, "j1"),
            ("alice", "activity_item_orphan", None, "gone"),
            ("alice", "activity_item_orphan", bobs.id, None),
            ("alice", "activity_item_orphan", "no-such-entry", None),
        ],
        key=str,
    )
    orphan = next(m for m in found if m.entry_id == bobs.id)
    assert "'bob'" in orphan.message
    # Within the grace period a source is not judged (its trigger may be on its way); an orphan is.
    recent = verify.verify_users(["alice"], activity=True).mismatches
    assert sorted(m.kind for m in recent) == ["activity_item_orphan"] * 3
    # The ledger's own check (the test fixture's) does not look at the projection.
    assert verify.verify_users(["alice", "bob"], now=judged()).ok


def test_the_verifier_script_checks_the_projection_unless_told_not_to():
    fund("alice")
    activity_log.item_ref("alice", "entry:no-such-entry").set({"uid": "alice"})
    env = {**os.environ, "PYTHONPATH": str(ROOT / "functions")}

    def verify_ledger(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, str(ROOT / "scripts" / "verify_ledger.py"), *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    checked = verify_ledger()
    assert checked.returncode == 1, checked.stderr
    assert "MISMATCH alice activity_item_orphan entry=no-such-entry" in checked.stdout
    assert "1 users, 1 entries, 1 Activity items: 1 mismatches" in checked.stdout
    skipped = verify_ledger("--no-activity")
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert "1 users, 1 entries: clean" in skipped.stdout


# -- the nightly reconciliation ----------------------------------------------------------------


def reconciliation_anomalies() -> list[dict[str, Any]]:
    kind = str(anomalies.Kind.RECONCILIATION_MISMATCH)
    query = db().collection(anomalies.ANOMALIES).where(filter=FieldFilter("kind", "==", kind))
    return [snap.to_dict() or {} for snap in query.stream()]


def test_the_nightly_reconciliation_records_each_projection_fault_once(capsys: pytest.CaptureFixture[str]):
    day = (datetime.now(UTC) - timedelta(days=2)).date()
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    with ledger.entry_time(noon - timedelta(hours=1)):
        grant = fund("alice")
    put_job("j1", uid="alice", updatedAt=noon)
    with ledger.entry_time(noon + timedelta(seconds=3)):
        jobs.bill_job("j1")
    activity_log.backfill()
    assert reconcile.reconcile_day(day, now=judged()).ok

    activity_log.item_ref("alice", f"entry:{grant.id}").delete()
    generation_jobs.job_ref("j1").update({"status": "completed"})
    activity_log.item_ref("alice", "entry:no-such-entry").set({"uid": "alice"})
    capsys.readouterr()

    report = reconcile.reconcile_day(day, now=judged())

    found = sorted((m.kind, m.entry_id, m.job_id) for m in report.mismatches)
    assert found == [
        ("activity_item_missing", grant.id, None),
        ("activity_item_orphan", "no-such-entry", None),
        ("activity_item_stale", None, "j1"),
    ]
    recorded = sorted((a["uid"], a["mismatchKind"], a["entryId"], a.get("jobId")) for a in reconciliation_anomalies())
    assert recorded == [("alice", kind, entry_id, job_id) for kind, entry_id, job_id in found]
    shown = sorted(line["mismatchKind"] for line in events(capsys, "reconciliation_mismatch"))
    assert shown == [kind for kind, _, _ in found]

    again = reconcile.reconcile_day(day, run="manual", now=judged())

    assert sorted((m.kind, m.entry_id, m.job_id) for m in again.mismatches) == found
    assert len(reconciliation_anomalies()) == 3
