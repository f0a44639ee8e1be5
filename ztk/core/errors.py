"""One domain error type with a stable machine code and a translated message."""

from __future__ import annotations

from typing import Any

from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy

# Writes refused while MAINTENANCE_MODE is on (ztk.core.middleware); the API's code too.
MAINTENANCE = "maintenance"
MAINTENANCE_MESSAGE = gettext_lazy("The system is in maintenance; please try again later.")


class DomainError(Exception):
    """Raised by services; the API turns it into JSON `{code, message, details}`."""

    status = 422

    def __init__(
        self,
        code: str,
        message: Any,
        *,
        status: int | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(force_str(message))
        self.code = code
        self._message = message  # may be a lazy translation, rendered per request language
        if status is not None:
            self.status = status
        self.details = details

    @property
    def message(self) -> str:
        return force_str(self._message)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class PermissionDeniedError(DomainError):
    status = 403

    def __init__(self, message: Any = None, *, code: str = "permission_denied") -> None:
        from django.utils.translation import gettext_lazy as _

        super().__init__(code, message or _("You do not have permission to do this."))


class NotFoundError(DomainError):
    status = 404

    def __init__(self, message: Any = None, *, code: str = "not_found") -> None:
        from django.utils.translation import gettext_lazy as _

        super().__init__(code, message or _("Not found."))
