"""Writes of the leave balances: the ledger (one row per movement), opening balances and
the CSV import, HR adjustments, and the accrual run (yearly grant, monthly accrual,
carry-over with expiry).

The one way a balance moves is ``post`` (through ``ledger_credit`` / ``ledger_debit``):
it locks the employee's account row (``SELECT … FOR UPDATE``), refuses a debit below zero
unless the type allows a negative balance, appends the ledger row with the balance after
it and updates the account — all in the caller's transaction. A movement with a
``source`` (``"request:12:deduct"``, ``"overtime:7"``, ``"accrual:2026-03"``) is recorded
once per account: posting it again returns the first row and changes nothing, so the
accrual run and the overtime credit are idempotent.

Other apps (overtime's 调休 credit) call ``ledger_credit`` and ``balance_of``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ztk.audit.services import record
from ztk.core.errors import DomainError, PermissionDeniedError
from ztk.core.text import clean_text, is_clean_text
from ztk.org.models import Employee
from ztk.org.rules import is_hr, is_sysadmin

from .models import BalanceAccount, LeaveType, LedgerEntry, Movement
from .selectors import balance_of  # noqa: F401 - the public pair: ledger_credit / balance_of

INSUFFICIENT_BALANCE = "insufficient_balance"
NOT_TRACKED = "balance_not_tracked"
BAD_AMOUNT = "bad_amount"
UNKNOWN_TYPE = "unknown_leave_type"
BAD_IMPORT = "bad_import"

CREDITS = frozenset(
    {Movement.OPENING, Movement.GRANT, Movement.ACCRUAL, Movement.CARRY_OVER,
     Movement.RESTORATION, Movement.OVERTIME_CREDIT, Movement.ADJUSTMENT}
)  # fmt: skip
DEBITS = frozenset({Movement.EXPIRY, Movement.DEDUCTION, Movement.ADJUSTMENT})
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999")


def fmt_amount(value: Decimal, leave_type: LeaveType) -> str:
    """``1.5 days`` / ``3 hours`` in the active language."""
    number = f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"
    number = number.rstrip("0").rstrip(".") if "." in number else number
    if leave_type.in_hours:
        return str(_("%(n)s h") % {"n": number})
    return str(_("%(n)s d") % {"n": number})


def insufficient(leave_type: LeaveType, balance: Decimal, wanted: Decimal) -> DomainError:
    return DomainError(
        INSUFFICIENT_BALANCE,
        _("Not enough %(type)s balance: %(balance)s left, %(wanted)s requested.")
        % {
            "type": leave_type.name,
            "balance": fmt_amount(balance, leave_type),
            "wanted": fmt_amount(wanted, leave_type),
        },
        details={"balance": str(balance), "requested": str(wanted), "type": leave_type.code},
    )


def leave_type_of(value: LeaveType | str) -> LeaveType:
    if isinstance(value, LeaveType):
        return value
    code = str(value)
    # A code with a control character (NUL: PostgreSQL refuses it in a query) or of any
    # length no code has is simply not a type: the same refusal, before any query.
    found = (
        LeaveType.objects.filter(code=code).first()
        if is_clean_text(code) and len(code) <= LeaveType._meta.get_field("code").max_length
        else None
    )
    if found is None:
        raise DomainError(UNKNOWN_TYPE, _("There is no leave type %(code)s.") % {"code": value})
    return found


def lock_account(employee: Employee | int, leave_type: LeaveType) -> BalanceAccount:
    """The employee's account for the type, created when missing, locked until the
    transaction ends (concurrent deductions queue here, so none sees a stale balance)."""
    employee_id = employee if isinstance(employee, int) else employee.pk
    if not BalanceAccount.objects.filter(employee_id=employee_id, leave_type=leave_type).exists():
        try:
            with transaction.atomic():
                BalanceAccount.objects.create(employee_id=employee_id, leave_type=leave_type)
        except IntegrityError:
            pass  # created by a concurrent transaction meanwhile
    return BalanceAccount.objects.select_for_update().get(
        employee_id=employee_id, leave_type=leave_type
    )


def _amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError):
        raise DomainError(BAD_AMOUNT, _("Give the amount as a number.")) from None
    if not amount.is_finite() or abs(amount) > MAX_AMOUNT:
        raise DomainError(BAD_AMOUNT, _("Give the amount as a number."))
    return amount


def post(
    *,
    employee: Employee | int,
    leave_type: LeaveType,
    kind: str,
    amount: Decimal,
    source: str = "",
    effective: date | None = None,
    expires: date | None = None,
    note: str = "",
    actor: Any = None,
    allow_negative: bool | None = None,
) -> LedgerEntry:
    """Append one movement (signed `amount`) and update the balance, under the account's
    row lock. A debit that would take the balance below zero is refused
    (``insufficient_balance``, the balance in the details) unless the type — or
    `allow_negative` — allows it. Idempotent per `source`."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("leave.services.post must run inside transaction.atomic()")
    amount = _amount(amount)
    account = lock_account(employee, leave_type)
    if source:
        done = LedgerEntry.objects.filter(account=account, source=source).first()
        if done is not None:
            return done
    may_go_negative = leave_type.allow_negative if allow_negative is None else allow_negative
    after = account.balance + amount
    if amount < 0 and after < 0 and not may_go_negative:
        raise insufficient(leave_type, account.balance, -amount)
    entry = LedgerEntry.objects.create(
        account=account,
        employee_id=account.employee_id,
        leave_type=leave_type,
        kind=kind,
        amount=amount,
        balance_after=after,
        effective=effective or timezone.localdate(),
        source=source[:64],
        expires=expires,
        note=note[:200],
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    account.balance = after
    account.save(update_fields=["balance", "updated_at"])
    record(
        f"leave.ledger.{kind}",
        obj=entry,
        actor=actor,
        after={
            "employee_id": account.employee_id,
            "type": leave_type.code,
            "amount": str(amount),
            "balance": str(after),
            "effective": entry.effective,
            "source": entry.source,
        },
    )
    return entry


def ledger_credit(
    *,
    employee: Employee | int,
    leave_type: LeaveType | str,
    amount: Decimal | int | str,
    source: str,
    kind: str = Movement.OVERTIME_CREDIT,
    effective: date | None = None,
    expires: date | None = None,
    note: str = "",
    actor: Any = None,
) -> LedgerEntry:
    """Credit `amount` (> 0, in the type's unit: hours for 调休) to the employee's balance,
    once per `source` (e.g. ``"overtime:42"``). For overtime converted to time off:
    ``ledger_credit(employee=e, leave_type="compensatory", amount=Decimal("3"),
    source=f"overtime:{ot.pk}")``. Runs in (or opens) a transaction."""
    leave_type = leave_type_of(leave_type)
    if not leave_type.balance_tracked:
        raise DomainError(NOT_TRACKED, _("This leave type keeps no balance."))
    if kind not in CREDITS:
        raise DomainError(BAD_AMOUNT, _("This movement is not a credit."))
    value = _amount(amount)
    if value <= 0:
        raise DomainError(BAD_AMOUNT, _("A credit must be more than zero."))
    with transaction.atomic():
        return post(
            employee=employee,
            leave_type=leave_type,
            kind=kind,
            amount=value,
            source=source,
            effective=effective,
            expires=expires,
            note=note,
            actor=actor,
        )


def ledger_debit(
    *,
    employee: Employee | int,
    leave_type: LeaveType | str,
    amount: Decimal | int | str,
    source: str,
    kind: str = Movement.ADJUSTMENT,
    effective: date | None = None,
    note: str = "",
    actor: Any = None,
    allow_negative: bool | None = None,
) -> LedgerEntry:
    """Take `amount` (> 0) off the balance once per `source` (e.g. reversing an overtime
    credit: ``source=f"overtime:{pk}:reversal"``); refused with ``insufficient_balance``
    when the balance would go below zero and the type does not allow it."""
    leave_type = leave_type_of(leave_type)
    if not leave_type.balance_tracked:
        raise DomainError(NOT_TRACKED, _("This leave type keeps no balance."))
    if kind not in DEBITS:
        raise DomainError(BAD_AMOUNT, _("This movement is not a debit."))
    value = _amount(amount)
    if value <= 0:
        raise DomainError(BAD_AMOUNT, _("A debit must be more than zero."))
    with transaction.atomic():
        return post(
            employee=employee,
            leave_type=leave_type,
            kind=kind,
            amount=-value,
            source=source,
            effective=effective,
            note=note,
            actor=actor,
            allow_negative=allow_negative,
        )


# --------------------------------------------------------------------------- HR


def _require_hr(actor: Any) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDeniedError()
    if not (is_hr(actor) or is_sysadmin(actor)):
        raise PermissionDeniedError()


def balance_set_opening(
    *,
    actor: Any,
    employee: Employee,
    leave_type: LeaveType | str,
    balance: Decimal | int | str,
    effective: date | None = None,
    note: str = "",
) -> LedgerEntry | None:
    """Set the employee's balance to `balance` (HR): one ``opening`` movement of the
    difference (none when it already is that). The ledger keeps every earlier row."""
    _require_hr(actor)
    leave_type = leave_type_of(leave_type)
    if not leave_type.balance_tracked:
        raise DomainError(NOT_TRACKED, _("This leave type keeps no balance."))
    target = _amount(balance)
    note = clean_text(note, field="note", label=_("Note"))[:200]
    with transaction.atomic():
        account = lock_account(employee, leave_type)
        diff = target - account.balance
        if diff == 0:
            return None
        return post(
            employee=employee,
            leave_type=leave_type,
            kind=Movement.OPENING,
            amount=diff,
            effective=effective,
            note=note,
            actor=actor,
            allow_negative=True,
        )


def balance_adjust(
    *,
    actor: Any,
    employee: Employee,
    leave_type: LeaveType | str,
    amount: Decimal | int | str,
    note: str,
    effective: date | None = None,
) -> LedgerEntry:
    """HR adds (positive) or removes (negative) an amount, with a note saying why."""
    _require_hr(actor)
    leave_type = leave_type_of(leave_type)
    if not leave_type.balance_tracked:
        raise DomainError(NOT_TRACKED, _("This leave type keeps no balance."))
    value = _amount(amount)
    note = clean_text(note, field="note", label=_("Note"))[:200]
    if value == 0:
        raise DomainError(BAD_AMOUNT, _("Give an amount other than zero."))
    with transaction.atomic():
        return post(
            employee=employee,
            leave_type=leave_type,
            kind=Movement.ADJUSTMENT,
            amount=value,
            effective=effective,
            note=note,
            actor=actor,
            allow_negative=True,
        )


@dataclass(frozen=True)
class ImportResult:
    applied: int
    unchanged: int
    errors: list[dict[str, Any]]


def balances_import(
    *, actor: Any, content: str | bytes, effective: date | None = None
) -> ImportResult:
    """Opening balances from CSV (HR): columns ``employee_no,type,balance`` (a header row
    is expected). All or nothing: any bad line refuses the file, each error with its line."""
    _require_hr(actor)
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise DomainError(BAD_IMPORT, _("The file is empty."))
    header = [c.strip().lower() for c in rows[0]]
    if header[:3] != ["employee_no", "type", "balance"]:
        raise DomainError(
            BAD_IMPORT, _("The first line must be: employee_no,type,balance"), details=[]
        )
    types = {t.code: t for t in LeaveType.objects.filter(balance_tracked=True)}
    errors: list[dict[str, Any]] = []
    planned: list[tuple[Employee, LeaveType, Decimal]] = []
    numbers = {r[0].strip() for r in rows[1:] if r}
    employees = {e.employee_no: e for e in Employee.objects.filter(employee_no__in=numbers)}
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) < 3:
            errors.append({"line": line, "message": str(_("Three columns are needed."))})
            continue
        number, code, value = (c.strip() for c in row[:3])
        employee = employees.get(number)
        if employee is None:
            errors.append({"line": line, "message": str(_("Unknown employee number."))})
            continue
        leave_type = types.get(code)
        if leave_type is None:
            errors.append({"line": line, "message": str(_("Unknown type or no balance kept."))})
            continue
        try:
            amount = _amount(value)
        except DomainError as error:
            errors.append({"line": line, "message": error.message})
            continue
        planned.append((employee, leave_type, amount))
    if errors:
        raise DomainError(BAD_IMPORT, _("The file has errors; nothing was imported."),
                          details=errors)  # fmt: skip
    applied = unchanged = 0
    with transaction.atomic():
        for employee, leave_type, amount in planned:
            entry = balance_set_opening(
                actor=actor,
                employee=employee,
                leave_type=leave_type,
                balance=amount,
                effective=effective,
                note=str(_("CSV import")),
            )
            if entry is None:
                unchanged += 1
            else:
                applied += 1
    return ImportResult(applied, unchanged, [])


