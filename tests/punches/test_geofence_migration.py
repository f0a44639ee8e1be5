"""The migration to several groups per fence keeps every existing link (and gives codes)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("punches", "0004_alter_punch_source"), ("org", "0001_initial")]
AFTER = [("punches", "0005_geofence_code_active_groups")]


@pytest.mark.django_db(transaction=True)
def test_each_fence_keeps_its_group_and_gets_a_code():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Group = old.get_model("org", "AttendanceGroup")
    Fence = old.get_model("punches", "Geofence")
    office = Group.objects.create(code="OFFICE", name="办公室")
    plant = Group.objects.create(code="PLANT", name="工厂")
    hq = Fence.objects.create(group=office, name="总部", latitude=31.2, longitude=121.4)
    gate = Fence.objects.create(group=plant, name="大门", latitude=31.3, longitude=121.5)
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        Fence = new.get_model("punches", "Geofence")
        rows = {
            f.pk: (f.code, f.active, sorted(g.code for g in f.groups.all()))
            for f in Fence.objects.all()
        }
        assert rows == {
            hq.pk: (f"fence-{hq.pk}", True, ["OFFICE"]),
            gate.pk: (f"fence-{gate.pk}", True, ["PLANT"]),
        }
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
