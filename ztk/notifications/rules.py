"""Who may configure the group robots and see the outbox: HR and system admins."""

from __future__ import annotations

from ztk.org.rules import is_hr, is_sysadmin

can_manage_robots = is_hr | is_sysadmin
