"""The layout of ``functions/credits``: subpackages by concern, imports running one way.

Each package's docstring ends with the line ``May import: <packages>`` (or "nothing else of
``credits``"): the core at the bottom, flows and the read side on it, operations above
both, HTTP on top. This test reads those lines and walks every module's AST; an import
the docstrings forbid fails it, naming the file, the line and the import.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CREDITS = ROOT / "functions" / "credits"
MAY_IMPORT = re.compile(r"^May import: (.+?)\.?$", re.MULTILINE)


def allowed_imports(credits: Path) -> dict[str, set[str]]:
    """Each package's name and the packages its docstring lets it import (itself included)."""
    allowed = {}
    for init in sorted(credits.glob("*/__init__.py")):
        package = init.parent.name
        docstring = ast.get_docstring(ast.parse(init.read_text())) or ""
        found = MAY_IMPORT.search(docstring)
        assert found, f"{init.relative_to(credits.parent)}: the docstring names no 'May import:' line"
        named = set() if found[1].startswith("nothing") else {name.strip() for name in found[1].split(",")}
        allowed[package] = named | {package}
    return allowed


def imported_packages(path: Path) -> list[tuple[int, str, str]]:
    """(line, import as written, the ``credits`` package it reaches) for each import of ``credits``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [(alias.name, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            written = f"from {node.module} import {', '.join(alias.name for alias in node.names)}"
            targets = [(written, f"{node.module}.{alias.name}") for alias in node.names]
        else:
            continue
        for written, dotted in targets:
            parts = dotted.split(".")
            if parts[0] == "credits" and len(parts) > 1:
                found.append((node.lineno, written, parts[1]))
    return found


def forbidden_imports(credits: Path) -> list[str]:
    allowed = allowed_imports(credits)
    problems = []
    for path in sorted(credits.rglob("*.py")):
        relative = path.relative_to(credits.parent)
        if path.parent == credits:
            if path.name != "__init__.py":
                problems.append(f"{relative}: a module outside the packages ({', '.join(sorted(allowed))})")
            continue
        package = path.relative_to(credits).parts[0]
        for line, written, target in imported_packages(path):
            if target not in allowed[package]:
                may = ", ".join(sorted(allowed[package] - {package})) or "nothing else"
                problems.append(f"{relative}:{line}: {written} reaches {target}, but {package} may import {may}")
    return sorted(set(problems))


def test_imports_run_the_way_the_package_docstrings_say():
    assert forbidden_imports(CREDITS) == []


def test_the_layers_are_core_flows_and_reads_operations_api():
    assert allowed_imports(CREDITS) == {
        "core": {"core"},
        "flows": {"core", "flows"},
        "reads": {"core", "reads"},
        "operations": {"core", "flows", "reads", "operations"},
        "api": {"core", "flows", "reads", "operations", "api"},
    }


def test_an_import_against_the_layers_is_named_with_its_file(tmp_path: Path):
    credits = tmp_path / "credits"
    for package, may in (("core", "nothing else of ``credits``"), ("flows", "core")):
        (credits / package).mkdir(parents=True)
        (credits / package / "__init__.py").write_text(f'"""A layer.\n\nMay import: {may}.\n"""\n')
    (credits / "__init__.py").write_text("")
    (credits / "core" / "ledger.py").write_text("from credits.flows import jobs\nfrom credits.core import keys\n")
    (credits / "flows" / "jobs.py").write_text("import credits.core.ledger\nfrom credits.core.ledger import Source\n")
    (credits / "stray.py").write_text("")

    assert forbidden_imports(credits) == [
        "credits/core/ledger.py:1: from credits.flows import jobs reaches flows, but core may import nothing else",
        "credits/stray.py: a module outside the packages (core, flows)",
    ]
