"""Oversight pages, one module per area: findings, warnings, analytics."""
