"""The HR desk sits above corrections: it uses corrections' public names only, and
corrections never imports the desk."""

from __future__ import annotations

import ast
from pathlib import Path

import ztk

ROOT = Path(ztk.__file__).parent


def _modules(app: str):
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_the_desk_borrows_no_private_name_of_corrections():
    borrowed = []
    for path, tree in _modules("hrdesk"):
        aliases = {}  # local name -> corrections module it stands for
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "ztk.corrections"
            ):
                for name in node.names:
                    if name.name.startswith("_"):
                        borrowed.append(f"{path.name}: {node.module}.{name.name}")
                    aliases[name.asname or name.name] = f"{node.module}.{name.name}"
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                borrowed.append(f"{path.name}: {aliases[node.value.id]}.{node.attr}")
    assert borrowed == []


def test_corrections_does_not_import_the_desk():
    found = []
    for path, tree in _modules("corrections"):
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            found += [f"{path.name}: {n}" for n in names if n.startswith("ztk.hrdesk")]
    assert found == []
