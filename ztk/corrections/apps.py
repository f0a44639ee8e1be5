from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CorrectionsConfig(AppConfig):
    name = "ztk.corrections"
    label = "corrections"
    verbose_name = _("Corrections")

    def ready(self) -> None:
        # registry: services uses models, which can be imported only once apps are loaded
        from ztk.approvals.registry import register
        from ztk.attendance import slot_checks, slot_requests

        from .selectors import deadlines_for
        from .selectors import slot_requests as read_slot_requests
        from .services import CORRECTIONS
        from .slot_verdicts import slot_verdicts

        register(CORRECTIONS)
        # The day page, calendar and missed-punch alert show requests under way per slot.
        slot_requests.register(read_slot_requests)
        # The missed-punch alert quotes each person's last day to apply.
        slot_requests.register_deadlines(deadlines_for)
        # The day page and the month view say up front whether each slot can be corrected.
        slot_checks.register(slot_verdicts)
