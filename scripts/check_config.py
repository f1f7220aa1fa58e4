"""Check the configuration file before a deploy: the same validation the functions run when they start.

    python scripts/check_config.py                      # functions/credits.config.yaml
    python scripts/check_config.py path/to/other.yaml   # another file

Prints what the file configures, or each wrong field and what is wrong with it, and exits 1
when the file would stop the functions from starting. ``docs/adopt.md`` runs it first.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Validate the credits configuration file.")
    parser.add_argument("file", nargs="?", type=Path, help="default: functions/credits.config.yaml")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
