"""ZTK Attendance."""
