"""Correction pages (申请补卡, 我的申请, 审批); the project mounts these at /requests/."""

from django.urls import path

from . import pages

app_name = "requests"

urlpatterns = [
    path("", pages.mine, name="mine"),
    path("new/", pages.new, name="new"),
    path("preview/", pages.preview, name="preview"),
    path("inbox/", pages.inbox, name="inbox"),
    path("inbox/approve/", pages.batch_approve, name="batch_approve"),
    path("<int:pk>/", pages.detail, name="detail"),
    path("<int:pk>/preview/", pages.detail_preview, name="detail_preview"),
    path("<int:pk>/approve/", pages.approve, name="approve"),
    path("<int:pk>/reject/", pages.reject, name="reject"),
    path("<int:pk>/transfer/", pages.transfer, name="transfer"),
    path("<int:pk>/comment/", pages.comment, name="comment"),
    path("<int:pk>/withdraw/", pages.withdraw, name="withdraw"),
    path("<int:pk>/attachments/", pages.attach, name="attach"),
    path("<int:pk>/resubmit/", pages.resubmit, name="resubmit"),
]
