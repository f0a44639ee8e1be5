"""The e-mail channel to a person (``channels.PersonChannel``): the employee record's
address first, else the account's; written in the person's language (``MessageLanguage``,
else the company's); an approval request carries a link to its one-tap approve page,
which asks the reader to sign in (never a link that approves by itself)."""

from __future__ import annotations

import contextlib
import smtplib
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ztk.core.webhooks import ERROR_LENGTH, DeliveryError
from ztk.org.models import Employee

from .channels import Outgoing, PersonChannel, Target, register
from .models import Channel, OutboxMessage


def email_targets(users: list[Any]) -> dict[int, list[Target]]:
    """Each user's address: the employee record's email first, else the account's."""
    by_user = dict(
        Employee.objects.filter(user_id__in=[u.pk for u in users])
        .exclude(email="")
        .values_list("user_id", "email")
    )
    out: dict[int, list[Target]] = {}
    for user in users:
        address = by_user.get(user.pk) or (user.email or "")
        if address:
            out[user.pk] = [Target(address)]
    return out


def email_payload(message: Outgoing) -> dict[str, Any]:
    """Subject and plain-text body in the reader's language (active when called)."""
    from .services import message_text, site_url  # cycle: services → channels → mail

    body = message_text(title=message.title, body=message.body, url=message.url)
    if message.approve_url:
        body += "\n\n" + _(
            "Approve with one tap (you sign in first; nothing is approved by the link "
            "alone): %(link)s"
        ) % {"link": site_url(message.approve_url)}
    return {"subject": message.title, "body": body, "language": message.language}


class Mailer:
    """One mail connection per run, opened on first use."""

    def __init__(self) -> None:
        self.connection: BaseEmailBackend | None = None

    def send(self, row: OutboxMessage) -> None:
        payload = row.payload or {}
        subject = " ".join(str(payload.get("subject", "")).split())[:200]
        message = EmailMessage(
            subject=subject,
            body=str(payload.get("body", "")),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[row.target],
        )
        try:
            if self.connection is None:
                self.connection = get_connection(fail_silently=False)
                self.connection.open()
            message.connection = self.connection
            message.send()
        except smtplib.SMTPRecipientsRefused as exc:
            error = f"address refused: {exc}"[:ERROR_LENGTH]
            raise DeliveryError(error, target_down=False) from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise DeliveryError(f"mail server: {exc}"[:ERROR_LENGTH]) from None

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                self.connection.close()
            self.connection = None


EMAIL = PersonChannel(
    code=Channel.EMAIL.value,
    label=gettext_lazy("Email"),
    default=True,
    targets=email_targets,
    payload=email_payload,
    sender=Mailer,
    # All e-mail shares one mail server: one failing send defers the others of the run.
    target_key=lambda row: (row.channel, ""),
    help=gettext_lazy("To the address on the employee record, else the account's."),
)
register(EMAIL)
