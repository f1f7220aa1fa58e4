"""Start and stop the official Firebase emulators for tests and benchmarks.

The processes are started in their own process group and stopped by it, so a test run
leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SUITE_PROJECT = "demo-credits"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_url(url: str, process: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"emulator exited early; see {log}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} not ready after {timeout}s; see {log}")


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _emulator_jar() -> str:
    jar = os.environ.get("FIRESTORE_EMULATOR_JAR") or os.environ.get("FIRESTORE_EMULATOR_BINARY_PATH")
    if not jar or not Path(jar).is_file():
        raise RuntimeError("no Firestore emulator jar: run scripts/setup.sh and source .local/env.sh")
    return jar


@dataclass
class FirestoreEmulator:
    host: str
    project: str
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, root: Path, *, project: str) -> FirestoreEmulator:
        port = free_port()
        log = root / ".local" / f"firestore-emulator-{port}.log"
        log.parent.mkdir(exist_ok=True)
        process = subprocess.Popen(
            [
                "java",
                "-Duser.language=en",
                "-jar",
                _emulator_jar(),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--project_id",
                project,
                "--rules",
                str(root / "firestore.rules"),
            ],
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_url(f"http://127.0.0.1:{port}/", process, 60, log)
        return cls(host=f"127.0.0.1:{port}", project=project, process=process)

    def reset(self) -> None:
        url = f"http://{self.host}/emulator/v1/projects/{self.project}/databases/(default)/documents"
        urllib.request.urlopen(urllib.request.Request(url, method="DELETE"), timeout=30).close()

    def stop(self) -> None:
        stop_process_group(self.process)


@dataclass
class AuthEmulator:
    """The Firebase Auth emulator alone, on free ports, for tests of code that looks users up."""

    host: str
    project: str
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, root: Path, *, project: str) -> AuthEmulator:
        port, hub, logging = free_port(), free_port(), free_port()
        folder = root / ".local" / f"auth-emulator-{port}"
        folder.mkdir(parents=True, exist_ok=True)
        emulators = {
            "auth": {"port": port},
            "hub": {"port": hub},
            "logging": {"port": logging},
            "ui": {"enabled": False},
        }
        (folder / "firebase.json").write_text(json.dumps({"emulators": emulators}))
        log = folder / "emulator.log"
        process = subprocess.Popen(
            ["firebase", "emulators:start", "--only", "auth", "--project", project, "--config", "firebase.json"],
            cwd=folder,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for_url(f"http://127.0.0.1:{port}/", process, 120, log)
        except Exception:
            stop_process_group(process)
            raise
        return cls(host=f"127.0.0.1:{port}", project=project, process=process)

    def reset(self) -> None:
        url = f"http://{self.host}/emulator/v1/projects/{self.project}/accounts"
        urllib.request.urlopen(urllib.request.Request(url, method="DELETE"), timeout=30).close()

    def stop(self) -> None:
        stop_process_group(self.process)


@contextlib.contextmanager
def firestore_for(root: Path, project: str) -> Iterator[FirestoreEmulator]:
    """A Firestore emulator that ``credits.core.firestore_client.db()`` talks to, for a script's lifetime."""
    emulator = FirestoreEmulator.start(root, project=project)
    try:
        os.environ["FIRESTORE_EMULATOR_HOST"] = emulator.host
        os.environ["GCLOUD_PROJECT"] = project
        print(f"Firestore emulator at {emulator.host}, project {project}")
        yield emulator
    finally:
        emulator.stop()


@dataclass
class Suite:
    """The whole Emulator Suite on the ports of firebase.json."""

    process: subprocess.Popen[bytes]
    project: str = SUITE_PROJECT
    hosting: str = "http://127.0.0.1:5000"
    firestore: str = "127.0.0.1:8080"
    auth: str = "127.0.0.1:9099"

    @classmethod
    def start(cls, root: Path) -> Suite:
        log = root / ".local" / "suite-emulators.log"
        log.parent.mkdir(exist_ok=True)
        process = subprocess.Popen(
            ["firebase", "emulators:start", "--project", SUITE_PROJECT],
            cwd=root,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        suite = cls(process=process)
        try:
            wait_for_url(f"{suite.hosting}/api/health", process, 180, log)
        except Exception:
            stop_process_group(process)
            raise
        return suite

    def reset(self) -> None:
        url = f"http://{self.firestore}/emulator/v1/projects/{self.project}/databases/(default)/documents"
        urllib.request.urlopen(urllib.request.Request(url, method="DELETE"), timeout=30).close()
        url = f"http://{self.auth}/emulator/v1/projects/{self.project}/accounts"
        urllib.request.urlopen(urllib.request.Request(url, method="DELETE"), timeout=30).close()

    def stop(self) -> None:
        stop_process_group(self.process)
