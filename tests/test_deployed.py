"""The deployed package holds what runs in production, and nothing only tests or tools use;
``firebase deploy`` packs all of it, subpackages included, and not the pipeline's helpers
(``functions/pipeline``)."""

from __future__ import annotations

import ast
import json
import subprocess
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"
CREDITS = FUNCTIONS / "credits"


def module_path(module: str) -> Path:
    """``credits.core.ledger`` → its file (a package's is its ``__init__.py``)."""
    path = FUNCTIONS.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def credits_imports(path: Path) -> set[str]:
    """The ``credits`` modules a source file imports, by dotted name."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("credits.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "credits":
            for alias in node.names:
                # `from credits.core import ledger` names a module; `from credits.core.ledger import X` a name in one.
                below = f"{node.module}.{alias.name}"
                found.add(below if module_path(below).exists() else node.module)
    return found


def test_every_deployed_module_is_reached_from_the_functions():
    modules = {
        ".".join(path.relative_to(FUNCTIONS).with_suffix("").parts)
        for path in CREDITS.rglob("*.py")
        if path.name != "__init__.py"
    }
    reached: set[str] = set()
    pending = credits_imports(FUNCTIONS / "main.py")
    while pending:
        module = pending.pop()
        if module not in reached:
            reached.add(module)
            pending |= credits_imports(module_path(module))
    assert modules - reached == set(), "only tests or offline tools use these: move them out of functions/"


PACK = """
const { prepareFunctionsUpload } = require("firebase-tools/lib/deploy/functions/prepareFunctionsUpload");
const config = JSON.parse(process.argv[1]);
prepareFunctionsUpload(process.cwd(), config.source, config, []).then((packed) => {
  console.log(JSON.stringify(packed.pathToSource));
});
"""


def test_firebase_deploy_packs_every_module_and_the_openapi_document():
    """The archive ``firebase deploy`` uploads, made by firebase-tools' own packing code."""
    [codebase] = json.loads((ROOT / "firebase.json").read_text())["functions"]
    config = {**codebase, "source": str(FUNCTIONS)}
    run = subprocess.run(
        ["node", "-e", PACK, json.dumps(config)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    archive = Path(json.loads(run.stdout.strip().splitlines()[-1]))
    try:
        with zipfile.ZipFile(archive) as packed:
            names = set(packed.namelist())
    finally:
        archive.unlink()

    sources = {
        str(path.relative_to(FUNCTIONS))
        for pattern in ("*.py", "*.yaml")
        for path in CREDITS.rglob(pattern)
        if "__pycache__" not in path.parts
    }
    assert {
        "main.py",
        "requirements.txt",
        "credits.config.yaml",
        "credits/api/openapi.yaml",
        "credits/core/ledger.py",
    } <= names
    assert sources - names == set()
    assert not [name for name in names if name.startswith(("venv/", ".secret")) or "__pycache__" in name]
    # The pipeline's helpers are the host's code, next to the functions but never deployed with them.
    assert (FUNCTIONS / "pipeline" / "credits_jobs.py").exists()
    assert not [name for name in names if name.startswith("pipeline/")]
