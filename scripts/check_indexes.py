"""Check that firestore.indexes.json serves every query the code can issue, and nothing more.

python scripts/check_indexes.py           # report; exit 1 on a missing or unused index
python scripts/check_indexes.py --write   # rewrite the file from the code's query shapes
"""

from __future__ import annotations

import argparse
import json
import sys

import target

INDEXES = target.ROOT / "firestore.indexes.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--write", action="store_true", help="rewrite firestore.indexes.json")
    args = parser.parse_args()

    from credits import indexes

    if args.write:
        INDEXES.write_text(json.dumps(indexes.indexes_file(), indent=2) + "\n")
        print(f"wrote {INDEXES.name}")
    missing, unused = indexes.check(indexes.load(INDEXES))
    for shape in missing:
        if isinstance(shape, dict):
            print(f"MISSING field override {json.dumps(shape)}")
        else:
            print(f"MISSING {shape.collection}: equality {sorted(shape.equality)} then {list(shape.order)}")
    for index in unused:
        print(f"UNUSED  {json.dumps(index)}")
    print(
        f"{len(indexes.required_shapes())} query shapes need a composite index: "
        f"{len(missing)} missing, {len(unused)} unused"
    )
    return 1 if missing or unused else 0


if __name__ == "__main__":
    sys.exit(main())
