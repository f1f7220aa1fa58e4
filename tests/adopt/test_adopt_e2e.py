"""docs/adopt.md, walked: a made-up host project takes the ledger in, and both work.

The host, made in a temporary folder, has its own functions codebase (an HTTP function
``hello``), rules for its own ``posts`` and profile documents, an index, and its own Hosting
site. The test runs the ``sh`` blocks of docs/adopt.md in order as one script, starts the
official Emulator Suite on the result (on free ports, beside any other suite), and checks:

* the host's function, site and rules still work;
* the ledger's collections stay closed to clients under the merged rules;
* a job written by the pipeline helpers is priced from the host's configuration file,
  debited by the ledger's trigger, and refunded on failure;
* the credits app is served from its own Hosting target, with its API.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from emulators import free_port, stop_process_group, wait_for_url

from credits.flows import stripe_events as se

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "demo-host"
TIMEOUT_S = 60.0

HOST_RULES = """rules_version = '2';
service cloud.firestore {
  match /databases/{database}/documents {
    match /posts/{postId} {
      allow read: if request.auth != null;
      allow create: if request.auth != null && request.resource.data.author == request.auth.uid;
      allow update, delete: if request.auth != null && resource.data.author == request.auth.uid;
    }
    match /users/{uid} {
      allow read, write: if request.auth != null && request.auth.uid == uid;
    }
  }
}
"""

HOST_FUNCTION = '''"""The host app's own function."""

from firebase_functions import https_fn


@https_fn.on_request()
def hello(req: https_fn.Request) -> https_fn.Response:
    return https_fn.Response("hello from the host")
