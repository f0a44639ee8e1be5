"""The default leave types (HR edits or deactivates them; codes are stable)."""

from decimal import Decimal

from django.db import migrations

DEFAULTS = [
    # code, 中文, English, paid, unit, proof, notice days, balance, negative, order, yearly
    ("annual", "年假", "Annual leave", True, "half_day", False, 0, True, False, 10, "5"),
    ("sick", "病假", "Sick leave", True, "half_day", True, 0, False, False, 20, "0"),
    ("personal", "事假", "Personal leave", False, "half_day", False, 1, False, False, 30, "0"),
    ("marriage", "婚假", "Marriage leave", True, "day", True, 7, False, False, 40, "0"),
    ("maternity", "产假", "Maternity leave", True, "day", True, 0, False, False, 50, "0"),
    ("bereavement", "丧假", "Bereavement leave", True, "day", False, 0, False, False, 60, "0"),
    (
        "compensatory",
        "调休",
        "Time off in lieu (调休)",
        True,
        "hour",
        False,
        0,
        True,
        False,
        70,
        "0",
    ),
]


def seed(apps, schema_editor):
    LeaveType = apps.get_model("leave", "LeaveType")
    for code, zh, en, paid, unit, proof, notice, tracked, negative, order, yearly in DEFAULTS:
        LeaveType.objects.get_or_create(
            code=code,
            defaults={
                "name_zh": zh,
                "name_en": en,
                "paid": paid,
                "unit": unit,
                "attachment_required": proof,
                "min_notice_days": notice,
                "balance_tracked": tracked,
                "allow_negative": negative,
                "order": order,
                "yearly_grant": Decimal(yearly),
                "carry_over_max": Decimal("5") if code == "annual" else None,
                "carry_over_expiry_months": 3 if code == "annual" else None,
            },
        )


def unseed(apps, schema_editor):
    LeaveType = apps.get_model("leave", "LeaveType")
    LeaveType.objects.filter(code__in=[d[0] for d in DEFAULTS], requests__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("leave", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
