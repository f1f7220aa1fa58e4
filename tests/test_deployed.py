"""The deployed package holds what runs in production, and nothing only tests or tools use."""

from __future__ import annotations

import ast
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parents[1] / "functions"


def credits_imports(path: Path) -> set[str]:
    """The ``credits`` modules a source file imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[1] for alias in node.names if alias.name.startswith("credits.")}
        elif isinstance(node, ast.ImportFrom) and node.module == "credits":
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("credits."):
            found.add(node.module.split(".")[1])
    return found


def test_every_deployed_module_is_reached_from_the_functions():
    modules = {path.stem for path in (FUNCTIONS / "credits").glob("*.py")} - {"__init__"}
    reached: set[str] = set()
    pending = credits_imports(FUNCTIONS / "main.py")
    while pending:
        module = pending.pop()
        if module not in reached:
            reached.add(module)
            pending |= credits_imports(FUNCTIONS / "credits" / f"{module}.py")
    assert modules - reached == set(), "only tests or offline tools use these: move them out of functions/"
