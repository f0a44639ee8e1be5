"""Overtime URLconfs, one module per mount (config/urls.py)."""