'''


@dataclass
class Host:
    folder: Path
    ports: dict[str, int]
    log: Path

    def url(self, name: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[name]}{path}"

    @property
    def documents(self) -> str:
        return self.url("firestore", f"/v1/projects/{PROJECT}/databases/(default)/documents")


def make_host(folder: Path) -> dict[str, int]:
    names = ("auth", "firestore", "websocket", "functions", "pubsub", "hub", "logging", "eventarc", "tasks")
    ports = {name: free_port() for name in names}
    ports["hosting"] = free_port()
    emulators: dict[str, Any] = {
        name: {"host": "127.0.0.1", "port": ports[name]}
        for name in ("auth", "firestore", "functions", "pubsub", "hub", "logging", "eventarc", "tasks", "hosting")
    }
    emulators["firestore"]["websocketPort"] = ports["websocket"]
    firebase = {
        "functions": [{"source": "app", "codebase": "app", "runtime": "python311", "ignore": ["venv"]}],
        "firestore": {"rules": "firestore.rules", "indexes": "firestore.indexes.json"},
        "hosting": {"public": "public", "rewrites": [{"source": "/hello", "function": {"functionId": "hello"}}]},
        "emulators": {**emulators, "ui": {"enabled": False}, "singleProjectMode": True},
    }
    index = {"collectionGroup": "posts", "queryScope": "COLLECTION", "fields": []}
    index["fields"] = [{"fieldPath": "author", "order": "ASCENDING"}, {"fieldPath": "createdAt", "order": "DESCENDING"}]
    files = {
        "firebase.json": json.dumps(firebase, indent=2),
        ".firebaserc": json.dumps({"projects": {"default": PROJECT}}),
        "firestore.rules": HOST_RULES,
        "firestore.indexes.json": json.dumps({"indexes": [index], "fieldOverrides": []}),
        "app/main.py": HOST_FUNCTION,
        "app/requirements.txt": "firebase-functions\n",
        "public/index.html": "<!doctype html><title>Host app</title><h1>Host app</h1>",
    }
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    venv = ROOT / "functions" / "venv"  # the same packages serve both codebases; a copy would take minutes
    (folder / "app" / "venv").symlink_to(venv)
    (folder / "credits").mkdir()
    (folder / "credits" / "venv").symlink_to(venv)
    return ports


def adopt_steps() -> str:
    """The ``sh`` blocks of docs/adopt.md, in order, as one script."""
    blocks = re.findall(r"^```sh\n(.*?)^```", (ROOT / "docs" / "adopt.md").read_text(), re.MULTILINE | re.DOTALL)
    assert len(blocks) >= 5, "docs/adopt.md lost its steps"
    return "set -euo pipefail\n" + "\n".join(blocks)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    folder = tmp_path_factory.mktemp("host")
    ports = make_host(folder)
    env = {**os.environ, "CREDITS": str(ROOT), "HOST": str(folder), "PYTHON": str(ROOT / "functions/venv/bin/python")}
    adopted = subprocess.run(["bash", "-c", adopt_steps()], env=env, capture_output=True, text=True, timeout=300)
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    log = folder / "emulators.log"
    emulator_env = {k: v for k, v in os.environ.items() if not k.endswith("_EMULATOR_HOST") and k != "GCLOUD_PROJECT"}
    process = subprocess.Popen(
        ["firebase", "emulators:start", "--project", PROJECT],
        cwd=folder,
        env=emulator_env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    running = Host(folder=folder, ports=ports, log=log)
    try:
        wait_for_url(running.url("hosting", "/hello"), process, 240, log)
        found = re.search(r"hosting\[credits\]: Local server: http://127\.0\.0\.1:(\d+)", log.read_text())
        assert found, log.read_text()[-3000:]
        running.ports["credits"] = int(found[1])
        wait_for_url(running.url("credits", "/api/health"), process, 120, log)
        yield running
    finally:
        stop_process_group(process)


def sign_up(host: Host, email: str) -> tuple[str, str]:
    response = requests.post(
        host.url("auth", "/identitytoolkit.googleapis.com/v1/accounts:signUp"),
        params={"key": "fake"},
        json={"email": email, "password": "correct-horse-42", "returnSecureToken": True},
        timeout=TIMEOUT_S,
    )
    response.raise_for_status()
    return response.json()["localId"], response.json()["idToken"]


def as_client(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def owner_query(host: Host, collection: str, field: str, value: str) -> list[dict[str, Any]]:
    structured = {
        "from": [{"collectionId": collection}],
        "where": {"fieldFilter": {"field": {"fieldPath": field}, "op": "EQUAL", "value": {"stringValue": value}}},
    }
    response = requests.post(
        f"{host.documents}:runQuery",
        json={"structuredQuery": structured},
        headers={"Authorization": "Bearer owner"},
        timeout=TIMEOUT_S,
    )
    response.raise_for_status()
    return [row["document"]["fields"] for row in response.json() if "document" in row]


def wait_for_entries(host: Host, job_id: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        entries = owner_query(host, "credits_ledger", "jobId", job_id)
        if len(entries) >= count:
            return sorted(entries, key=lambda e: int(e["seq"]["integerValue"]))
        time.sleep(0.5)
    raise AssertionError(f"{count} entries of {job_id} did not appear")


def test_the_host_keeps_its_function_site_and_rules(host: Host):
    assert requests.get(host.url("hosting", "/hello"), timeout=TIMEOUT_S).text == "hello from the host"
    assert "Host app" in requests.get(host.url("hosting", "/"), timeout=TIMEOUT_S).text
    uid, token = sign_up(host, "writer@example.com")
    mine = requests.post(
        f"{host.documents}/posts",
        params={"documentId": "p1"},
        json={"fields": {"author": {"stringValue": uid}, "text": {"stringValue": "hi"}}},
        headers=as_client(token),
        timeout=TIMEOUT_S,
    )
    theirs = requests.post(
        f"{host.documents}/posts",
        params={"documentId": "p2"},
        json={"fields": {"author": {"stringValue": "someone-else"}}},
        headers=as_client(token),
        timeout=TIMEOUT_S,
    )
    profile = requests.patch(
        f"{host.documents}/users/{uid}", json={"fields": {"name": {"stringValue": "W"}}}, headers=as_client(token)
    )
    assert (mine.status_code, theirs.status_code, profile.status_code) == (200, 403, 200)


def test_the_ledger_stays_closed_to_clients_under_the_merged_rules(host: Host):
    uid, token = sign_up(host, "curious@example.com")
    calls = [
        requests.get(f"{host.documents}/users/someone-else/balances/current", headers=as_client(token)),
        requests.patch(
            f"{host.documents}/users/{uid}/balances/current",
            json={"fields": {"image": {"integerValue": "1000000"}}},
            headers=as_client(token),
        ),
        requests.post(
            f"{host.documents}/credits_ledger",
            json={"fields": {"uid": {"stringValue": uid}, "amount": {"integerValue": "5"}}},
            headers=as_client(token),
        ),
        requests.patch(
            f"{host.documents}/generation_jobs/j1",
            json={"fields": {"uid": {"stringValue": uid}, "debitEntryId": {"stringValue": "forged"}}},
            headers=as_client(token),
        ),
    ]
    assert [call.status_code for call in calls] == [403] * len(calls)


def pipeline_helpers(host: Host) -> Any:
    path = host.folder / "credits" / "pipeline" / "credits_jobs.py"
    spec = importlib.util.spec_from_file_location("credits_jobs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_job_is_priced_from_the_hosts_file_debited_and_refunded_on_failure(host: Host):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import firestore

    uid, _ = sign_up(host, "maker@example.com")
    secret = re.search(r"STRIPE_WEBHOOK_SECRET=(\S+)", (host.folder / "credits" / ".secret.local").read_text())
    assert secret is not None
    bought = se.checkout_completed(
        event_id="evt_adopt", uid=uid, pack="price_pack_image_100", payment_intent="pi_adopt", session_id="cs_adopt"
    )
    payload = se.encode(bought)
    response = requests.post(
        host.url("credits", "/api/stripe/webhook"),
        data=payload.encode(),
        headers={"Stripe-Signature": se.signature_header(payload, secret[1]), "Content-Type": "application/json"},
        timeout=TIMEOUT_S,
    )
    assert response.json()["outcome"] == "processed", response.text

    jobs = pipeline_helpers(host)
    os.environ["FIRESTORE_EMULATOR_HOST"], previous = (
        f"127.0.0.1:{host.ports['firestore']}",
        os.environ.get("FIRESTORE_EMULATOR_HOST"),
    )
    try:
        db = firestore.Client(project=PROJECT, credentials=AnonymousCredentials())
        jobs.queue_job(db, "adopted-job", uid=uid, source="text2image", quality="hq", num_images=5)
        [debit] = wait_for_entries(host, "adopted-job", 1)
        jobs.fail_job(db, "adopted-job", error="the model crashed")
        entries = wait_for_entries(host, "adopted-job", 2)
    finally:
        if previous is None:
            del os.environ["FIRESTORE_EMULATOR_HOST"]
        else:
            os.environ["FIRESTORE_EMULATOR_HOST"] = previous

    assert (debit["amount"]["integerValue"], debit["meta"]["mapValue"]["fields"]["unitPrice"]["integerValue"]) == (
        "15",  # 5 HQ images at the host's price of 3
        "3",
    )
    assert [e["source"]["stringValue"] for e in entries] == ["text2image", "refund"]


def test_the_credits_app_is_served_from_its_own_hosting_target(host: Host):
    app = requests.get(host.url("credits", "/credits"), timeout=TIMEOUT_S)
    assert app.status_code == 200 and '<div id="root">' in app.text and "<title>Credits</title>" in app.text
    assert requests.get(host.url("credits", "/api/health"), timeout=TIMEOUT_S).json() == {"ok": True}
    assert host.ports["credits"] != host.ports["hosting"]
    assert "<title>Credits</title>" not in requests.get(host.url("hosting", "/"), timeout=TIMEOUT_S).text
