"""The settings pages, one module per section (all for HR; auditors read them)."""