# --------------------------------------------------------------------------- accrual


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def accrue(*, today: date | None = None) -> int:
    """Apply every balance-tracked type's rules up to `today` for every active employee;
    returns the movements written. Idempotent (each movement has its source: running it
    twice, or after a missed day, writes each once):

    - ``grant:<year>``: the yearly grant, effective 1 January;
    - ``accrual:<year>-<month>``: the monthly accrual, effective the first of the month;
    - at the year end, when the type limits carry-over: ``yearend:<year>`` expires the
      balance left on 31 December and ``carry:<year>`` credits back at most
      ``carry_over_max`` (expiring after ``carry_over_expiry_months`` when set);
    - ``carry-expiry:<year>``: on the expiry date, what was carried over and not used by
      then (leave taken first uses the carried-over days) expires.
    """
    today = today or timezone.localdate()
    written = 0
    types = list(LeaveType.objects.filter(balance_tracked=True, active=True))
    employees = list(
        Employee.objects.filter(active=True)
        .exclude(hire_date__gt=today)
        .exclude(leave_date__lt=today)
        .order_by("pk")
    )
    year_start = date(today.year, 1, 1)
    month_start = today.replace(day=1)
    for leave_type in types:
        for employee in employees:
            with transaction.atomic():
                written += _accrue_one(employee, leave_type, year_start, month_start, today)
    return written


