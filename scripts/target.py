"""Which Firebase project a script talks to: the local emulators, or a real project.

Without ``--project`` a script talks to the Emulator Suite that ``scripts/run_local.sh``
starts (ports of firebase.json, project demo-credits), unless the emulator variables are
already set. With ``--project ID`` it talks to that real project with the Application
Default Credentials (``gcloud auth application-default login``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))

LOCAL = {
    "FIRESTORE_EMULATOR_HOST": "127.0.0.1:8080",
    "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099",
    "GCLOUD_PROJECT": "demo-credits",
}


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", help="a real Firebase project id (default: the local emulators)")


def connect(project: str | None) -> str:
    """Set the environment the ``credits`` clients read; return a description of the target."""
    if project:
        for name in ("FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST"):
            os.environ.pop(name, None)
        os.environ["GCLOUD_PROJECT"] = project
        return f"project {project}"
    for name, value in LOCAL.items():
        os.environ.setdefault(name, value)
    return f"emulators at {os.environ['FIRESTORE_EMULATOR_HOST']} (project {os.environ['GCLOUD_PROJECT']})"
