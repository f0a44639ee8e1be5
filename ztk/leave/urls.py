"""Leave, outing and business-trip pages; the project mounts these at /absences/."""

from django.urls import path

from . import views

app_name = "absences"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("new/", views.new, name="new"),
    path("preview/", views.preview, name="preview"),
    path("away/", views.away_calendar, name="away"),
    path("balances/", views.ledger, name="ledger"),
    path("hr/balances/", views.hr_balances, name="hr_balances"),
    path("hr/balances/import/", views.hr_import, name="hr_import"),
    path("hr/report/", views.balances_report, name="report"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/approve/", views.approve, name="approve"),
    path("<int:pk>/reject/", views.reject, name="reject"),
]
