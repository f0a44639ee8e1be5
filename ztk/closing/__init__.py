"""The month close (月结): checklist, finalising the past days, close, reopen, notices.

Above corrections and reports: the close reads their facts through their public
selectors and calls their public services; no lower app knows the close. The stored
period (``attendance.AttendancePeriod``) stays in attendance, which answers "is this day
closed" without knowing the workflow. See docs/closing.md.
"""
