"""Add the credits ledger to an existing Firebase project's ``firebase.json`` and ``.firebaserc``.

    python scripts/adopt_project.py HOST_DIR [--functions credits] [--web credits-web] [--site SITE]

Run from this repository, after copying the functions and the web app's build into the host
project (``docs/adopt.md`` has every step). It adds, and changes nothing else:

* a functions codebase ``credits`` whose source is ``HOST_DIR/<functions>``, beside the host's
  own codebases (a host ``functions`` object becomes a list, keeping its codebase);
* a Hosting target ``credits`` serving ``HOST_DIR/<web>``, with ``/api/**`` rewritten to the
  ``credits_api`` function and every other path to the app, beside the host's own site (a
  host ``hosting`` object becomes a list; the host's site keeps its config and comes first,
  named ``site: <project id>`` when it named no site or target, as a list requires);
* in ``.firebaserc``, the target ``credits`` of the default project, applied to ``--site``
  (a second Hosting site of the project; default ``<project id>-credits``, made with
  ``firebase hosting:sites:create <project id>-credits``).

Idempotent: a second run finds the codebase and the target and changes nothing. It refuses
(exit 2, nothing written) a host that has a codebase or a Hosting target named ``credits``
already but configured otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import target

CODEBASE = "credits"
TARGET = "credits"


class Refused(Exception):
    """The host's configuration already has something of ours, set up another way."""


def ours() -> dict[str, Any]:
    """This repository's firebase.json: the codebase and the Hosting target, as they deploy here."""
    config: dict[str, Any] = json.loads((target.ROOT / "firebase.json").read_text())
    return config


def adopt(firebase: dict[str, Any], *, functions: str, web: str, project: str) -> dict[str, Any]:
    """``firebase.json`` with the credits codebase and Hosting target added."""
    result = dict(firebase)
    codebases = firebase.get("functions", [])
    codebases = [codebases] if isinstance(codebases, dict) else list(codebases)
    [codebase] = [c for c in ours()["functions"] if c["codebase"] == CODEBASE]
    result["functions"] = _add(codebases, {**codebase, "source": functions}, key="codebase", default="default")
    sites = firebase.get("hosting", [])
    sites = [sites] if isinstance(sites, dict) else list(sites)
    # In a list every site names its site or target; the host's unnamed one is the default site.
    sites = [site if "site" in site or "target" in site else {"site": project, **site} for site in sites]
    result["hosting"] = _add(sites, {**ours()["hosting"], "target": TARGET, "public": web}, key="target", default=None)
    return result


def default_project(firebaserc: dict[str, Any]) -> str:
    project = firebaserc.get("projects", {}).get("default")
    if not project:
        raise Refused(".firebaserc names no default project: run `firebase use --add` first")
    return str(project)


def adopt_rc(firebaserc: dict[str, Any], *, site: str | None) -> dict[str, Any]:
    """``.firebaserc`` with the target ``credits`` applied to ``site`` in the default project."""
    project = default_project(firebaserc)
    targets = firebaserc.get("targets", {}).get(project, {}).get("hosting", {})
    wanted = [site or f"{project}-credits"]
    if targets.get(TARGET, wanted) != wanted:
        raise Refused(f"the Hosting target {TARGET!r} is applied to {targets[TARGET]} already, not {wanted}")
    hosting = {**targets, TARGET: wanted}
    project_targets = {**firebaserc.get("targets", {}).get(project, {}), "hosting": hosting}
    return {**firebaserc, "targets": {**firebaserc.get("targets", {}), project: project_targets}}


def _add(items: list[dict[str, Any]], ours: dict[str, Any], *, key: str, default: str | None) -> list[dict[str, Any]]:
    found = [item for item in items if item.get(key, default) == ours[key]]
    if not found:
        return [*items, ours]
    if found[0] != ours:
        raise Refused(f"firebase.json has a {key} {ours[key]!r} already, configured otherwise: {json.dumps(found[0])}")
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Add the credits codebase and Hosting target to a Firebase project.")
    parser.add_argument("host", type=Path, help="the host project's folder (with its firebase.json)")
    parser.add_argument("--functions", default="credits", help="the folder the functions were copied to")
    parser.add_argument("--web", default="credits-web", help="the folder the web app's build was copied to")
    parser.add_argument("--site", help="the Hosting site that serves the app (default: <project id>-credits)")
    args = parser.parse_args(argv)
    firebase_json, firebaserc = args.host / "firebase.json", args.host / ".firebaserc"
    try:
        rc_before = json.loads(firebaserc.read_text()) if firebaserc.exists() else {}
        rc = adopt_rc(rc_before, site=args.site)
        firebase = adopt(
            json.loads(firebase_json.read_text()),
            functions=args.functions,
            web=args.web,
            project=default_project(rc_before),
        )
    except Refused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    firebase_json.write_text(json.dumps(firebase, indent=2) + "\n")
    firebaserc.write_text(json.dumps(rc, indent=2) + "\n")
    print(
        f"{firebase_json}: functions codebase {CODEBASE!r} from {args.functions}/, "
        f"Hosting target {TARGET!r} from {args.web}/"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
