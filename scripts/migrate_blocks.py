"""Turn a ledger from before credit blocks into blocks: each balance becomes opening blocks.

    python scripts/migrate_blocks.py                 # the local emulators
    python scripts/migrate_blocks.py --project ID    # a real project

For every user with a balance document that has no ``blocks`` yet, stores one
``opening-<type>`` block per credit type that holds credits: the whole balance, never
expiring, and ``blocksSince`` (the entry count it stands for), so that the verifier replays
blocks from there (docs/ledger.md, "Existing data"). Idempotent: a user migrated before, or
whose first write since the deploy already stored the same blocks, is left alone. Prints
how many users it migrated and how many already had blocks.
"""

from __future__ import annotations

import argparse
import sys

import target


def main() -> int:
    parser = argparse.ArgumentParser(description="Store every pre-blocks balance as opening credit blocks.")
    target.add_argument(parser)
    args = parser.parse_args()
    where = target.connect(args.project)

    from credits import ledger

    print(f"migrating balances to credit blocks on {where}", file=sys.stderr)
    migrated = unchanged = 0
    for uid in ledger.uids_with_balances():
        if ledger.migrate_to_blocks(uid):
            migrated += 1
        else:
            unchanged += 1
    print(f"{migrated} users migrated, {unchanged} already had blocks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