def _once(employee: Employee, leave_type: LeaveType, source: str) -> bool:
    return not LedgerEntry.objects.filter(
        employee=employee, leave_type=leave_type, source=source
    ).exists()


def _accrue_one(
    employee: Employee, leave_type: LeaveType, year_start: date, month_start: date, today: date
) -> int:
    count = 0
    year = year_start.year
    if leave_type.carry_over_max is not None and _once(employee, leave_type, f"yearend:{year - 1}"):
        left = balance_of(employee, leave_type, at=year_start - timedelta(days=1))
        had_ledger = LedgerEntry.objects.filter(
            employee=employee, leave_type=leave_type, effective__lt=year_start
        ).exists()
        if had_ledger and left > 0:
            kept = min(left, leave_type.carry_over_max)
            months = leave_type.carry_over_expiry_months
            post(employee=employee, leave_type=leave_type, kind=Movement.EXPIRY, amount=-left,
                 source=f"yearend:{year - 1}", effective=year_start,
                 note=str(_("Year-end balance")), allow_negative=True)  # fmt: skip
            count += 1
            if kept > 0:
                post(employee=employee, leave_type=leave_type, kind=Movement.CARRY_OVER,
                     amount=kept, source=f"carry:{year - 1}", effective=year_start,
                     expires=_add_months(year_start, months) if months else None)  # fmt: skip
                count += 1
    if leave_type.yearly_grant > 0 and _once(employee, leave_type, f"grant:{year}"):
        post(employee=employee, leave_type=leave_type, kind=Movement.GRANT,
             amount=leave_type.yearly_grant, source=f"grant:{year}",
             effective=year_start)  # fmt: skip
        count += 1
    key = f"accrual:{month_start:%Y-%m}"
    if leave_type.monthly_accrual > 0 and _once(employee, leave_type, key):
        post(employee=employee, leave_type=leave_type, kind=Movement.ACCRUAL,
             amount=leave_type.monthly_accrual, source=key, effective=month_start)  # fmt: skip
        count += 1
    carried = LedgerEntry.objects.filter(
        employee=employee, leave_type=leave_type, kind=Movement.CARRY_OVER,
        expires__isnull=False, expires__lte=today,
    ).order_by("pk")  # fmt: skip
    for entry in carried:
        source = f"carry-expiry:{entry.effective.year}"
        if not _once(employee, leave_type, source) or entry.expires is None:
            continue
        used = -(
            LedgerEntry.objects.filter(
                employee=employee, leave_type=leave_type,
                kind__in=(Movement.DEDUCTION, Movement.RESTORATION),
                effective__gte=entry.effective, effective__lt=entry.expires,
            ).aggregate(s=Sum("amount"))["s"] or Decimal(0)
        )  # fmt: skip
        unused = max(Decimal(0), entry.amount - max(used, Decimal(0)))
        account = lock_account(employee, leave_type)
        lapse = min(unused, max(account.balance, Decimal(0)))
        if lapse > 0:
            post(employee=employee, leave_type=leave_type, kind=Movement.EXPIRY, amount=-lapse,
                 source=source, effective=entry.expires,
                 note=str(_("Carried-over balance expired")))  # fmt: skip
            count += 1
    return count
