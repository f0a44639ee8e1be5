"""Pull punches over TCP/UDP 4370 from terminals that cannot push (pyzk, optional extra).

pyzk is wrapped behind `TerminalClient`, so the job and its tests never import it: tests
hand in a fake terminal that returns pyzk-like records (user_id, timestamp naive local,
status = verify mode, punch = punch state). Pulls are incremental: records older than the
terminal's watermark (the newest record already taken) are skipped; records at the
watermark itself are sent again and deduplicated, so nothing on the boundary is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from django.db import transaction
from django.utils import timezone

from ztk.audit.services import record

from . import ingest, protocol
from .models import Device, DeviceStatus, LogKind

log = logging.getLogger(__name__)


@runtime_checkable
class AttendanceRecord(Protocol):
    user_id: Any
    timestamp: datetime
    status: Any
    punch: Any


class TerminalClient(Protocol):
    """The four calls the pull job makes; `PyZkClient` implements them with pyzk."""

    def connect(self) -> None: ...

    def get_serialnumber(self) -> str: ...

    def get_attendance(self) -> Iterable[AttendanceRecord]: ...

    def disconnect(self) -> None: ...


class PyZkUnavailableError(RuntimeError):
    pass


class PyZkClient:
    """pyzk's ZK object behind the TerminalClient calls (install with the `zk` extra)."""

    def __init__(
        self, host: str, port: int = 4370, *, password: int = 0, udp: bool = False, timeout=20
    ) -> None:
        try:
            from zk import ZK
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise PyZkUnavailableError(
                "pyzk is not installed: pip install 'ztk-attendance[zk]'"
            ) from exc
        # ommit_ping: pyzk would otherwise shell out to the system `ping` first.
        self._zk = ZK(
            host, port=port, timeout=timeout, password=password, force_udp=udp, ommit_ping=True
        )
        self._conn: Any = None  # pyzk's connection, untyped

    def connect(self) -> None:
        self._conn = self._zk.connect()
        self._conn.disable_device()  # no punches while we read, as pyzk recommends

    def get_serialnumber(self) -> str:
        return str(self._conn.get_serialnumber()).strip()

    def get_attendance(self) -> Iterable[AttendanceRecord]:
        return self._conn.get_attendance()

    def disconnect(self) -> None:
        if self._conn is not None:
            try:
                self._conn.enable_device()
            finally:
                self._conn.disconnect()
                self._conn = None


ClientFactory = Callable[[Device], TerminalClient]


def default_client(device: Device) -> TerminalClient:
    return PyZkClient(
        device.pull_host,
        device.pull_port,
        password=device.pull_password,
        udp=device.pull_udp,
    )


@dataclass
class PullResult:
    serial: str
    ok: bool = True
    read: int = 0
    skipped: int = 0
    outcome: ingest.IngestOutcome = field(default_factory=ingest.IngestOutcome)
    error: str = ""

    def summary(self) -> str:
        if not self.ok:
            return f"{self.serial}: failed: {self.error}"
        o = self.outcome
        return (
            f"{self.serial}: read {self.read}, skipped {self.skipped} (before watermark), "
            f"new {o.new}, duplicate {o.duplicate}, held {o.held}, refused {len(o.refused)}"
        )


