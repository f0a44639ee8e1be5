"""Project imports belong at the top of a module (docs/layers.md, "Function-level imports").

An import of a ztk module inside a function hides a dependency from the reader (and used
to hide upward imports from review). It is allowed only where a cycle is genuine, or in an
AppConfig.ready() that must wait for the app registry; a one-line ``# cycle: …`` or
``# registry: …`` comment says which, on the import's line or above it in the same run of
imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "ztk"
REASONS = ("# cycle:", "# registry:")


def _is_project(node: ast.AST) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] == "ztk"
    if isinstance(node, ast.Import):
        return any(alias.name.split(".")[0] == "ztk" for alias in node.names)
    return False


def unexplained_imports(source: str) -> list[int]:
    """Line numbers of function-level project imports without a reason comment."""
    lines = source.splitlines()
    tree = ast.parse(source)
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for block in ast.walk(function):
            for field in ("body", "orelse", "finalbody"):
                body = getattr(block, field, None)
                if not isinstance(body, list) or not body or not isinstance(body[0], ast.stmt):
                    continue
                # A reason stands on the import's line or above it in the same run of
                # imports (comments and blank lines between them are fine).
                start = body[0].lineno - 1
                for statement in body:
                    if not isinstance(statement, ast.Import | ast.ImportFrom):
                        start = (statement.end_lineno or statement.lineno) + 1
                        continue
                    if not _is_project(statement):
                        continue
                    end = statement.end_lineno or statement.lineno
                    text = "\n".join(lines[start - 1 : end])
                    if not any(reason in text for reason in REASONS):
                        found.append(statement.lineno)
    return sorted(set(found))


def _modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "migrations" not in p.parts)


def test_every_function_level_project_import_says_why() -> None:
    offenders = [
        f"{path.relative_to(ROOT.parent)}:{line}"
        for path in _modules()
        for line in unexplained_imports(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, (
        "Move these imports to the module top, or say why they cannot be there with a "
        "'# cycle: …' (or '# registry: …' in AppConfig.ready) comment:\n" + "\n".join(offenders)
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from ztk.core import text\n\ndef f():\n    return text\n", []),
        ("def f():\n    from ztk.core import text\n    return text\n", [2]),
        ("def f():\n    from . import models\n    return models\n", [2]),
        ("def f():\n    import json\n    return json\n", []),
        ("def f():\n    # cycle: a -> b -> a\n    from ztk.core import text\n", []),
        ("def f():\n    from ztk.core import text  # cycle: a -> b -> a\n", []),
        (
            "def ready():\n    # registry: models\n    from ztk import a\n\n    from . import b\n",
            [],
        ),
        ("def f():\n    # cycle: x\n    g()\n    from ztk.core import text\n", [4]),
        ("class C:\n    def m(self):\n        if 1:\n            from ztk import a\n", [4]),
        ("def f():\n    try:\n        pass\n    finally:\n        from ztk import a\n", [5]),
    ],
)
def test_the_checker(source: str, expected: list[int]) -> None:
    assert unexplained_imports(source) == expected
