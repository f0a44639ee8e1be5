from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import router, transaction
from django.utils.translation import gettext_lazy as _

from ztk.core.errors import DomainError

from .models import ApiKey
from .services import account_unlock, api_key_revoke


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("prefix", "name", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    readonly_fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # keys are shown once at creation: `ztk create-api-key`

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        for key in queryset:
            api_key_revoke(actor=request.user, key=key)
        messages.success(request, _("Revoked."))


if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(AxesAccessAttemptAdmin):
    """django-axes' list, but unlocking goes through the audited service, never a bare delete."""

    actions = ["unlock"]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Unlock the selected accounts"))
    def unlock(self, request, queryset):
        usernames = sorted({u for u in queryset.values_list("username", flat=True) if u})
        try:
            for username in usernames:
                account_unlock(actor=request.user, username=username)
        except DomainError as error:
            messages.error(request, error.message)
            return
        messages.success(request, _("Unlocked: %(names)s") % {"names": ", ".join(usernames)})


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin; its password form runs in a transaction like its other forms.

    Every account change is audited by ztk.accounts.receivers inside the writing
    transaction; Django's add and change forms have one, its password form has none.
    """

    def user_change_password(self, request, id, form_url=""):
        with transaction.atomic(using=router.db_for_write(self.model)):
            return super().user_change_password(request, id, form_url)
