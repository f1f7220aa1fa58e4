"""``scripts/adopt_project.py``: the credits codebase and Hosting target join a host's config, once."""

from __future__ import annotations

import json
from pathlib import Path

import adopt_project
import pytest

HOST = {
    "functions": {"source": "functions", "codebase": "default", "runtime": "nodejs22"},
    "hosting": {"public": "public", "rewrites": [{"source": "**", "destination": "/index.html"}]},
    "firestore": {"rules": "firestore.rules"},
}


def host(tmp_path: Path, firebase: dict, rc: dict | None = None) -> Path:
    (tmp_path / "firebase.json").write_text(json.dumps(firebase))
    (tmp_path / ".firebaserc").write_text(json.dumps(rc or {"projects": {"default": "my-app"}}))
    return tmp_path


def test_the_codebase_and_target_are_added_beside_the_hosts_and_nothing_else_changes(tmp_path: Path):
    folder = host(tmp_path, HOST)
    assert adopt_project.main([str(folder), "--site", "my-app-credits"]) == 0
    first = (folder / "firebase.json").read_text(), (folder / ".firebaserc").read_text()
    assert adopt_project.main([str(folder), "--site", "my-app-credits"]) == 0  # again: nothing changes
    assert ((folder / "firebase.json").read_text(), (folder / ".firebaserc").read_text()) == first

    firebase, rc = json.loads(first[0]), json.loads(first[1])
    assert firebase["firestore"] == HOST["firestore"]
    host_codebase, credits = firebase["functions"]
    assert host_codebase == HOST["functions"]
    assert (credits["codebase"], credits["source"], credits["runtime"]) == ("credits", "credits", "python311")
    assert "venv" in credits["ignore"]
    host_site, app = firebase["hosting"]
    assert host_site == {"site": "my-app", **HOST["hosting"]}  # a list names every site
    assert (app["target"], app["public"]) == ("credits", "credits-web")
    assert app["rewrites"][0] == {"source": "/api/**", "function": {"functionId": "credits_api"}}
    assert rc == {
        "projects": {"default": "my-app"},
        "targets": {"my-app": {"hosting": {"credits": ["my-app-credits"]}}},
    }


@pytest.mark.parametrize(
    ("firebase", "rc", "refusal"),
    [
        ({**HOST, "functions": [{"source": "other", "codebase": "credits"}]}, None, "a codebase 'credits' already"),
        (HOST, {"projects": {}}, "no default project"),
        (
            HOST,
            {"projects": {"default": "my-app"}, "targets": {"my-app": {"hosting": {"credits": ["elsewhere"]}}}},
            "applied to ['elsewhere'] already",
        ),
    ],
)
def test_a_host_with_credits_configured_otherwise_is_refused_and_nothing_written(
    tmp_path, capsys, firebase, rc, refusal
):
    folder = host(tmp_path, firebase, rc)
    before = (folder / "firebase.json").read_text(), (folder / ".firebaserc").read_text()
    assert adopt_project.main([str(folder)]) == 2
    assert refusal in capsys.readouterr().err
    assert ((folder / "firebase.json").read_text(), (folder / ".firebaserc").read_text()) == before
