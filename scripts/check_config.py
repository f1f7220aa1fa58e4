"""Check the configuration file before a deploy: the same validation the functions run when they start.

    python scripts/check_config.py                      # functions/credits.config.yaml
    python scripts/check_config.py path/to/other.yaml   # another file
    python scripts/check_config.py --write-job-schema   # and write docs/generation_job.schema.json
    python scripts/check_config.py host.yaml --write-job-schema job.schema.json

Prints what the file configures, or each wrong field and what is wrong with it, and exits 1
when the file would stop the functions from starting. ``docs/adopt.md`` runs it first.

``--write-job-schema [PATH]`` also writes the job contract of the file, the JSON Schema of a
``generation_jobs`` document (``credits.core.generation_jobs.job_schema``), to PATH (default
``docs/generation_job.schema.json``, the shipped copy, which a test holds equal to the code's).
Run it after changing the job kinds or the prices' qualities.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import target

JOB_SCHEMA = target.ROOT / "docs" / "generation_job.schema.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Validate the credits configuration file.")
    parser.add_argument("file", nargs="?", type=Path, help="default: functions/credits.config.yaml")
    parser.add_argument(
        "--write-job-schema",
        nargs="?",
        type=Path,
        const=JOB_SCHEMA,
        metavar="PATH",
        help=f"write the job document's JSON Schema (default: {JOB_SCHEMA.relative_to(target.ROOT)})",
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(target.ROOT / "functions"))
    if args.file:
        os.environ["CREDITS_CONFIG"] = str(args.file.resolve())

    try:
        # Loading the settings validates the file; the ledger core then checks the credit types
        # against the balance document's own fields.
        from credits.core.ledger import CreditType, Source
        from credits.core.settings import SETTINGS
    except ValueError as exc:  # a ConfigError
        print(exc, file=sys.stderr)
        return 1
    print(
        f"valid: credit types {', '.join(CreditType)}; job kinds "
        f"{', '.join(s for s in Source if s in SETTINGS.job_kinds)} (collection {SETTINGS.jobs.collection}); "
        f"{len(SETTINGS.packs)} packs, {len(SETTINGS.plans)} plans; prices {SETTINGS.prices.version}"
    )
    if args.write_job_schema:
        from credits.core.generation_jobs import job_schema

        args.write_job_schema.write_text(schema_text(job_schema()))
        print(f"wrote the job schema to {args.write_job_schema}")
    return 0


def schema_text(schema: dict[str, Any]) -> str:
    """The JSON file's text: two-space indents, keys in the code's order, a final newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.exit(main())
