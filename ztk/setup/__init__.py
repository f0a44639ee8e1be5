"""考勤设置: the settings pages under /settings/ — a face over the owning apps' services.

HR configures the company here (auditors read them); every save goes through the service
of the app that owns the data (punches for geofences, accounts for API keys, …), so the
pages, the API and the CLI share one rule each.
"""
