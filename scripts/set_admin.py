"""Grant or revoke the ``admin`` custom claim of a user.

    python scripts/set_admin.py ops@example.com            # grant, on the local emulators
    python scripts/set_admin.py --revoke UID                # revoke
    python scripts/set_admin.py ops@example.com --project ID   # on a real project

The user's other custom claims are kept. A user's ID token carries the new claim after it
is refreshed (sign out and in, or ``getIdToken(true)``).
"""

from __future__ import annotations

import argparse
import sys

import target


def main() -> int:
    parser = argparse.ArgumentParser(description="Grant or revoke the admin claim.")
    parser.add_argument("user", help="a uid or an email")
    parser.add_argument("--revoke", action="store_true", help="remove the claim instead")
    target.add_argument(parser)
    args = parser.parse_args()
    where = target.connect(args.project)

    from credits.api.auth import set_admin
    from credits.core.errors import CreditsError

    try:
        uid = set_admin(args.user, not args.revoke)
    except CreditsError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(f"{'revoked' if args.revoke else 'granted'} admin for {uid} on {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
