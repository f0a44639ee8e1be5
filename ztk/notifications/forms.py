"""The group-robot form, shared by the HR page and the admin."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from ztk.core.text import add_text_validators
from ztk.org.models import Department

from .models import SIGNED_PLATFORMS, NotificationKind, RobotWebhook

ROBOT_KIND_CHOICES = [(k.value, k.label) for k in NotificationKind if k != NotificationKind.TEST]


class RobotWebhookForm(forms.ModelForm):
    """The secret is never shown again: left empty it keeps the stored one."""

    kinds = forms.MultipleChoiceField(
        label=_("Events"),
        choices=ROBOT_KIND_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=RobotWebhook._meta.get_field("kinds").help_text,
    )
    secret = forms.CharField(
        label=_("Signing secret"),
        required=False,
        max_length=200,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "DingTalk (SEC…) and Feishu robots with signature verification. "
            "Leave empty to keep the stored secret."
        ),
    )
    clear_secret = forms.BooleanField(label=_("Remove the stored secret"), required=False)

    class Meta:
        model = RobotWebhook
        fields = ["name", "department", "platform", "url", "secret", "kinds", "active"]
        widgets = {"url": forms.URLInput(attrs={"placeholder": "https://"})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        department = cast(forms.ModelChoiceField, self.fields["department"])
        department.queryset = Department.objects.filter(active=True).order_by("code")
        department.empty_label = _("Whole company")
        department.help_text = _("Sub-departments are included.")
        if not (self.instance.pk and self.instance.secret):
            del self.fields["clear_secret"]
        add_text_validators(self.fields)

    def clean(self):
        super().clean()
        data = self.cleaned_data  # what ModelForm.clean returns
        platform = data.get("platform")
        if platform and platform not in SIGNED_PLATFORMS or data.get("clear_secret"):
            data["secret"] = ""
        elif not data.get("secret") and self.instance.pk:
            data["secret"] = self.instance.secret
        return data
