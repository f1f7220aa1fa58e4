"""Fill the Activity projection (``users/{uid}/activity``) from the sources of truth.

    python scripts/backfill_activity.py                 # the local emulators
    python scripts/backfill_activity.py --project ID    # a real project

Projects every generation job and every ledger entry of every user
(:func:`credits.reads.activity_log.backfill`, docs/api.md "The Activity projection"): the
collections are read page by page, each page's items with one read, and what is missing
or differs is written in one batch, a job's item only when it was built from an older
version of the job (the triggers' own rule, so it is safe while they run). Idempotent: a
second run writes nothing. Run it once after deploying the projection's triggers, and after
a change of the item's shape. Prints how many sources it read and items it wrote.
"""

from __future__ import annotations

import argparse
import sys
import time

import target


def main() -> int:
    parser = argparse.ArgumentParser(description="Fill the Activity projection from the jobs and the ledger.")
    target.add_argument(parser)
    args = parser.parse_args()
    where = target.connect(args.project)

    from credits.reads import activity_log

    print(f"projecting Activity items on {where}", file=sys.stderr)
    started = time.perf_counter()
    report = activity_log.backfill()
    print(
        f"{report.jobs} jobs and {report.entries} entries read: {report.written} items written, "
        f"{report.unchanged} already up to date, {report.skipped} jobs without a user "
        f"({time.perf_counter() - started:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
