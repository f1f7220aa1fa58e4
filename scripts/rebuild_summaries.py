"""Build (or rebuild) the daily credit summaries of a range of UTC days by hand.

    python scripts/rebuild_summaries.py                                  # yesterday (UTC)
    python scripts/rebuild_summaries.py --from 2026-03-01 --to 2026-03-31
    python scripts/rebuild_summaries.py --from 2026-03-01                # through yesterday
    python scripts/rebuild_summaries.py --project ID                     # a real project
    python scripts/rebuild_summaries.py --from 2026-12-05 --users-from-entries   # count users the old way

Each day's ``daily_credits_summary/{YYYY-MM-DD}`` is rebuilt from the ledger and replaced
(``credits.operations.summaries.rebuild``; the same code the 00:10 UTC schedule runs), so running it
twice is harmless. Prints one line per day with its totals and what it read. The structured
log lines go to stderr. ``--users-from-entries`` counts each day's users by reading its entries
instead of counting its user markers: for the day the markers began (docs/operations.md).
"""

from __future__ import annotations

import argparse
import contextlib
import sys

import target


def main() -> int:
    parser = argparse.ArgumentParser(description="Rebuild daily credit summaries from the ledger.")
    parser.add_argument("--from", dest="first", help="first day, YYYY-MM-DD (default: --to)")
    parser.add_argument("--to", dest="last", help="last day, YYYY-MM-DD (default: yesterday, UTC)")
    parser.add_argument(
        "--users-from-entries", action="store_true", help="count users from the entries, not the day's markers"
    )
    target.add_argument(parser)
    args = parser.parse_args()
    where = target.connect(args.project)

    from credits.core.errors import InvalidArgument
    from credits.operations import days, summaries

    try:
        last = days.parse_day(args.last) if args.last else days.previous_day()
        first = days.parse_day(args.first) if args.first else last
        span = days.days_between(first, last)
    except InvalidArgument as exc:
        parser.error(exc.message)
    print(f"rebuilding {len(span)} daily summaries ({first} to {last}) on {where}", file=sys.stderr)
    with contextlib.redirect_stdout(sys.stderr):
        built = summaries.rebuild(first, last, users_from_entries=args.users_from_entries)
    for summary in built:
        reads = summary["reads"]
        nets = ", ".join(f"{credit_type} net {totals['net']:+d}" for credit_type, totals in summary["byType"].items())
        print(
            f"{summary['day']}: {summary['entries']} entries, {summary['usersTouched']} users, {nets}"
            f"{'' if summary['complete'] else ' (day not over yet)'}; "
            f"{reads['aggregationQueries']} aggregation queries, {reads['documents']} documents read, "
            f"~{reads['billedReads']} billed reads"
        )
        if summary["unclassified"]["count"]:
            print(f"  WARNING {summary['unclassified']['count']} entries outside every allowed source bucket")
    return 0


if __name__ == "__main__":
    sys.exit(main())
