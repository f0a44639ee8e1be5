"""The reports app's Huey tasks live in payroll.py; imported here, where `run_huey` looks
for tasks, so the worker knows them (and their lock) without relying on another import."""

from .payroll import payroll_deliver, payroll_deliver_due

__all__ = ["payroll_deliver", "payroll_deliver_due"]
