"""`ztk simulate-terminal`: a pretend ZKTeco terminal for evaluating without hardware.

It talks to a running server over HTTP exactly as a device would (ztk.devices.simulator):
handshake, a punch upload for the demo employees, optionally a fingerprint enrolment,
then polls for commands and answers them, keeping the users and templates it was sent.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ztk.core.errors import DomainError
from ztk.devices.ingest import valid_serial
from ztk.devices.services import device_approve
from ztk.devices.simulator import PROTOCOLS
from ztk.org.models import Employee


class Command(BaseCommand):
    help = (
        "Pretend to be a ZKTeco push terminal: handshake, upload punches for the demo "
        "employees, poll and answer commands (users, templates) like a device."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="the server")
        parser.add_argument("--serial", default="SIM0000001", help="the terminal's serial")
        parser.add_argument(
            "--protocol", default="2", choices=sorted(PROTOCOLS), help="push protocol version"
        )
        parser.add_argument(
            "--employees", type=int, default=10, help="punch for the first N active employees"
        )
        parser.add_argument("--pins", default="", help="comma-separated PINs instead")
        parser.add_argument("--date", help="the day of the punches, YYYY-MM-DD (default yesterday)")
        parser.add_argument("--enrol", default="", help="enrol a fingerprint for this PIN")
        parser.add_argument("--polls", type=int, default=3, help="getrequest polls (0: none)")
        parser.add_argument("--delay", type=float, default=2.0, help="seconds between polls")
        parser.add_argument(
            "--approve",
            metavar="GROUP",
            help="approve the terminal into this attendance group first (local database)",
        )

    def handle(self, *args, **opts):
        serial = opts["serial"]
        if not valid_serial(serial):
            raise CommandError("the serial is 1–64 letters, digits, '_' or '-'")
        terminal = PROTOCOLS[opts["protocol"]](opts["url"].rstrip("/"), serial)
        out = self.stdout.write
        try:
            out(terminal.handshake().splitlines()[0])
        except OSError as exc:
            raise CommandError(f"cannot reach {opts['url']}: {exc}") from None
        if opts["approve"]:
            try:
                device_approve(actor=None, serial=serial, attendance_group=opts["approve"])
            except DomainError as exc:
                raise CommandError(f"{exc.code}: {exc.message}") from None
            out(f"approved into group {opts['approve']}")
        pins = [p.strip() for p in opts["pins"].split(",") if p.strip()]
        if not pins:
            pins = list(
                Employee.objects.filter(active=True)
                .order_by("employee_no")
                .values_list("employee_no", flat=True)[: max(0, opts["employees"])]
            )
        day = date.fromisoformat(opts["date"]) if opts["date"] else None
        punches = generated_punches(pins, day)
        if punches:
            out(f"ATTLOG ({len(punches)} punches): {terminal.upload_punches(punches)}")
        if opts["enrol"]:
            out(f"enrolled PIN {opts['enrol']}: {terminal.enrol(opts['enrol'])}")
        for poll in range(max(0, opts["polls"])):
            if poll:
                time.sleep(max(0.0, opts["delay"]))
            for received in terminal.poll():
                out(f"C:{received.id}: {shorten(received.command)} → Return={received.return_code}")
        out(f"users on this terminal: {len(terminal.users)}; templates: {len(terminal.templates)}")


def generated_punches(pins: list[str], day: date | None) -> list[tuple[str, datetime]]:
    """A morning and an evening punch per PIN, a few minutes apart from person to person
    (yesterday's by default, a whole past day); on today only the ones already past (a
    terminal cannot punch the future)."""
    zone = ZoneInfo(settings.TIME_ZONE)
    now = datetime.now(zone).replace(tzinfo=None)
    day = day or now.date() - timedelta(days=1)
    punches = []
    for n, pin in enumerate(pins):
        start = datetime(day.year, day.month, day.day, 8, 45) + timedelta(minutes=(n * 7) % 25)
        end = datetime(day.year, day.month, day.day, 18, 0) + timedelta(minutes=(n * 11) % 40)
        punches += [(pin, moment) for moment in (start, end) if moment <= now]
    return punches


def shorten(command: str) -> str:
    """Template bytes are long (and sensitive): the console shows their length only."""
    for key in ("\tTMP=", "\tTmp="):
        head, sep, tail = command.partition(key)
        if sep:
            return f"{head}{key}<{len(tail)} characters>"
    return command
