"""Push protocol 3.x on plain strings: the registry, the session token, tabledata, BIODATA,
packed times and commands in 3.x form (ztk.devices.protocol3, no database)."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from pathlib import Path

import pytest

from ztk.devices import protocol, protocol3

SAMPLES = Path(__file__).resolve().parent / "samples" / "3x"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


class TestVersion:
    @pytest.mark.parametrize(
        ("pushver", "three"),
        [
            ("3.1.2", True),
            ("3.0.1", True),
            ("4.0", True),
            ("2.4.1", False),
            ("2.2.14", False),
            (None, False),
            ("", False),
            ("Ver 2.0.22-20161201", False),  # a push SDK build, not the protocol
            ("x3", False),
        ],
    )
    def test_is_protocol3(self, pushver, three):
        assert protocol3.is_protocol3(pushver) is three


class TestSession:
    def test_token_is_md5_of_code_serial_and_session(self):
        token = protocol3.session_token("Uy47fxftP3", "3383154200002", "30BFB04B")
        assert token == hashlib.md5(b"Uy47fxftP33383154200002" + b"30BFB04B").hexdigest()
        assert len(token) == 32

    @pytest.mark.parametrize(
        ("header", "token"),
        [
            ("token=9d41643bfba01fe8b49143c21defc20a", "9d41643bfba01fe8b49143c21defc20a"),
            ("token=9D41643BFBA01FE8B49143C21DEFC20A,timestamp=1700000000",
             "9d41643bfba01fe8b49143c21defc20a"),
            ("JSESSIONID=AB12; token=abcdef0123456789", "abcdef0123456789"),
            ("token=not-hex", ""),  # present but unusable: a wrong token, not a missing one
            ("JSESSIONID=AB12", None),
            (None, None),
        ],
    )  # fmt: skip
    def test_cookie_token(self, header, token):
        assert protocol3.cookie_token(header) == token


class TestRegistryAndAnswers:
    def test_registry_body_sample(self):
        values, errors = protocol3.parse_registry(sample("registry_body.txt"))
        assert errors == []
        assert values["DeviceType"] == "att"
        assert values["DeviceName"] == "SpeedFace-V5L"  # the ~ is dropped
        assert values["FirmVer"] == "ZAM180-NF-Ver1.1.17"
        assert values["MultiBioDataSupport"] == "0:1:0:0:0:0:0:0:0:1:0"

    def test_a_nul_in_a_registry_pair_refuses_that_pair_alone(self):
        values, errors = protocol3.parse_registry("DeviceType=att,~DeviceName=A\x00B,FirmVer=1")
        assert values == {"DeviceType": "att", "FirmVer": "1"}
        assert [e.code for e in errors] == ["invalid_text"]

    def test_our_init_answer_carries_every_key_of_the_vendor_answer(self):
        ours = protocol3.init_answer("c0de", "5E55", multi_bio_data="0:1:0:0:0:0:0:0:0:1:0")
        vendor = sample("init_answer_vendor.txt")
        keys = [line.split("=", 1)[0] for line in ours.splitlines()]
        assert keys[:2] == ["registry", "RegistryCode"]
        assert {line.split("=", 1)[0] for line in vendor.splitlines()} <= set(keys)
        assert "SessionID=5E55" in ours.splitlines()
        assert "MultiBioDataSupport=0:1:0:0:0:0:0:0:0:1:0" in ours.splitlines()

    def test_config_refuses_a_line_break_and_drops_an_odd_bio_list(self):
        with pytest.raises(ValueError):
            protocol3.config_answer("A\nRealtime=0")
        assert "MultiBio" not in protocol3.config_answer("A", multi_bio_data="1\nX=1")


class TestTabledata:
    def test_users(self):
        records, errors = protocol3.parse_tabledata(sample("tabledata_user_body.txt"), "user")
        assert errors == []
        assert [(r.fields["pin"], r.fields["name"]) for r in records] == [
            ("1002", "王芳"),
            ("1003", "Li Lei"),
        ]

    def test_a_line_of_another_table_or_not_key_value_is_refused_alone(self):
        text = "user pin=1\tname=A\nbiodata pin=2\tname=B\nuser pin=3\tgarbage\nuser pin=4\n"
        records, errors = protocol3.parse_tabledata(text, "user")
        assert [r.fields["pin"] for r in records] == ["1", "4"]
        assert [(e.line_no, e.code) for e in errors] == [(2, "bad_field"), (3, "bad_field")]

    def test_transactions_with_packed_times(self):
        records, errors = protocol3.parse_tabledata(
            sample("tabledata_transaction_body.txt"), "transaction"
        )
        punches = [protocol3.transaction_record(r) for r in records]
        assert errors == []
        assert [(p.pin, p.local_time, p.punch_state, p.verify_mode) for p in punches] == [
            ("1002", datetime(2026, 11, 25, 8, 55), 0, 15),
            ("1002", datetime(2026, 11, 25, 17, 31, 45), 1, 15),
        ]

    def test_packed_time_round_trip(self):
        moment = datetime(2031, 2, 28, 23, 59, 58)
        assert protocol3.decode_time(protocol.encode_device_time(moment)) == moment


class TestBiodata:
    def test_sample_templates_become_neutral_records(self):
        templates, errors = protocol3.parse_biodata(sample("tabledata_biodata_body.txt"))
        assert errors == []
        finger, face = templates
        assert (finger.pin, finger.type, finger.kind, finger.no) == ("1002", 1, "fingerprint", 6)
        assert (face.pin, face.type, face.kind, face.version) == (
            "1003",
            9,
            "face (visible light)",
            "58.1",
        )
        assert finger.valid and not finger.duress
        assert finger.data == hashlib.sha512(b"ztk sample fingerprint 1002").digest() * 8

    def test_the_2x_spelling_is_read_too(self):
        tmp = base64.b64encode(b"\x01\x02template").decode()
        text = f"BIODATA Pin=7\tNo=0\tIndex=0\tValid=1\tDuress=1\tType=1\tMajorVer=12\tMinorVer=0\tFormat=0\tTmp={tmp}\n"  # noqa: E501
        (template,), errors = protocol3.parse_biodata(text)
        assert errors == []
        assert (template.pin, template.duress, template.data) == ("7", True, b"\x01\x02template")

    def test_bad_templates_are_refused_and_never_logged(self):
        secret = base64.b64encode(b"S" * 30).decode()
        huge = base64.b64encode(b"x" * (protocol3.MAX_TEMPLATE_BYTES + 1)).decode()
        text = (
            f"biodata pin=1\ttype=1\ttmp=not*base64{secret}\n"
            f"biodata pin=\ttype=1\ttmp={secret}\n"
            f"biodata pin=3\ttmp={secret}\n"
            f"biodata pin=4\ttype=1\ttmp={huge}\n"
        )
        templates, errors = protocol3.parse_biodata(text)
        assert templates == []
        assert [(e.line_no, e.code) for e in errors] == [
            (1, "bad_field"),
            (2, "empty_pin"),
            (3, "too_few_fields"),
            (4, "line_too_long"),
        ]
        assert all(secret not in e.raw and "xxxx" not in e.raw for e in errors)


class TestRtlog:
    def test_sample_rtlog(self):
        records, errors = protocol.parse_rtlog(sample("rtlog_body.txt"))
        assert errors == []
        assert [(r.pin, r.verify_mode, protocol3.rtlog_event(r)) for r in records] == [
            ("1002", 15, 0),
            ("1003", 1, 0),  # the bit string 0000000000010000: fingerprint
            ("0", 200, 206),
            ("0", 4, 27),
            ("1004", 15, 23),
            ("1002", 15, 0),
        ]
        assert [protocol3.is_punch_event(protocol3.rtlog_event(r)) for r in records] == [
            True, True, True, False, False, True,
        ]  # fmt: skip

    @pytest.mark.parametrize(
        ("value", "code"),
        [("15", 15), ("0000000000000010", 15), ("0000100000000000", 4), ("0000100000010000", None),
         ("1" * 20, None), ("abc", None)],
    )  # fmt: skip
    def test_verify_codes(self, value, code):
        assert protocol.verify_code(value) == code


class TestCommands:
    NOW = datetime(2026, 11, 26, 9, 30, 5)

    @pytest.mark.parametrize(
        ("queued", "sent"),
        [
            ("DATA UPDATE USERINFO PIN=1002\tName=王芳\tPri=0\tPasswd=\tCard=\tGrp=1\tTZ=0",
             "DATA UPDATE user Pin=1002\tName=王芳\tPrivilege=0\tPassword=\tCardNo=\tGroup=1"),
            ("DATA DELETE USERINFO PIN=1002", "DATA DELETE user Pin=1002"),
            ("DATA QUERY USERINFO", "DATA QUERY tablename=user,fielddesc=*,filter=*"),
            ("DATA QUERY ATTLOG StartTime=2026-11-01 00:00:00\tEndTime=2026-11-02 00:00:00",
             "DATA QUERY tablename=transaction,fielddesc=*,"
             "filter=StartTime=2026-11-01 00:00:00,EndTime=2026-11-02 00:00:00"),
            ("DATA QUERY ATTLOG", "DATA QUERY tablename=transaction,fielddesc=*,filter=*"),
            ("REBOOT", "CONTROL DEVICE 03000000"),
            (protocol.SET_CLOCK, f"SET OPTIONS DateTime={protocol.encode_device_time(NOW)}"),
            ("DATA DELETE BIODATA Pin=1002\tType=1\tNo=6",
             "DATA DELETE biodata Pin=1002\tType=1\tNo=6"),
            ("INFO", None),
            ("CHECK", None),
            ("CLEAR PHOTO", None),
            ("DATA UPDATE USERINFO Name=nobody", None),
        ],
    )  # fmt: skip
    def test_translation(self, queued, sent):
        assert protocol3.command_text(queued, self.NOW) == sent

    def test_answer_count(self):
        assert protocol3.answer_count("biodata", 2) == "biodata=2"
        assert protocol3.answer_count("bad name\n", 1) == "data=1"


class TestBiodataTypeOfATerminal:
    def test_delete_uses_the_face_type_the_terminal_announced(self):
        from ztk.devices.biometrics import template_delete_command
        from ztk.devices.models import Device, PushProtocol

        visible = Device(serial="A", protocol=PushProtocol.V3)
        visible.options = {"registry": {"MultiBioDataSupport": "0:1:0:0:0:0:0:0:0:1:0"}}
        infrared = Device(serial="B", protocol=PushProtocol.V3)
        infrared.options = {"registry": {"MultiBioDataSupport": "0:1:1:0:0:0:0:0:0:0:0"}}
        silent = Device(serial="C", protocol=PushProtocol.V3)

        assert template_delete_command(visible, "face", 0, "7").endswith("Type=9\tNo=0")
        assert template_delete_command(infrared, "face", 0, "7").endswith("Type=2\tNo=0")
        assert template_delete_command(silent, "face", 0, "7").endswith("Type=2\tNo=0")
        assert template_delete_command(visible, "finger", 6, "7").endswith("Type=1\tNo=6")
