"""Check the ledger's sum rule and balance_after chain for one user or for everyone.

    python scripts/verify_ledger.py                 # every user with a balance
    python scripts/verify_ledger.py --uid UID ...   # some users
    python scripts/verify_ledger.py --no-activity   # the ledger only, not the Activity projection
    python scripts/verify_ledger.py --project ID    # a real project instead of the emulators

Checks each user's ledger, jobs and credit blocks, and their Activity projection
(``users/{uid}/activity``: items missing, stale or orphaned) unless ``--no-activity``.
Prints progress, every mismatch (with the entry where it shows), and a summary; exits 1 when
anything is off.
"""

from __future__ import annotations

import argparse
import sys

import target


def main() -> int:
    parser = argparse.ArgumentParser(description="Verify the credits ledger against the balances.")
    parser.add_argument("--uid", nargs="*", help="users to check (default: all)")
    parser.add_argument(
        "--no-activity", dest="activity", action="store_false", help="skip the check of the Activity projection"
    )
    target.add_argument(parser)
    args = parser.parse_args()
    where = target.connect(args.project)

    from credits.core import ledger
    from credits.operations import verify

    uids = args.uid or sorted(ledger.uids_with_balances())
    print(f"verifying {len(uids)} users on {where}", file=sys.stderr)

    def progress(done: int, report: verify.Report) -> None:
        if done % 100 == 0 or done == len(uids):
            print(
                f"  {done}/{len(uids)} users, {report.entries} entries, {len(report.mismatches)} mismatches",
                file=sys.stderr,
            )

    report = verify.verify_users(uids, progress, activity=args.activity)
    for mismatch in report.mismatches:
        job = f" job={mismatch.job_id}" if mismatch.job_id else ""
        print(f"MISMATCH {mismatch.uid} {mismatch.kind} entry={mismatch.entry_id}{job}: {mismatch.message}")
    verdict = "clean" if report.ok else f"{len(report.mismatches)} mismatches"
    items = f", {report.items} Activity items" if args.activity else ""
    print(f"{report.users} users, {report.entries} entries{items}: {verdict}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