def _to_int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def records_from_pull(
    items: Iterable[AttendanceRecord],
) -> tuple[list[protocol.AttLogRecord], list[protocol.LineError]]:
    """pyzk records as protocol records; a bad one becomes a LineError (numbered from 1)."""
    records: list[protocol.AttLogRecord] = []
    errors: list[protocol.LineError] = []
    for line_no, item in enumerate(items, start=1):
        pin = str(getattr(item, "user_id", "") or "").strip()
        stamp = getattr(item, "timestamp", None)
        raw = f"{pin}\t{stamp}\t{getattr(item, 'punch', '')}\t{getattr(item, 'status', '')}"
        if (error := protocol.forbidden_text(line_no, raw)) is not None:
            errors.append(error)  # the log shows it escaped; PostgreSQL cannot store NUL
            continue
        if not pin:
            errors.append(protocol.LineError(line_no, raw, "empty_pin", "the PIN is empty"))
            continue
        if len(pin) > protocol.MAX_PIN_LENGTH:
            errors.append(protocol.LineError(line_no, raw, "pin_too_long", "the PIN is too long"))
            continue
        if not isinstance(stamp, datetime):
            errors.append(protocol.LineError(line_no, raw, "bad_timestamp", "no timestamp"))
            continue
        stamp = stamp.replace(tzinfo=None, microsecond=0)
        if not protocol.MIN_YEAR <= stamp.year <= protocol.MAX_YEAR:
            errors.append(
                protocol.LineError(
                    line_no, raw, "impossible_timestamp", f"year {stamp.year} is impossible"
                )
            )
            continue
        records.append(
            protocol.AttLogRecord(
                line_no=line_no,
                raw=raw,
                pin=pin,
                local_time=stamp,
                punch_state=_to_int(getattr(item, "punch", None)),
                verify_mode=_to_int(getattr(item, "status", None)),
            )
        )
    return records, errors


def device_pull(
    device: Device,
    *,
    client: TerminalClient | None = None,
    client_factory: ClientFactory | None = None,
    now: datetime | None = None,
    full: bool = False,
) -> PullResult:
    """Read a terminal's punches and ingest the ones at or after its watermark.

    The watermark only moves to records that were accepted (stored, duplicate or held), so
    a punch refused for a wrong clock (in the future) cannot hide later real ones.
    """
    now = now or timezone.now()
    result = PullResult(device.serial)
    if device.status == DeviceStatus.DISABLED:
        result.ok, result.error = False, "terminal disabled"
        return result
    client = client or (client_factory or default_client)(device)
    try:
        client.connect()
        try:
            serial = client.get_serialnumber()
            if serial and serial != device.serial:
                raise RuntimeError(
                    f"the terminal at {device.pull_host} reports serial {serial!r}, "
                    f"expected {device.serial!r}"
                )
            items = list(client.get_attendance())
        finally:
            client.disconnect()
    except Exception as exc:  # noqa: BLE001 - network and device errors are logged, not raised
        result.ok, result.error = False, str(exc)[:300]
        log.warning("pull from %s failed: %s", device.serial, exc)
        with transaction.atomic():
            ingest.log_entries(
                device, [(LogKind.ERROR, "pull", "pull_failed", result.error, None, "")]
            )
        return result
    records, errors = records_from_pull(items)
    result.read = len(items)
    zone = device.zone
    watermark = None if full else device.pull_watermark
    if watermark is not None:
        fresh = [r for r in records if r.local_time.replace(tzinfo=zone) >= watermark]
        result.skipped = len(records) - len(fresh)
        records = fresh
    with transaction.atomic():
        outcome = ingest.ingest_records(device, records, channel="pull", now=now)
        outcome.refused = ingest.line_refusals(errors) + outcome.refused
        ingest.log_refusals(device, "pull", outcome.refused)
        refused_lines = {r.line_no for r in outcome.refused}
        accepted = [
            r.local_time.replace(tzinfo=zone) for r in records if r.line_no not in refused_lines
        ]
        changes: dict[str, Any] = {"last_seen": now}
        if accepted:
            changes["last_upload"] = now
            newest = max(accepted)
            if device.pull_watermark is None or newest > device.pull_watermark:
                changes["pull_watermark"] = newest
        if not records and errors:
            record("devices.pull.unreadable", obj=device, actor=None, extra={"lines": len(errors)})
        ingest.update_device(device, **changes)
    result.outcome = outcome
    return result


def pull_all(
    *,
    serials: Iterable[str] | None = None,
    client_factory: ClientFactory | None = None,
    now: datetime | None = None,
) -> list[PullResult]:
    """Pull every terminal set up for pulling (or the given ones); one failure stops none."""
    qs = Device.objects.select_related("attendance_group").exclude(status=DeviceStatus.DISABLED)
    qs = qs.filter(serial__in=list(serials)) if serials else qs.filter(pull_enabled=True)
    return [
        device_pull(device, client_factory=client_factory, now=now) for device in qs.order_by("pk")
    ]
