"""Who may talk to the iclock endpoints: source-address allow-lists and new-terminal limits.

The push protocol has no authentication: a terminal is its serial number. Two defences
live here (docs/architecture.md, "Terminals", explains the design):

- Allow-lists (CIDR, per terminal and per attendance group): a request for a known serial
  from outside them is refused before anything is stored.
- Registration limits, so that junk serials cannot crowd out a real new terminal: a
  rate per source address (IPv4 address or IPv6 /64) kept in the cache, a cap on pending
  terminals per source address and overall counted in the database, and — when the
  overall cap is reached — eviction of the oldest pending terminal of the source that has
  the most, if it holds no punches.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import Count

from ztk.audit.services import record

from . import conf
from .models import Device, DeviceCommand, DeviceStatus, HeldPunch, PushProtocol
from .networks import address_allowed, address_group

log = logging.getLogger(__name__)

FIRST_CONTACT_COMMANDS = ("INFO", "CHECK")
RATE_WINDOW = timedelta(hours=1)
# A source refused for its cap is refused from the cache for this long: a flood then costs
# one indexed read per request, no transaction and no log line (a terminal retries every
# ErrorDelay = 30 s, so a freed slot is found within a minute).
REFUSAL_MEMORY_SECONDS = 60
# PostgreSQL advisory lock that serialises registrations (SQLite's IMMEDIATE transactions
# serialise every write already): the caps are counted and enforced in one step.
_REGISTRATION_LOCK = zlib.crc32(b"ztk.devices.registration")


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str
    status: int
    message: str


REFUSALS = {
    "address_not_allowed": Refusal(
        "address_not_allowed", 403, "the source address is not in the terminal's allow-list"
    ),
    "registration_rate": Refusal(
        "registration_rate", 429, "too many new terminals from this address; try again later"
    ),
    "address_pending_cap": Refusal(
        "address_pending_cap",
        429,
        "too many terminals from this address wait for approval; approve or remove some",
    ),
    "pending_full": Refusal("pending_full", 503, "too many terminals wait for approval"),
    "bad_session_token": Refusal(
        "bad_session_token", 401, "the session token does not match; register again"
    ),
}


class RefusedError(Exception):
    """A request the iclock views answer with `refusal.status` and store nothing for."""

    def __init__(self, code: str, device: Device | None = None) -> None:
        super().__init__(code)
        self.refusal = REFUSALS[code]
        self.device = device


# --------------------------------------------------------------------------- allow-lists


def allowed_networks(device: Device) -> list[list[str]]:
    """The lists that apply: the terminal's own and its group's; each one set must match."""
    return [networks for networks in (device.allowed_networks, device.group_networks) if networks]


def address_permitted(device: Device, ip: str | None) -> bool:
    """True when the address is in every allow-list that is set (none set: any address)."""
    return all(address_allowed(ip, networks) for networks in allowed_networks(device))


# --------------------------------------------------------------------------- registration


def _rate_key(group: str, now: datetime) -> str:
    return f"ztk:devices:registrations:{group}:{now:%Y%m%d%H}"


def registrations_left(group: str, now: datetime) -> int:
    return conf.registrations_per_hour() - int(cache.get(_rate_key(group, now)) or 0)


def _refused_key(group: str) -> str:
    return f"ztk:devices:refused:{group}"


def _remember_refusal(group: str, serial: str, code: str) -> None:
    """Refuse this source from the cache for a while; log it once per while, not per request."""
    if cache.add(_refused_key(group), code, REFUSAL_MEMORY_SECONDS):
        log.warning("new terminals from %s refused (%s), e.g. %s", group, code, serial)


def _count_registration(group: str, now: datetime) -> None:
    key = _rate_key(group, now)
    cache.add(key, 0, int(RATE_WINDOW.total_seconds()) + 60)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, int(RATE_WINDOW.total_seconds()) + 60)


def _lock_registrations() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_REGISTRATION_LOCK])


def _evictable(exclude_group: str) -> Device | None:
    """The oldest pending terminal, holding no punches, of the source with the most pending.

    Only a source holding more pending terminals than the newcomer's loses one, so a
    flood evicts itself first and a real terminal that already waits is never pushed out
    by a source smaller than its own.
    """
    pending = Device.objects.filter(status=DeviceStatus.PENDING)
    newcomer = pending.filter(registered_from=exclude_group).count()
    holders = (
        pending.exclude(registered_from=exclude_group)
        .values("registered_from")
        .annotate(n=Count("id"))
        .filter(n__gt=newcomer)
        .order_by("-n", "registered_from")
    )
    with_punches = HeldPunch.objects.values("device_id")
    for holder in holders[:20]:
        victim = (
            pending.filter(registered_from=holder["registered_from"])
            .exclude(pk__in=with_punches)
            .order_by("created_at", "pk")
            .first()
        )
        if victim is not None:
            return victim
    return None


def register(
    serial: str,
    *,
    ip: str | None,
    push_version: str | None,
    now: datetime,
    protocol: str = PushProtocol.V2,
) -> Device:
    """Create the terminal behind a serial seen for the first time, within the limits.

    Raises RefusedError (nothing written) when its source is over its rate or pending
    cap, or when every pending slot is taken and none can be freed. On success the
    first contact is audited once and (protocol 2.x) INFO and CHECK are queued; a 3.x
    terminal tells the same in its registry body and has no such commands.
    """
    first_commands = FIRST_CONTACT_COMMANDS if protocol == PushProtocol.V2 else ()
    group = address_group(ip)
    if (remembered := cache.get(_refused_key(group))) is not None:
        raise RefusedError(remembered)
    if registrations_left(group, now) <= 0:
        _remember_refusal(group, serial, "registration_rate")
        raise RefusedError("registration_rate")
    auto = conf.auto_approve_enabled()
    try:
        with transaction.atomic():
            _lock_registrations()
            existing = Device.objects.select_related("attendance_group").filter(serial=serial)
            if (device := existing.first()) is not None:
                return device  # registered by a concurrent request meanwhile
            evicted = None
            if not auto:
                pending = Device.objects.filter(status=DeviceStatus.PENDING)
                if pending.filter(registered_from=group).count() >= conf.max_pending_per_address():
                    raise RefusedError("address_pending_cap")
                if pending.count() >= conf.max_pending():
                    evicted = _evictable(group)
                    if evicted is None:
                        raise RefusedError("pending_full")
                    _evict(evicted, newcomer=serial)
            device = Device.objects.create(
                serial=serial,
                status=DeviceStatus.APPROVED if auto else DeviceStatus.PENDING,
                ip=(ip or "")[:64],
                registered_from=group[:64],
                push_version=(push_version or "")[:20],
                protocol=protocol,
                last_seen=now,
                approved_at=now if auto else None,
            )
            DeviceCommand.objects.bulk_create(
                DeviceCommand(device=device, command=command) for command in first_commands
            )
            record(
                "devices.device.first_contact",
                obj=device,
                actor=None,
                after={"serial": serial, "status": device.status, "ip": device.ip},
                extra={
                    "auto_approved": auto,
                    "queued": list(first_commands),
                    "protocol": protocol,
                    "source": group,
                    **({"evicted": evicted.serial} if evicted is not None else {}),
                },
            )
    except RefusedError as refused:
        _remember_refusal(group, serial, refused.refusal.code)
        raise
    except IntegrityError:  # the same serial created concurrently (SQLite without the lock)
        return Device.objects.select_related("attendance_group").get(serial=serial)
    _count_registration(group, now)
    return device


def _evict(device: Device, *, newcomer: str) -> None:
    """Remove a pending terminal that holds nothing, to make room; audited with its state."""
    record(
        "devices.device.evict",
        obj=device,
        actor=None,
        before={
            "serial": device.serial,
            "status": device.status,
            "ip": device.ip,
            "source": device.registered_from,
            "first_seen": device.created_at.isoformat(),
        },
        extra={"reason": "pending_full", "make_room_for": newcomer},
    )
    device.delete()  # its queued commands and log lines go with it
