"""Every router of the API, registered in one place."""

from .absences import router as absences_router
from .analytics import router as analytics_router
from .api import api
from .attendance import router as attendance_router
from .corrections import router as corrections_router
from .devices import router as devices_router
from .geofences import router as geofences_router
from .groups import router as groups_router
from .holidays import router as holidays_router
from .inbox import router as inbox_router
from .me import router as me_router
from .notifications import router as notifications_router
from .org import router as org_router
from .oversight import router as oversight_router
from .overtime import router as overtime_router
from .reminders import router as reminders_router
from .reports import router as reports_router
from .schedules import router as schedules_router
from .shifts import router as shifts_router

api.add_router("", me_router)
api.add_router("", org_router)
api.add_router("", groups_router)
api.add_router("", attendance_router)
api.add_router("", devices_router)
api.add_router("", corrections_router)
api.add_router("", absences_router)
api.add_router("", notifications_router)
api.add_router("", reports_router)
api.add_router("", oversight_router)
api.add_router("", overtime_router)
api.add_router("", inbox_router)
api.add_router("", analytics_router)
api.add_router("", schedules_router)
api.add_router("", shifts_router)
api.add_router("", geofences_router)
api.add_router("", holidays_router)
api.add_router("", reminders_router)
