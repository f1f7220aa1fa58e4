"""Bring every stored balance document to today's shape, once.

    python scripts/migrate_balances.py                 # the local emulators
    python scripts/migrate_balances.py --project ID    # a real project

Two older shapes are moved, in one guarded update per user (docs/ledger.md, "Existing data"):

* the ``amounts`` map of credit types: each amount becomes the top-level integer field named
  by its type (``image``, ``video``), as the checklist names them, and the map is deleted;
* a document from before credit blocks: one ``opening-<type>`` block per credit type that
  holds credits (the whole balance, never expiring), and ``blocksSince``, the entry count it
  stands for, so that the verifier replays blocks from there.

Balances and blocks are unchanged by it. Idempotent: a user moved before, or whose first
write since the deploy moved the document already, is left alone. Prints how many users it
migrated and how many had today's shape already.
"""

from __future__ import annotations

import argparse
import sys

import target


def main() -> int:
    parser = argparse.ArgumentParser(description="Move every stored balance document to today's shape.")
    target.add_argument(parser)
    args = parser.parse_args()
    where = target.connect(args.project)

    from credits.core import ledger

    print(f"migrating balance documents on {where}", file=sys.stderr)
    migrated = unchanged = 0
    for uid in ledger.uids_with_balances():
        if ledger.migrate_balance(uid):
            migrated += 1
        else:
            unchanged += 1
    print(f"{migrated} users migrated, {unchanged} already in today's shape")
    return 0


if __name__ == "__main__":
    sys.exit(main())
