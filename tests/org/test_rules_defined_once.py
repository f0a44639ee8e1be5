"""Permissions are defined once, as django-rules predicates, below the faces.

Before, `web/access.py` held the section permissions and the corrections, oversight,
period and report pages imported it from below; the attendance pages defined
`can_view_team` again beside `can_see_team`. Now they live in `ztk.org.rules` (or an app's
own rules.py), and no app below the faces imports `ztk.web`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.urls import reverse

import ztk
from ztk.org import rules

ROOT = Path(ztk.__file__).parent
FACES = {"web", "api"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_nothing_below_the_faces_imports_ztk_web():
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if path.relative_to(ROOT).parts[0] not in FACES
        and any(m == "ztk.web" or m.startswith("ztk.web.") for m in _imports(path))
    ]
    assert offenders == []


def test_no_permission_is_combined_outside_a_rules_module():
    # A permission is a predicate combined with | or &; only rules modules define them.
    offenders = []
    for path in ROOT.rglob("*.py"):
        if path.name == "rules.py" or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.BinOp)
                and isinstance(node.value.op, ast.BitOr)
                and any(
                    isinstance(n, ast.Name) and (n.id.startswith("is_") or n.id.startswith("can_"))
                    for n in ast.walk(node.value)
                )
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


@pytest.mark.parametrize("who", ["employee", "supervisor", "head", "hr", "sysadmin", "auditor"])
def test_the_team_link_shows_exactly_when_the_team_page_opens(client, org, who):
    user = org.sysadmin if who == "sysadmin" else getattr(org, who).user
    client.force_login(user)

    opens = client.get(reverse("attendance:team")).status_code == 200
    home = client.get(reverse("attendance:home")).content.decode()

    assert opens == bool(rules.can_see_team(user))
    assert (reverse("attendance:team") in home) == opens
