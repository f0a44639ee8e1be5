"""Oversight URLconfs, one module per mount (config/urls.py)."""
