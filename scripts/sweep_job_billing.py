"""Run the job billing sweeper by hand: bill the jobs whose trigger delivery was lost.

    python scripts/sweep_job_billing.py                          # as the schedule does, on the local emulators
    python scripts/sweep_job_billing.py --since 2026-03-14T00:00Z # every job changed since then
    python scripts/sweep_job_billing.py --project ID             # a real project instead of the emulators

Calls ``credits.flows.job_sweep.sweep_job_billing`` (the function the 5-minute schedule calls):
jobs changed between ``--since`` (default: where the previous run stopped, at most 24 hours
back) and 5 minutes ago whose billing does not match their status are billed through the
trigger's own code; each repair is an anomaly of kind ``job_billing_repaired``. Prints each
repair and a summary; exits 1 when a repair failed. The structured log lines go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from datetime import UTC, datetime

import target


def main() -> int:
    parser = argparse.ArgumentParser(description="Bill the generation jobs whose billing was lost.")
    parser.add_argument("--since", type=datetime.fromisoformat, help="ISO 8601 instant (default: the checkpoint)")
    target.add_argument(parser)
    args = parser.parse_args()
    where = target.connect(args.project)

    from credits.flows import job_sweep

    since = args.since.replace(tzinfo=args.since.tzinfo or UTC) if args.since else None
    print(f"sweeping job billing on {where}", file=sys.stderr)
    with contextlib.redirect_stdout(sys.stderr):
        report = job_sweep.sweep_job_billing(since=since, run="manual")
    for repair in report.repairs:
        fields = repair.fields()
        print(f"REPAIRED {fields['jobId']} missing {fields['missing']}: {fields['action']} entry={fields['entryId']}")
    print(
        f"{report.start.isoformat()} to {report.end.isoformat()}: {report.jobs} jobs read, "
        f"{report.out_of_line} out of line, {len(report.repairs)} repaired, {report.failures} failed"
    )
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
