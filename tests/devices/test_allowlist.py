"""Source-address allow-lists for terminals: the rule, the iclock refusal, the HR pages.

Before: a terminal was trusted by its serial number alone — anyone who read the serial
off the device's label could post punches for it from anywhere.
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ztk.audit.models import AuditEvent
from ztk.core.errors import DomainError
from ztk.devices.models import Device, DeviceLog, GroupAllowList
from ztk.devices.networks import NetworkError, address_allowed, address_group, parse_networks
from ztk.devices.services import device_update, group_allow_list_update
from ztk.punches.models import Punch

from .conftest import SERIAL, make_device
from .terminal import Terminal

PUNCH = b"1002\t2026-11-26 08:57:03\t0\t1\t0\t0\t0\n"


# --------------------------------------------------------------------------- the rule

ipv4_networks = st.builds(
    lambda address, prefix: ipaddress.ip_network(f"{address}/{prefix}", strict=False),
    st.ip_addresses(v=4),
    st.integers(0, 32),
)
ipv6_networks = st.builds(
    lambda address, prefix: ipaddress.ip_network(f"{address}/{prefix}", strict=False),
    st.ip_addresses(v=6),
    st.integers(0, 128),
)
networks = st.one_of(ipv4_networks, ipv6_networks)


@given(networks, st.ip_addresses())
def test_an_address_is_allowed_exactly_when_the_network_holds_it(network, address):
    # An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address it maps.
    seen_as = getattr(address, "ipv4_mapped", None) or address
    expected = seen_as.version == network.version and seen_as in network
    assert address_allowed(str(address), [str(network)]) is expected


@given(networks)
def test_a_network_reads_back_as_itself(network):
    assert parse_networks(str(network)) == [str(network)]
    assert parse_networks(f" {network} ,\n{network}\n") == [str(network)]


@given(st.one_of(ipv4_networks.filter(lambda n: n.prefixlen < 32), ipv6_networks))
def test_host_bits_after_the_prefix_are_refused_with_the_network_meant(network):
    if network.num_addresses < 2:
        return
    host = network.network_address + 1
    with pytest.raises(NetworkError) as refused:
        parse_networks(f"{host}/{network.prefixlen}")
    assert refused.value.hint == str(network)


@pytest.mark.parametrize(
    "entry", ["banana", "10.0.0.300/8", "10.0.0.0/33", "2001:db8::/129", "10.0.0.0/8/8", "::g"]
)
def test_what_is_not_a_network_is_refused(entry):
    with pytest.raises(NetworkError) as refused:
        parse_networks(f"192.168.1.0/24\n{entry}")
    assert refused.value.entry == entry


def test_no_list_allows_any_address_and_an_unreadable_address_is_never_in_a_list():
    assert address_allowed("203.0.113.9", []) is True
    assert address_allowed(None, ["0.0.0.0/0"]) is False
    assert address_allowed("not-an-ip", ["0.0.0.0/0"]) is False
    # A dual-stack socket reports IPv4 clients as IPv4-mapped IPv6.
    assert address_allowed("::ffff:10.1.2.3", ["10.0.0.0/8"]) is True


def test_ipv6_sources_are_counted_per_64():
    assert address_group("2001:db8:1:2::5") == address_group("2001:db8:1:2:ffff::9")
    assert address_group("2001:db8:1:2::5") != address_group("2001:db8:1:3::5")
    assert address_group("192.0.2.1") != address_group("192.0.2.2")


# --------------------------------------------------------------------------- over HTTP


@pytest.mark.django_db(transaction=True)
def test_a_request_from_outside_the_list_is_refused_logged_and_stores_nothing(live_server, org):
    device = make_device(group=org.group, allowed_networks=["10.20.0.0/16"], ip="10.20.1.5")
    terminal = Terminal(live_server.url)  # connects from 127.0.0.1
    answers = [terminal.upload("ATTLOG", PUNCH, Stamp="7") for _ in range(3)]
    answers.append(terminal.poll(info="Ver 9,1,2,3"))
    answers.append(terminal.handshake())

    assert {response.status for response, _body in answers} == {403}
    assert not Punch.objects.exists()
    device.refresh_from_db()
    assert (device.ip, device.last_seen, device.attlog_stamp, device.firmware) == (
        "10.20.1.5",
        None,
        "",
        "",
    )
    refusal = DeviceLog.objects.get()  # once per interval, not once per request
    assert (refusal.kind, refusal.code) == ("refused", "address_not_allowed")
    assert "127.0.0.1" in refusal.message

    device_update(actor=org.hr.user, serial=SERIAL, allowed_networks="10.20.0.0/16 127.0.0.0/8")
    response, body = terminal.upload("ATTLOG", PUNCH, Stamp="8")

    assert (response.status, body) == (200, "OK: 1")
    assert Punch.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_group_list_applies_as_well_as_the_terminals_own(live_server, org):
    make_device(group=org.group, allowed_networks=["127.0.0.0/8"])
    group_allow_list_update(actor=org.hr.user, group="STD", networks="127.0.0.2")

    refused, _ = Terminal(live_server.url, source="127.0.0.3").upload("ATTLOG", PUNCH)
    accepted, body = Terminal(live_server.url, source="127.0.0.2").upload("ATTLOG", PUNCH)

    assert (refused.status, accepted.status, body) == (403, 200, "OK: 1")
    # Another group's terminals are not bound by it.
    make_device("OTHERGRP1")
    response, _ = Terminal(live_server.url, "OTHERGRP1", source="127.0.0.3").poll()
    assert response.status == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("source", "status"),
    [("2001:db8:1::5", 200), ("2001:db8:2::5", 403), ("::ffff:192.0.2.7", 200)],
)
def test_ipv6_sources(client, org, source, status):
    make_device(group=org.group, allowed_networks=["2001:db8:1::/48", "192.0.2.0/24"])
    response = client.post(
        f"/iclock/cdata?SN={SERIAL}&table=ATTLOG",
        data=PUNCH,
        content_type="text/plain",
        REMOTE_ADDR=source,
    )
    assert response.status_code == status


# --------------------------------------------------------------------------- HR pages


@pytest.mark.django_db
class TestHrPages:
    def test_hr_sets_a_terminals_list_on_its_page_and_it_is_audited(self, client, org):
        make_device(group=org.group)
        client.force_login(org.hr.user)

        response = client.post(
            f"/hr/devices/{SERIAL}/update/",
            {"name": "Gate", "attendance_group": "STD", "time_zone": "",
             "allowed_networks": "192.168.10.0/24\n2001:DB8:1::/48\n192.168.10.0/24"},
        )  # fmt: skip

        assert response.status_code == 302
        assert Device.objects.get().allowed_networks == ["192.168.10.0/24", "2001:db8:1::/48"]
        event = AuditEvent.objects.get(action="devices.device.update")
        assert event.changes["before"]["allowed_networks"] == []
        assert event.changes["after"]["allowed_networks"] == ["192.168.10.0/24", "2001:db8:1::/48"]
        page = client.get(f"/hr/devices/{SERIAL}/").content.decode()
        assert "192.168.10.0/24" in page and "2001:db8:1::/48" in page

    @pytest.mark.parametrize(
        ("typed", "shown"),
        [
            ("10.1.2.3/24", "10.1.2.0/24"),  # the hint: the network probably meant
            ("banana", "banana"),
        ],
    )
    def test_a_bad_entry_is_refused_clearly_and_the_form_keeps_what_was_typed(
        self, client, org, typed, shown
    ):
        make_device(group=org.group, name="Gate", allowed_networks=["192.168.1.0/24"])
        client.force_login(org.hr.user)
        client.post("/i18n/setlang/", {"language": "en"})

        response = client.post(
            f"/hr/devices/{SERIAL}/update/",
            {"name": "Gate 2", "attendance_group": "STD", "time_zone": "",
             "allowed_networks": f"192.168.1.0/24\n{typed}"},
        )  # fmt: skip

        assert response.status_code == 422
        page = response.content.decode()
        assert "is not an IPv4 or IPv6" in page or "bits set after the prefix" in page
        assert shown in page
        assert 'value="Gate 2"' in page  # the rest of the form too
        device = Device.objects.get()
        assert (device.name, device.allowed_networks) == ("Gate", ["192.168.1.0/24"])
        assert not AuditEvent.objects.filter(action="devices.device.update").exists()

    def test_hr_sets_a_groups_list_from_a_terminal_page(self, client, org):
        make_device(group=org.group)
        client.force_login(org.hr.user)

        response = client.post(
            "/hr/devices/groups/STD/allow-list/",
            {"networks": "10.8.0.0/16", "back_serial": SERIAL},
        )

        assert response.status_code == 302 and response["Location"].endswith(f"/{SERIAL}/")
        assert GroupAllowList.objects.get(group=org.group).networks == ["10.8.0.0/16"]
        event = AuditEvent.objects.get(action="devices.group_allow_list.update")
        assert event.changes["before"] == {"group": "STD", "networks": []}
        assert event.changes["after"] == {"group": "STD", "networks": ["10.8.0.0/16"]}
        assert "10.8.0.0/16" in client.get("/hr/devices/").content.decode()

    def test_a_bad_group_entry_changes_nothing(self, client, org):
        group_allow_list_update(actor=org.hr.user, group="STD", networks="10.8.0.0/16")
        client.force_login(org.hr.user)

        response = client.post("/hr/devices/groups/STD/allow-list/", {"networks": "10.8.0.0/33"})

        assert response.status_code == 302
        assert GroupAllowList.objects.get().networks == ["10.8.0.0/16"]

    @pytest.mark.parametrize("who", ["employee", "supervisor", "auditor"])
    def test_only_hr_may_change_them(self, client, org, who):
        make_device(group=org.group)
        client.force_login(getattr(org, who).user)
        assert (
            client.post(
                f"/hr/devices/{SERIAL}/update/", {"allowed_networks": "0.0.0.0/0"}
            ).status_code
            == 403
        )
        assert (
            client.post("/hr/devices/groups/STD/allow-list/", {"networks": "0.0.0.0/0"}).status_code
            == 403
        )
        with pytest.raises(DomainError):
            group_allow_list_update(actor=getattr(org, who).user, group="STD", networks="")
        assert not GroupAllowList.objects.exists()
        assert Device.objects.get().allowed_networks == []
