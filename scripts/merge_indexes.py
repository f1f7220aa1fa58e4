"""Put the credits ledger's Firestore indexes into a host app's own ``firestore.indexes.json``.

    python scripts/merge_indexes.py HOST_INDEXES [--out FILE]

``firebase deploy --only firestore:indexes`` makes a project's indexes those of one file (and
offers to delete the others), so a host that deploys its own file needs the ledger's indexes in
it. The merge keeps the host's file as it is and appends what it lacks of the ledger's
``firestore.indexes.json``:

* a composite index appears once: one of the ledger's that the host already declares (the same
  collection group, query scope and fields in the same order, with the same options) is not
  added again. Options left out count as their defaults, as firebase-tools compares them
  (``apiScope`` ``ANY_API``, ``density`` ``SPARSE_ALL``, the Standard edition's, ``multikey``
  false), so an index file exported with ``firebase firestore:indexes`` merges cleanly;
* a field override is the whole indexing of one field of one collection group, so there is
  one per collection group and field path: the ledger's is added when the host has none; an
  identical one of the host's (the same indexes in any order, the same ``ttl``) stays as it is;
  one that differs is a conflict, and the merge refuses (exit 2, nothing written) naming it,
  since one of the two apps would lose an index its queries need.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LEDGER_INDEXES = ROOT / "firestore.indexes.json"

INDEX_DEFAULTS: Mapping[str, Any] = {
    "queryScope": "COLLECTION",
    "apiScope": "ANY_API",
    "density": "SPARSE_ALL",
    "multikey": False,
}
"""What an index means when it leaves an option out (firebase-tools' ``indexMatchesSpec``)."""


class MergeRefused(Exception):
    """The merge would drop an index one of the apps needs, or a file is not an indexes file."""


class NotAnIndexesFile(MergeRefused):
    pass


@dataclass(frozen=True)
class Conflict:
    """A field override of the host's that differs from the ledger's for the same field."""

    collection_group: str
    field_path: str
    host: Mapping[str, Any]
    ledger: Mapping[str, Any]

    def __str__(self) -> str:
        return (
            f"{self.collection_group}.{self.field_path}: the host's override is {json.dumps(self.host)}, "
            f"the ledger's is {json.dumps(self.ledger)}"
        )


class OverridesConflict(MergeRefused):
    def __init__(self, conflicts: list[Conflict]) -> None:
        self.conflicts = conflicts
        lines = ["field overrides that differ from the credits ledger's:"]
        lines += [f"  {conflict}" for conflict in conflicts]
        lines.append(
            "Firestore keeps one override per collection group and field: give the host's override "
            "the ledger's indexes as well as its own, then merge again."
        )
        super().__init__("\n".join(lines))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _with_defaults(index: Mapping[str, Any]) -> dict[str, Any]:
    return {**INDEX_DEFAULTS, **{key: value for key, value in index.items() if value is not None}}


def index_identity(index: Mapping[str, Any]) -> str:
    """Equal for two composite indexes that are the same index."""
    normal = _with_defaults(index)
    normal["fields"] = [{k: v for k, v in field.items() if v is not None} for field in index["fields"]]
    return _canonical(normal)


def override_identity(override: Mapping[str, Any]) -> str:
    """Equal for two field overrides that index their field the same way."""
    indexes = sorted(_canonical(_with_defaults(index)) for index in override["indexes"])
    return _canonical({"ttl": bool(override.get("ttl", False)), "indexes": indexes})


def _field(override: Mapping[str, Any]) -> tuple[str, str]:
    return override["collectionGroup"], override["fieldPath"]


def merge(host: Mapping[str, Any], ledger: Mapping[str, Any]) -> dict[str, Any]:
    """The host's indexes file with what it lacks of the ledger's appended."""
    try:
        return _merge(host, ledger)
    except (KeyError, TypeError, AttributeError) as error:
        raise NotAnIndexesFile(f"not a Firestore indexes file ({type(error).__name__}: {error})") from None


def _merge(host: Mapping[str, Any], ledger: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(dict(host))
    indexes: list[dict[str, Any]] = merged.setdefault("indexes", [])
    declared = {index_identity(index) for index in indexes}
    for index in ledger.get("indexes", []):
        if index_identity(index) not in declared:
            indexes.append(copy.deepcopy(index))
            declared.add(index_identity(index))

    overrides: list[dict[str, Any]] = merged.setdefault("fieldOverrides", [])
    by_field = {_field(override): override for override in overrides}
    conflicts = []
    for override in ledger.get("fieldOverrides", []):
        theirs = by_field.get(_field(override))
        if theirs is None:
            overrides.append(copy.deepcopy(override))
            by_field[_field(override)] = override
        elif override_identity(theirs) != override_identity(override):
            conflicts.append(Conflict(*_field(override), host=theirs, ledger=override))
    if conflicts:
        raise OverridesConflict(conflicts)
    return merged


def load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise NotAnIndexesFile(f"not JSON: {error}") from None
    if not isinstance(data, dict):
        raise NotAnIndexesFile("not a Firestore indexes file (a JSON object with `indexes`)")
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Merge the credits ledger's Firestore indexes into a host's.")
    parser.add_argument("host", type=Path, metavar="HOST_INDEXES", help="the host app's firestore.indexes.json")
    parser.add_argument("--out", type=Path, help="write here (default: standard output)")
    args = parser.parse_args(argv)

    try:
        merged = merge(load(args.host), load(LEDGER_INDEXES))
    except MergeRefused as refused:
        print(f"{args.host}: refused, nothing written: {refused}", file=sys.stderr)
        return 2
    text = json.dumps(merged, indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text)
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
