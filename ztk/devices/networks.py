"""Source addresses of terminals: allow-lists (CIDR) and the address group a flood is counted by.

Pure functions on strings, so the rules are tested without a database or a request.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

__all__ = [
    "MAX_NETWORKS",
    "IPV6_GROUP_PREFIX",
    "NetworkError",
    "address_allowed",
    "address_group",
    "parse_networks",
]

# An allow-list is a handful of office networks; more is a mistake (or a paste of a log).
MAX_NETWORKS = 50
# One IPv6 subscriber usually holds a whole /64, so counting single addresses would let one
# attacker look like 2^64 sources; a /64 is counted as one address.
IPV6_GROUP_PREFIX = 64


class NetworkError(ValueError):
    """An allow-list entry that is not a network; `entry` is what the person typed."""

    def __init__(self, code: str, entry: str, hint: str = "") -> None:
        super().__init__(code, entry, hint)
        self.code = code
        self.entry = entry
        self.hint = hint


def parse_networks(text: str | Iterable[str]) -> list[str]:
    """Allow-list entries (one per line, or separated by commas or spaces) as normalised CIDR.

    `192.168.1.7` means that one address (`/32`, IPv6 `/128`); a network with host bits set
    (`10.1.2.3/24`) is refused rather than silently widened or narrowed, with the network
    it probably meant as the hint. Duplicates are dropped, the order is kept.
    """
    entries = text.replace(",", " ").split() if isinstance(text, str) else list(text)
    if len(entries) > MAX_NETWORKS:
        raise NetworkError("too_many_networks", str(len(entries)), str(MAX_NETWORKS))
    result: list[str] = []
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        try:
            network = ipaddress.ip_network(entry, strict=True)
        except ValueError:
            try:
                loose = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise NetworkError("bad_network", entry[:80]) from None
            raise NetworkError("bad_network", entry[:80], str(loose)) from None
        normal = str(network)
        if normal not in result:
            result.append(normal)
    return result


def address_allowed(address: str | None, networks: Sequence[str]) -> bool:
    """True when `networks` is empty (no list) or holds `address`; an unreadable address is out.

    An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack socket reports) is
    compared as the IPv4 address it is.
    """
    if not networks:
        return True
    ip = _ip(address)
    if ip is None:
        return False
    for entry in networks:
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            continue
        if ip.version == network.version and ip in network:
            return True
    return False


def address_group(address: str | None) -> str:
    """The unit a registration flood is counted by: the IPv4 address, or the IPv6 /64."""
    ip = _ip(address)
    if ip is None:
        return "unknown"
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/{IPV6_GROUP_PREFIX}", strict=False))
    return str(ip)


def _ip(address: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.strip().split("%", 1)[0])
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip
