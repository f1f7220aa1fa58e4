"""Run the nightly reconciliation for one day by hand.

    python scripts/reconcile.py                        # yesterday (UTC), on the local emulators
    python scripts/reconcile.py --day 2026-03-14       # one day
    python scripts/reconcile.py --project ID           # a real project instead of the emulators

Verifies every user with a ledger entry that day (``credits.operations.reconcile.reconcile_day``, the
function the 00:30 UTC schedule calls), records each mismatch as an anomaly of kind
``reconciliation_mismatch`` (a rerun records nothing twice), prints each mismatch and a
summary, and exits 1 when anything is off. The structured log lines go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import sys

import target


def main() -> int:
    parser = argparse.ArgumentParser(description="Reconcile the ledger of one UTC day.")
    parser.add_argument("--day", help="YYYY-MM-DD (default: yesterday, UTC)")
    target.add_argument(parser)
    args = parser.parse_args()
    where = target.connect(args.project)

    from credits.core.errors import InvalidArgument
    from credits.operations import days, reconcile

    try:
        day = days.parse_day(args.day) if args.day else days.previous_day()
    except InvalidArgument as exc:
        parser.error(exc.message)
    print(f"reconciling {day} on {where}", file=sys.stderr)
    with contextlib.redirect_stdout(sys.stderr):
        report = reconcile.reconcile_day(day, run="manual")
    for mismatch in report.mismatches:
        job = f" job={mismatch.job_id}" if mismatch.job_id else ""
        print(f"MISMATCH {mismatch.uid} {mismatch.kind} entry={mismatch.entry_id}{job}: {mismatch.message}")
    verdict = (
        "clean"
        if report.ok
        else f"{len(report.mismatches)} mismatch(es), each an anomaly of kind reconciliation_mismatch"
    )
    print(f"{day}: {report.users} users touched, {report.entries} entries verified: {verdict}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
