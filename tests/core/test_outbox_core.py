"""One outbox core: the robots' and e-mail outbox and the payroll webhooks both run on
ztk.core.webhooks (claim, retries, marking), none keeps a run loop of its own."""

from __future__ import annotations

import re
from pathlib import Path

import ztk

ROOT = Path(ztk.__file__).parent
# What a run loop of its own would have to write: a claim, or the bookkeeping of a failure.
MARKER = re.compile(r"\bafter_failure\(|\bclaim\(|next_attempt_at__lte|on_commit\(enqueue")


def test_only_the_core_runs_an_outbox():
    owners = {
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if "migrations" not in path.parts and MARKER.search(path.read_text(encoding="utf-8"))
    }
    assert owners == {"core/webhooks.py"}


def test_both_outboxes_deliver_through_the_core():
    for module in ("notifications/delivery.py", "reports/payroll.py"):
        assert "deliver_due(" in (ROOT / module).read_text(encoding="utf-8"), module
