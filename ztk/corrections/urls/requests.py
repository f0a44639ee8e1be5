"""Correction pages (申请补卡, 我的申请, 审批); the project mounts these at /requests/."""

from django.urls import path

from ..views import requests as views

app_name = "requests"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("new/", views.new, name="new"),
    path("batch/", views.batch, name="batch"),
    path("preview/", views.preview, name="preview"),
    path("inbox/", views.inbox, name="inbox"),
    path("people/", views.transfer_people, name="transfer_people"),
    path("inbox/approve/", views.batch_approve, name="batch_approve"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/preview/", views.detail_preview, name="detail_preview"),
    path("<int:pk>/approve/", views.approve, name="approve"),
    path("<int:pk>/approve/confirm/", views.approve_confirm, name="approve_confirm"),
    path("<int:pk>/reject/", views.reject, name="reject"),
    path("<int:pk>/transfer/", views.transfer, name="transfer"),
    path("<int:pk>/comment/", views.comment, name="comment"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/withdraw/confirm/", views.withdraw_confirm, name="withdraw_confirm"),
    path("<int:pk>/attachments/", views.attach, name="attach"),
    path("<int:pk>/resubmit/", views.resubmit, name="resubmit"),
]
