"""The default reason categories (global: offered to every attendance group)."""

from django.db import migrations

DEFAULTS = [
    ("forgot", "忘记打卡", 10),
    ("recognition", "指纹/人脸识别失败", 20),
    ("device", "设备故障", 30),
    ("outing", "外出洽谈", 40),
    ("overtime", "公务加班", 50),
    ("trip", "公差/出差", 60),
    ("other", "其他", 90),
]


def seed(apps, schema_editor):
    ReasonCategory = apps.get_model("corrections", "ReasonCategory")
    for code, name, order in DEFAULTS:
        ReasonCategory.objects.get_or_create(
            policy=None, code=code, defaults={"name": name, "order": order}
        )


def unseed(apps, schema_editor):
    ReasonCategory = apps.get_model("corrections", "ReasonCategory")
    ReasonCategory.objects.filter(
        policy=None, code__in=[code for code, _name, _order in DEFAULTS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("corrections", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
