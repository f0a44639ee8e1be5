"""Writes of the oversight app: run the rules, handle a finding, change the thresholds.

Every write is permission-checked, atomic and audited (``ztk.audit.services.record``).
``findings_run`` reads its rows with the set-based selectors (a few queries per run),
applies the pure rules of ``checks`` and stores each hit by its key: a finding found again
gets its new figures and evidence, keeps its state and note; a new one opens.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ztk.audit.services import record
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.core.text import clean_text
from ztk.org.rules import can_change_finding_thresholds, can_see_findings

from . import checks, punch_checks, punch_selectors, selectors
from .models import Finding, FindingThresholds, State
from .rules import can_handle

NOTE_MAX = 500
NOTE_MIN = 2
PERIODS_CHECKED = 2  # the current period and the one before it
CHUNK = 500

NOTE_REQUIRED = "note_required"
NOT_OPEN = "finding_not_open"


@dataclass
class RunResult:
    created: int = 0
    updated: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)
    periods: list[tuple[date, date]] = field(default_factory=list)


def compute_hits(periods: list[tuple[date, date]], limits: checks.Limits) -> list[checks.Hit]:
    """Every rule over the periods (the streak of the frequent correctors looks further
    back). Reads: one query per kind of row, whatever the number of people."""
    streak = max(limits.corrector_streak_periods, 1)
    history = selectors.periods_to_check(periods[-1][0], len(periods) + streak - 1)
    corrections = selectors.correction_rows(history)
    check = [start for start, _end in periods]
    hits: list[checks.Hit] = []
    hits += checks.frequent_correctors(
        corrections,
        periods=history,
        members=selectors.group_members(),
        monthly_limits=selectors.monthly_limits(),
        limits=limits,
        check=check,
    )
    recent = [r for r in corrections if r.period_start in set(check)]
    hits += checks.cutoff_clusters(recent, periods=periods, limits=limits)
    hits += checks.repeated_reasons(recent, periods=periods, limits=limits)
    hits += checks.rubber_stamp_approvers(
        selectors.decision_rows(periods), periods=periods, limits=limits
    )
    hits += checks.buddy_punches(selectors.punch_rows(periods), periods=periods, limits=limits)
    hits += checks.hr_activity(selectors.operator_rows(periods), periods=periods, limits=limits)
    positions = punch_selectors.position_rows(periods, history_days=limits.device_history_days)
    hits += punch_checks.outside_fences(
        positions, periods=periods, fences=punch_selectors.group_fences(), limits=limits
    )
    hits += punch_checks.implausible_jumps(positions, periods=periods, limits=limits)
    hits += punch_checks.new_devices(positions, periods=periods, limits=limits)
    return hits


def _apply(finding: Finding, hit: checks.Hit, now: datetime) -> None:
    finding.rule = hit.rule
    finding.severity = hit.severity
    finding.employee_id = hit.employee_id
    finding.other_employee_id = hit.other_employee_id
    finding.user_id = hit.user_id
    finding.period_start = hit.start
    finding.period_end = hit.end
    finding.params = hit.params
    finding.evidence = [e.as_dict() for e in hit.evidence]
    finding.last_found_at = now


UPDATED_FIELDS = [
    "severity",
    "employee",
    "other_employee",
    "user",
    "period_end",
    "params",
    "evidence",
    "last_found_at",
]


def findings_run(*, actor: Any = None, now: datetime | None = None) -> RunResult:
    """Run every rule over the current and the previous period and store the findings.
    ``actor`` None: the nightly task; a person must be HR or an auditor."""
    if actor is not None and not can_see_findings(actor):
        raise PermissionDeniedError()
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    periods = selectors.periods_to_check(today, PERIODS_CHECKED)
    # Read and judge outside the transaction: on SQLite a transaction that writes holds the
    # database's write lock from its start, and terminals must not wait for the rules.
    limits = selectors.thresholds().as_limits()
    hits = compute_hits(periods, limits)
    with transaction.atomic():
        # one storing run at a time (the nightly task and a "run now" click): the second
        # waits here and then finds the first one's findings by key
        FindingThresholds.objects.select_for_update().filter(pk=1).first()
        by_key = {hit.key: hit for hit in hits}
        keys = list(by_key)
        existing: dict[str, Finding] = {}
        for i in range(0, len(keys), CHUNK):
            existing.update(Finding.objects.in_bulk(keys[i : i + CHUNK], field_name="key"))
        new, changed = [], []
        for key, hit in by_key.items():
            finding = existing.get(key)
            if finding is None:
                finding = Finding(key=key, first_found_at=now, state=State.OPEN)
                _apply(finding, hit, now)
                new.append(finding)
            else:
                _apply(finding, hit, now)
                changed.append(finding)
        Finding.objects.bulk_create(new, batch_size=CHUNK)
        Finding.objects.bulk_update(changed, UPDATED_FIELDS, batch_size=CHUNK)
        result = RunResult(
            created=len(new),
            updated=len(changed),
            by_rule=dict(Counter(hit.rule for hit in hits)),
            periods=periods,
        )
        record(
            "oversight.findings.run",
            object_type="oversight.finding",
            actor=actor,
            extra={
                "created": result.created,
                "updated": result.updated,
                "by_rule": result.by_rule,
                "periods": [[s.isoformat(), e.isoformat()] for s, e in periods],
            },
        )
    return result


def _handle(*, actor: Any, finding: Finding, state: str, note: Any, note_required: bool) -> Finding:
    if not can_see_findings(actor) or not can_handle(actor, finding):
        raise PermissionDeniedError()
    text = clean_text(note, field="note", label=_("Note"), multiline=True, max_length=NOTE_MAX)
    text = " ".join(text.split())
    if note_required and len(text) < NOTE_MIN:
        raise DomainError(
            NOTE_REQUIRED,
            _("Say why the finding is dismissed (a note of at least two characters)."),
        )
    with transaction.atomic():
        locked = Finding.objects.select_for_update().get(pk=finding.pk)
        if locked.state != State.OPEN:
            raise DomainError(
                NOT_OPEN,
                _("This finding was already handled (%(state)s).")
                % {"state": State(locked.state).label},
                details={"state": locked.state},
            )
        before = {"state": locked.state}
        locked.state = state
        locked.note = text
        locked.handled_by = actor
        locked.handled_at = timezone.now()
        locked.save(update_fields=["state", "note", "handled_by", "handled_at"])
        record(
            f"oversight.finding.{'acknowledge' if state == State.ACKNOWLEDGED else 'dismiss'}",
            obj=locked,
            actor=actor,
            before=before,
            after={"state": state, "note": text},
            extra={"rule": locked.rule, "key": locked.key},
        )
    return locked


def finding_acknowledge(*, actor: Any, finding: Finding, note: Any = "") -> Finding:
    """Open → acknowledged (the finding is real and being dealt with); the note is optional."""
    return _handle(
        actor=actor, finding=finding, state=State.ACKNOWLEDGED, note=note, note_required=False
    )


def finding_dismiss(*, actor: Any, finding: Finding, note: Any) -> Finding:
    """Open → dismissed (not a problem); the note saying why is required."""
    return _handle(
        actor=actor, finding=finding, state=State.DISMISSED, note=note, note_required=True
    )


def _label(name: str) -> str:
    return str(getattr(FindingThresholds._meta.get_field(name), "verbose_name", name))


def thresholds_update(*, actor: Any, values: dict[str, Any]) -> FindingThresholds:
    """HR changes the thresholds; every field is validated, nothing is saved on a refusal."""
    if not can_change_finding_thresholds(actor):
        raise PermissionDeniedError()
    names = FindingThresholds.field_names()
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise DomainError(
            "unknown_threshold",
            _("Unknown thresholds: %(names)s.") % {"names": ", ".join(unknown)},
            details={"fields": unknown},
        )
    with transaction.atomic():
        row = FindingThresholds.objects.select_for_update().get(pk=selectors.thresholds().pk)
        before = {name: getattr(row, name) for name in names}
        for name, value in values.items():
            setattr(row, name, value)
        try:
            row.full_clean()
        except ValidationError as exc:
            raise DomainError(
                "invalid_thresholds",
                "; ".join(
                    f"{_label(name)}: {' '.join(problems)}"
                    for name, problems in exc.message_dict.items()
                ),
                details={"fields": sorted(exc.message_dict)},
            ) from None
        if row.work_end_hour <= row.work_start_hour:
            raise DomainError(
                "invalid_thresholds",
                _("The working hours must end after they start."),
                details={"fields": ["work_end_hour"]},
            )
        row.save()
        after = {name: getattr(row, name) for name in names}
        record(
            "oversight.thresholds.update",
            obj=row,
            actor=actor,
            before={k: v for k, v in before.items() if after[k] != v},
            after={k: v for k, v in after.items() if before[k] != v},
        )
    return row
