"""Tests for the pure ZKTeco protocol layer, driven by the sample captures in fixtures."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ztk.devices.protocol import (
    ERROR_CODES,
    MAX_LINE_LENGTH,
    PUNCH_STATES,
    VERIFY_MODES,
    AttLogRecord,
    CommandResult,
    LineError,
    OperLogEntry,
    decode_body,
    format_commands,
    handshake_response,
    parse_attlog,
    parse_attphoto,
    parse_devicecmd,
    parse_info,
    parse_operlog,
    parse_options,
    parse_rtlog,
    parse_timestamp,
    parse_usb_attlog,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "zkteco"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_text(name: str) -> str:
    return decode_body(fixture_bytes(name))


# --------------------------------------------------------------------------- USB export


class TestUsbAttlogFixture:
    def test_file_really_uses_crlf_and_padded_pins(self):
        data = fixture_bytes("1_attlog.dat")
        assert data.count(b"\r\n") == 30
        assert data.startswith(b"        1\t")

    def test_all_thirty_lines_parse(self):
        records, errors = parse_usb_attlog(fixture_text("1_attlog.dat"))
        assert errors == []
        assert len(records) == 30
        assert [r.line_no for r in records] == list(range(1, 31))

    def test_five_pins_three_days_two_punches(self):
        records, _ = parse_usb_attlog(fixture_text("1_attlog.dat"))
        assert Counter(r.pin for r in records) == {"1": 6, "2": 6, "15": 6, "108": 6, "2001": 6}
        for pin in ("1", "2", "15", "108", "2001"):
            days = Counter(r.local_time.date() for r in records if r.pin == pin)
            assert sorted(d.day for d in days) == [23, 24, 25]
            assert set(days.values()) == {2}

    def test_first_record_read_by_hand(self):
        records, _ = parse_usb_attlog(fixture_text("1_attlog.dat"))
        first = records[0]
        assert first == AttLogRecord(
            line_no=1,
            raw="        1\t2026-11-23 09:09:25\t1\t0\t1\t0",
            pin="1",
            local_time=datetime(2026, 11, 23, 9, 9, 25),
            punch_state=0,
            verify_mode=1,
            work_code="0",
            extra=(),
            machine_no=1,
        )

    def test_other_records_read_by_hand(self):
        records, _ = parse_usb_attlog(fixture_text("1_attlog.dat"))
        by_line = {r.line_no: r for r in records}
        assert by_line[2].local_time == datetime(2026, 11, 23, 18, 4, 52)
        assert (by_line[2].punch_state, by_line[2].verify_mode) == (1, 15)
        assert by_line[13].pin == "15"
        assert by_line[13].local_time == datetime(2026, 11, 23, 8, 18, 26)
        assert by_line[20].pin == "108"
        assert by_line[20].local_time == datetime(2026, 11, 23, 19, 49, 20)
        last = by_line[30]
        assert last.pin == "2001"
        assert last.local_time == datetime(2026, 11, 25, 18, 59, 31)
        assert (last.machine_no, last.punch_state, last.verify_mode) == (1, 1, 15)

    def test_in_and_out_pairs_are_consistent(self):
        records, _ = parse_usb_attlog(fixture_text("1_attlog.dat"))
        assert {(r.punch_state, r.verify_mode) for r in records} == {(0, 1), (1, 15)}
        assert {r.machine_no for r in records} == {1}
        assert {r.work_code for r in records} == {"0"}
        assert all(r.local_time.tzinfo is None for r in records)

    def test_lf_only_gives_the_same_records(self):
        text = fixture_text("1_attlog.dat")
        assert parse_usb_attlog(text.replace("\r\n", "\n")) == parse_usb_attlog(text)

    def test_push_body_is_rejected_by_column_count(self):
        """A push body fed to the USB parser must not be misread (column 3 differs)."""
        records, errors = parse_usb_attlog(fixture_text("attlog_push_body.txt"))
        assert records == []
        assert [e.code for e in errors] == ["too_many_fields"] * 5


class TestUsbAttlogErrors:
    def test_malformed_lines_are_rejected_alone(self):
        text = "\r\n".join(
            [
                "        1\t2026-11-23 09:09:25\t1\t0\t1\t0",
                "        1\t2026-11-23 09:09:25\t1\t0",
                "         \t2026-11-23 09:09:25\t1\t0\t1\t0",
                "        7\t2026-02-30 09:00:00\t1\t0\t1\t0",
                "        8\t2026-11-23 09:09:25\tA\t0\t1\t0",
                "        9\t2026-11-23 09:09:25\t1\t0\t1\t0\t0",
                "       10\t2026-11-23 09:10:00\t2\t1\t4\t",
            ]
        )
        records, errors = parse_usb_attlog(text)
        assert [(r.line_no, r.pin, r.machine_no) for r in records] == [(1, "1", 1), (7, "10", 2)]
        assert records[1].work_code == ""
        assert [(e.line_no, e.code) for e in errors] == [
            (2, "too_few_fields"),
            (3, "empty_pin"),
            (4, "impossible_timestamp"),
            (5, "bad_number"),
            (6, "too_many_fields"),
        ]


# --------------------------------------------------------------------------- push ATTLOG


class TestPushAttlogFixture:
    def test_five_records_no_errors(self):
        records, errors = parse_attlog(fixture_text("attlog_push_body.txt"))
        assert errors == []
        assert [r.pin for r in records] == ["1", "2", "15", "108", "2001"]

    def test_first_line_read_by_hand(self):
        records, _ = parse_attlog(fixture_text("attlog_push_body.txt"))
        assert records[0] == AttLogRecord(
            line_no=1,
            raw="1\t2026-11-26 08:57:03\t0\t1\t0\t0\t0",
            pin="1",
            local_time=datetime(2026, 11, 26, 8, 57, 3),
            punch_state=0,
            verify_mode=1,
            work_code="0",
            extra=("0", "0"),
        )
        assert records[0].machine_no is None

    def test_face_verify(self):
        records, _ = parse_attlog(fixture_text("attlog_push_body.txt"))
        assert records[1].verify_mode == 15
        assert VERIFY_MODES[records[1].verify_mode] == "face"

    def test_state_255_is_kept(self):
        records, _ = parse_attlog(fixture_text("attlog_push_body.txt"))
        line3 = records[2]
        assert (line3.pin, line3.punch_state, line3.verify_mode) == ("15", 255, 4)
        assert line3.local_time == datetime(2026, 11, 26, 8, 49, 11)
        assert PUNCH_STATES[255] == "no key pressed"

    def test_ten_column_line(self):
        records, _ = parse_attlog(fixture_text("attlog_push_body.txt"))
        line4 = records[3]
        assert line4.raw.count("\t") == 9
        assert (line4.pin, line4.verify_mode, line4.work_code) == ("108", 25, "0")
        assert line4.extra == ("0",) * 5
        assert line4.local_time == datetime(2026, 11, 26, 8, 59, 59)

    def test_empty_work_code_and_reserved_fields(self):
        records, _ = parse_attlog(fixture_text("attlog_push_body.txt"))
        line5 = records[4]
        assert line5.pin == "2001"
        assert line5.local_time == datetime(2026, 11, 26, 9, 0, 0)
        assert (line5.punch_state, line5.verify_mode) == (0, 1)
        assert line5.work_code == ""
        assert line5.extra == ("", "")

    def test_crlf_gives_the_same_records(self):
        text = fixture_text("attlog_push_body.txt")
        assert "\r" not in text
        assert parse_attlog(text.replace("\n", "\r\n")) == parse_attlog(text)


class TestPushAttlogRules:
    def test_only_pin_and_time_are_required(self):
        records, errors = parse_attlog("42\t2026-11-26 08:00:00")
        assert errors == []
        assert records[0].punch_state is None
        assert records[0].verify_mode is None
        assert records[0].work_code == ""
        assert records[0].extra == ()

    def test_unknown_codes_are_kept_as_ints(self):
        records, _ = parse_attlog("42\t2026-11-26 08:00:00\t7\t99\t3")
        assert (records[0].punch_state, records[0].verify_mode, records[0].work_code) == (
            7,
            99,
            "3",
        )

    def test_blank_lines_are_ignored_but_counted(self):
        text = "\n1\t2026-11-26 08:00:00\n   \n\t\n2\t2026-11-26 09:00:00\n\n"
        records, errors = parse_attlog(text)
        assert errors == []
        assert [(r.line_no, r.pin) for r in records] == [(2, "1"), (5, "2")]

    def test_empty_body(self):
        assert parse_attlog("") == ([], [])
        assert parse_attlog("\r\n\r\n") == ([], [])

    def test_malformed_lines_rejected_alone_rest_of_batch_parses(self):
        good = fixture_text("attlog_push_body.txt").splitlines()
        bad = [
            "garbage without tabs",
            "\t2026-11-26 08:00:00\t0\t1",
            "77\t26-11-26 08:00:00\t0\t1",
            "78\t2026-02-30 08:00:00\t0\t1",
            "79\t1999-12-31 23:59:59\t0\t1",
            "80\t2026-11-26 08:00:00\tIN\t1",
            "81\t2026-11-26 08:00:00\t0\tfinger",
            "82\t2026-11-26 08:00:00\t0\t" + "1" * MAX_LINE_LENGTH,
            "x" * 30 + "\t2026-11-26 08:00:00",
        ]
        mixed = [line for pair in zip(good, bad, strict=False) for line in pair] + bad[len(good) :]
        records, errors = parse_attlog("\n".join(mixed))
        assert [r.pin for r in records] == ["1", "2", "15", "108", "2001"]
        assert [e.code for e in errors] == [
            "too_few_fields",
            "empty_pin",
            "bad_timestamp",
            "impossible_timestamp",
            "impossible_timestamp",
            "bad_number",
            "bad_number",
            "line_too_long",
            "pin_too_long",
        ]
        assert all(e.code in ERROR_CODES for e in errors)
        assert all(e.reason for e in errors)
        assert {r.line_no for r in records}.isdisjoint(e.line_no for e in errors)
        assert errors[0] == LineError(2, "garbage without tabs", "too_few_fields", errors[0].reason)

    def test_line_too_long_keeps_only_a_prefix(self):
        _, errors = parse_attlog("1\t" + "9" * 100_000)
        assert errors[0].code == "line_too_long"
        assert len(errors[0].raw) == MAX_LINE_LENGTH

    @pytest.mark.parametrize(
        "value",
        [
            "2026-02-30 08:00:00",
            "2025-02-29 08:00:00",
            "2026-13-01 08:00:00",
            "2026-00-10 08:00:00",
            "2026-11-26 24:00:00",
            "2026-11-26 08:60:00",
            "2026-11-26 08:00:60",
            "1999-12-31 23:59:59",
            "0000-00-00 00:00:00",
            "2100-01-01 00:00:00",
        ],
    )
    def test_impossible_dates(self, value):
        records, errors = parse_attlog(f"1\t{value}\t0\t1")
        assert records == []
        assert errors[0].code == "impossible_timestamp"
        with pytest.raises(ValueError) as info:
            parse_timestamp(value)
        assert info.value.args[0] == "impossible_timestamp"

    @pytest.mark.parametrize(
        "value",
        [
            "",
            "yesterday",
            "2026/11/26 08:00:00",
            "2026-11-26",
            "2026-11-26 08:00",
            "٢٠٢٦-11-26 08:00:00",
        ],
    )
    def test_bad_timestamps(self, value):
        _, errors = parse_attlog(f"1\t{value}\t0\t1")
        assert errors[0].code == "bad_timestamp"

    def test_leap_day_and_iso_separator_are_fine(self):
        assert parse_timestamp("2028-02-29 23:59:59") == datetime(2028, 2, 29, 23, 59, 59)
        assert parse_timestamp(" 2026-11-26T08:00:00 ") == datetime(2026, 11, 26, 8, 0)
        assert parse_timestamp("2000-01-01 00:00:00") == datetime(2000, 1, 1)


# --------------------------------------------------------------------------- OPERLOG

USER_108 = {
    "PIN": "108",
    "Name": "张伟",
    "Pri": "0",
    "Passwd": "",
    "Card": "0",
    "Grp": "1",
    "TZ": "0000000000000000",
}


class TestOperlog:
    def test_fixture_is_gb18030_not_utf8(self):
        data = fixture_bytes("operlog_gb18030_body.bin")
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        assert "Name=张伟" in decode_body(data)

    def test_gb18030_fixture(self):
        entries, errors = parse_operlog(fixture_text("operlog_gb18030_body.bin"))
        assert errors == []
        assert [e.kind for e in entries] == ["OPLOG", "USER"]
        oplog, user = entries
        assert oplog.fields == ("4", "0", "2026-11-26 08:30:00", "0", "0", "0", "0")
        assert oplog.local_time == datetime(2026, 11, 26, 8, 30)
        assert oplog.line_no == 1
        assert user == OperLogEntry(
            line_no=2,
            kind="USER",
            fields=USER_108,
            raw="USER PIN=108\tName=张伟\tPri=0\tPasswd=\tCard=0\tGrp=1\tTZ=0000000000000000",
        )

    def test_utf8_variant_gives_the_same_entries(self):
        gb_text = fixture_text("operlog_gb18030_body.bin")
        utf8 = gb_text.encode("utf-8")
        assert utf8 != fixture_bytes("operlog_gb18030_body.bin")
        assert decode_body(utf8) == gb_text
        assert decode_body(b"\xef\xbb\xbf" + utf8) == gb_text
        assert parse_operlog(decode_body(utf8)) == parse_operlog(gb_text)

    def test_crlf_variant_gives_the_same_entries(self):
        text = fixture_text("operlog_gb18030_body.bin")
        assert parse_operlog(text.replace("\n", "\r\n")) == parse_operlog(text)

    def test_fp_biodata_and_unknown_tags(self):
        template = "TWFTUzIxAAAD" * 200 + "=="
        text = "\n".join(
            [
                f"FP PIN=108\tFID=6\tSize={len(template)}\tValid=1\tTMP={template}",
                "BIODATA Pin=108\tNo=0\tIndex=0\tValid=1\tType=9\tTmp=AAA=",
                "WEIRD a\tb\tc",
                "ERRORLOG ErrCode=1\tDataOrigin=x",
            ]
        )
        entries, errors = parse_operlog(text)
        assert errors == []
        fp, bio, weird, errlog = entries
        assert fp.kind == "FP"
        assert fp.fields["TMP"] == template
        assert fp.fields["FID"] == "6"
        assert bio.kind == "BIODATA"
        assert bio.fields["Tmp"] == "AAA="
        assert weird.fields == ("a", "b", "c")
        assert errlog.fields == {"ErrCode": "1", "DataOrigin": "x"}

    def test_malformed_operlog_lines(self):
        text = "\n".join(
            [
                "OPLOG 4\t0\t2026-11-26 08:30:00\t0\t0\t0\t0",
                "PIN=108\tName=x",
                "OPLOG 4\t0",
                "OPLOG 4\t0\t2026-02-30 08:30:00\t0\t0\t0\t0",
                "USER PIN=\tName=nobody",
                "USER PIN=5\tName",
                "USER " + "Name=x\t" * 300,
                "USER PIN=9\tName=李娜\tPri=14",
            ]
        )
        entries, errors = parse_operlog(text)
        assert [(e.line_no, e.kind) for e in entries] == [(1, "OPLOG"), (8, "USER")]
        assert entries[1].fields == {"PIN": "9", "Name": "李娜", "Pri": "14"}
        assert [(e.line_no, e.code) for e in errors] == [
            (2, "missing_tag"),
            (3, "too_few_fields"),
            (4, "impossible_timestamp"),
            (5, "empty_pin"),
            (6, "bad_field"),
            (7, "line_too_long"),
        ]


# --------------------------------------------------------------------------- decoding


class TestDecodeBody:
    def test_plain_ascii(self):
        assert decode_body(b"1\t2026-11-26 08:00:00\n") == "1\t2026-11-26 08:00:00\n"

    def test_bom_and_trailing_nuls_are_dropped(self):
        assert decode_body(b"\xef\xbb\xbfOK\x00\x00") == "OK"

    def test_gb18030_name(self):
        assert decode_body("Name=王芳".encode("gb18030")) == "Name=王芳"

    def test_undecodable_bytes_never_raise(self):
        text = decode_body(b"\xff\xff\x80\x00abc")
        assert isinstance(text, str)
        assert text.endswith("abc")


# --------------------------------------------------------------------------- rtlog (3.x)


class TestRtlog:
    def test_punch_line(self):
        text = (
            "time=2026-11-26 08:15:00\tpin=108\tcardno=0\teventaddr=1\tevent=0\t"
            "inoutstatus=1\tverifytype=15\r\n"
            "time=2026-11-26 08:16:00\tpin=\tcardno=0\teventaddr=1\tevent=8\t"
            "inoutstatus=2\tverifytype=200\r\n"
            "pin=3\tevent=0\r\n"
        )
        records, errors = parse_rtlog(text)
        assert len(records) == 1
        record = records[0]
        assert record.pin == "108"
        assert record.local_time == datetime(2026, 11, 26, 8, 15)
        assert (record.punch_state, record.verify_mode) == (1, 15)
        assert record.extra == ("cardno=0", "eventaddr=1", "event=0")
        assert [(e.line_no, e.code) for e in errors] == [(2, "empty_pin"), (3, "too_few_fields")]


# --------------------------------------------------------------------------- options / INFO


class TestOptionsAndInfo:
    def test_options_commas_and_newlines(self):
        text = (
            "~DeviceName=K40/ID,MAC=00:17:61:aa:bb:cc,TransactionCount=350,"
            "~MaxAttLogCount=10,UserCount=12\n~ZKFPVersion=10\r\nIPAddress=192.168.1.201,"
            "FPCount=10,,FWVersion=Ver 6.60 Apr 29 2019"
        )
        options, errors = parse_options(text)
        assert errors == []
        assert options == {
            "DeviceName": "K40/ID",
            "MAC": "00:17:61:aa:bb:cc",
            "TransactionCount": "350",
            "MaxAttLogCount": "10",
            "UserCount": "12",
            "ZKFPVersion": "10",
            "IPAddress": "192.168.1.201",
            "FPCount": "10",
            "FWVersion": "Ver 6.60 Apr 29 2019",
        }

    def test_options_value_with_a_comma_is_rejoined(self):
        assert parse_options("~Platform=ZEM560,TFT,~OEMVendor=ZK")[0] == {
            "Platform": "ZEM560,TFT",
            "OEMVendor": "ZK",
        }

    def test_options_empty(self):
        assert parse_options("") == ({}, [])

    def test_info(self):
        info, errors = parse_info("Ver 8.0.4.1-20181105,3,10,20,192.168.1.201,10,7,15,0,111,extra")
        assert errors == []
        assert info == {
            "firmware": "Ver 8.0.4.1-20181105",
            "user_count": "3",
            "fp_count": "10",
            "log_count": "20",
            "ip": "192.168.1.201",
            "fp_algorithm": "10",
            "face_algorithm": "7",
            "face_enroll_count": "15",
            "face_count": "0",
            "functions": "111",
            "field_10": "extra",
        }

    def test_short_and_empty_info(self):
        assert parse_info("Ver 2.0,1,2")[0] == {
            "firmware": "Ver 2.0",
            "user_count": "1",
            "fp_count": "2",
        }
        assert parse_info("") == ({}, [])


# --------------------------------------------------------------------------- commands


class TestCommands:
    def test_format_commands(self):
        text = format_commands(
            [
                (1, "INFO"),
                (2, "CHECK"),
                ("a7", "DATA UPDATE USERINFO PIN=108\tName=张伟\tPri=0"),
            ]
        )
        assert text == (
            "C:1:INFO\nC:2:CHECK\nC:a7:DATA UPDATE USERINFO PIN=108\tName=张伟\tPri=0\n"
        )

    def test_no_commands_is_ok(self):
        assert format_commands([]) == "OK"
        assert format_commands(iter(())) == "OK"

    @pytest.mark.parametrize(
        ("command_id", "command"),
        [(1, "INFO\nC:2:CLEAR LOG"), (1, "INFO\r"), (1, ""), ("1:2", "INFO"), ("", "INFO")],
    )
    def test_commands_cannot_smuggle_lines(self, command_id, command):
        with pytest.raises(ValueError):
            format_commands([(command_id, command)])

    def test_devicecmd(self):
        text = (
            "ID=1&Return=0&CMD=DATA\n"
            "ID=2&Return=-1002&CMD=DATA UPDATE USERINFO\r\n"
            "\n"
            "ID=abc&Return=&CMD=CHECK&Extra=1\n"
        )
        assert parse_devicecmd(text)[0] == [
            CommandResult(id=1, return_code=0, cmd="DATA", raw="ID=1&Return=0&CMD=DATA"),
            CommandResult(
                id=2,
                return_code=-1002,
                cmd="DATA UPDATE USERINFO",
                raw="ID=2&Return=-1002&CMD=DATA UPDATE USERINFO",
            ),
            CommandResult(
                id="abc",
                return_code=None,
                cmd="CHECK",
                raw="ID=abc&Return=&CMD=CHECK&Extra=1",
                extra={"Extra": "1"},
            ),
        ]

    def test_devicecmd_info_answer_lines_join_their_command(self):
        text = "ID=5&Return=0&CMD=INFO\n~DeviceName=K40\nMAC=00:17:61:aa:bb:cc\nUserCount=12\n"
        (result,), _errors = parse_devicecmd(text)
        assert (result.id, result.return_code, result.cmd) == (5, 0, "INFO")
        assert result.extra == {
            "DeviceName": "K40",
            "MAC": "00:17:61:aa:bb:cc",
            "UserCount": "12",
        }

    def test_devicecmd_orphan_lines_are_not_lost(self):
        (result,), _errors = parse_devicecmd("garbage\nfoo=bar")
        assert result.id == ""
        assert result.extra == {"garbage": "", "foo": "bar"}

    def test_devicecmd_empty(self):
        assert parse_devicecmd("") == ([], [])


# --------------------------------------------------------------------------- handshake

NEW_STYLE = (
    "GET OPTION FROM: CQZ7224460123\n"
    "ATTLOGStamp=9999\n"
    "OPERLOGStamp=0\n"
    "ATTPHOTOStamp=0\n"
    "ErrorDelay=30\n"
    "Delay=10\n"
    "TransTimes=00:00;14:05\n"
    "TransInterval=1\n"
    "TransFlag=TransData AttLog\tOpLog\tAttPhoto\tEnrollUser\tChgUser\n"
    "TimeZone=8\n"
    "Realtime=1\n"
    "Encrypt=0\n"
    "ServerVer=2.4.1\n"
)


class TestHandshake:
    def test_pushver_firmware(self):
        text = handshake_response(
            "CQZ7224460123", {"ATTLOG": "9999", "OPERLOG": ""}, pushver="2.4.1", timezone_hours=8
        )
        assert text == NEW_STYLE

    def test_old_firmware_uses_old_stamp_names(self):
        text = handshake_response(
            "OLD123",
            {"ATTLOG": "5", "OPERLOG": "6", "ATTPHOTO": "7"},
            pushver=None,
            timezone_hours=5.5,
            delay=20,
            error_delay=60,
            trans_interval=2,
            realtime=False,
        )
        assert text == (
            "GET OPTION FROM: OLD123\n"
            "Stamp=5\n"
            "OpStamp=6\n"
            "PhotoStamp=7\n"
            "ErrorDelay=60\n"
            "Delay=20\n"
            "TransTimes=00:00;14:05\n"
            "TransInterval=2\n"
            "TransFlag=TransData AttLog\tOpLog\tAttPhoto\tEnrollUser\tChgUser\n"
            "TimeZone=5.5\n"
            "Realtime=0\n"
            "Encrypt=0\n"
            "ServerVer=2.4.1\n"
        )
        assert "ATTLOGStamp" not in text

    @pytest.mark.parametrize(
        ("hours", "expected"),
        [(8, "8"), (8.0, "8"), (0, "0"), (-5, "-5"), (5.5, "5.5"), (5.75, "5.75"), (-3.5, "-3.5")],
    )
    def test_timezone_format(self, hours, expected):
        text = handshake_response("SN", {}, pushver="2.4.1", timezone_hours=hours)
        assert f"\nTimeZone={expected}\n" in text

    def test_bad_values_are_refused(self):
        with pytest.raises(ValueError):
            handshake_response("SN", {}, pushver=None, timezone_hours=float("nan"))
        with pytest.raises(ValueError):
            handshake_response("SN", {}, pushver=None, timezone_hours=15)
        with pytest.raises(ValueError):
            handshake_response("SN\nDelay=1", {}, pushver=None, timezone_hours=8)
        with pytest.raises(ValueError):
            handshake_response("SN", {"ATTLOG": "1\r\nDelay=1"}, pushver=None, timezone_hours=8)

    def test_older_bitmask_trans_flag_can_be_sent(self):
        text = handshake_response("SN", {}, pushver=None, timezone_hours=8, trans_flag="1111000000")
        assert "\nTransFlag=1111000000\n" in text


# --------------------------------------------------------------------------- ATTPHOTO

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) + b"\xff\xd9"


class TestAttPhoto:
    def test_header_nul_then_jpeg(self):
        body = b"PIN=20261126081500-108.jpg\nSN=CQZ7224460123\nsize=%d\nCMD=uploadphoto\x00" % len(
            JPEG
        )
        header, image, _errors = parse_attphoto(body + JPEG)
        assert header == {
            "PIN": "20261126081500-108.jpg",
            "SN": "CQZ7224460123",
            "size": str(len(JPEG)),
            "CMD": "uploadphoto",
        }
        assert image == JPEG

    def test_picture_prefix_and_crlf(self):
        body = b"PIN=1.jpg\r\nSN=X\r\nsize=5\r\nCMD=uploadphoto\r\npicture=" + JPEG
        header, image, _errors = parse_attphoto(body)
        assert header["PIN"] == "1.jpg"
        assert image == JPEG

    def test_tab_separated_header_and_no_jpeg_marker(self):
        header, image, _errors = parse_attphoto(b"PIN=42\tSN=0\tsize=3\tCMD=uploadphoto\r\nabc")
        assert header == {"PIN": "42", "SN": "0", "size": "3", "CMD": "uploadphoto"}
        assert image == b"abc"

    def test_no_marker_at_all(self):
        assert parse_attphoto(b"PIN=1\nSN=2\n") == ({"PIN": "1", "SN": "2"}, b"", [])
        assert parse_attphoto(b"") == ({}, b"", [])
        assert parse_attphoto(b"PIN=1\n" + JPEG) == ({"PIN": "1"}, JPEG, [])


# --------------------------------------------------------------------------- properties

PARSERS = [parse_attlog, parse_usb_attlog, parse_rtlog, parse_operlog]

# Characters that matter to the grammar, so generated text hits the interesting branches.
NOISY = st.text(
    alphabet=st.sampled_from(
        ["\t", "\n", "\r", " ", "0", "1", "2", "9", "-", ":", "=", "&", "~", ",", "A", "张", "\x00"]
    ),
    max_size=200,
)
LINE_ALPHABET = st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",))


def _valid_attlog_line(draw) -> str:
    pin = draw(st.from_regex(r"[0-9]{1,9}", fullmatch=True))
    when = draw(
        st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31, 23, 59, 59))
    ).replace(microsecond=0)
    columns = [pin, when.strftime("%Y-%m-%d %H:%M:%S")]
    columns += [str(draw(st.integers(0, 255))) for _ in range(draw(st.integers(0, 2)))]
    return "\t".join(columns)


@st.composite
def attlog_lines(draw) -> list[str]:
    """A mix of valid punch lines, near misses and arbitrary junk without line breaks."""
    lines = []
    for kind in draw(st.lists(st.integers(0, 2), max_size=12)):
        if kind == 0:
            lines.append(_valid_attlog_line(draw))
        elif kind == 1:
            lines.append(draw(st.text(LINE_ALPHABET, max_size=40)))
        else:
            lines.append(draw(NOISY).replace("\r", "").replace("\n", ""))
    return lines


def _non_blank_line_numbers(text: str) -> set[int]:
    return {
        index for index, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1) if line.strip()
    }


def _without_line_no(item) -> str:
    """A hashable picture of a result that ignores where in the body it came from."""
    return repr(
        [type(item).__name__] + [getattr(item, n) for n in item.__slots__ if n != "line_no"]
    )


class TestProperties:
    @given(st.one_of(st.text(), NOISY))
    def test_parsers_never_raise_on_text(self, text):
        for parser in PARSERS:
            parser(text)
        parse_options(text)
        parse_info(text)
        parse_devicecmd(text)

    @given(st.binary())
    def test_byte_level_functions_never_raise(self, data):
        text = decode_body(data)
        assert isinstance(text, str)
        parse_attphoto(data)
        for parser in PARSERS:
            parser(text)

    @given(st.one_of(st.text(), NOISY, attlog_lines().map("\n".join)))
    def test_every_line_parsed_or_rejected_never_both_never_lost(self, text):
        expected = _non_blank_line_numbers(text)
        for parser in PARSERS:
            items, errors = parser(text)
            parsed = [item.line_no for item in items]
            rejected = [error.line_no for error in errors]
            assert len(parsed) == len(set(parsed))
            assert len(rejected) == len(set(rejected))
            assert set(parsed).isdisjoint(rejected)
            assert set(parsed) | set(rejected) == expected
            assert all(error.code in ERROR_CODES and error.reason for error in errors)

    @given(attlog_lines())
    def test_crlf_and_lf_give_the_same_results(self, lines):
        for parser in PARSERS:
            assert parser("\r\n".join(lines)) == parser("\n".join(lines))
            assert parser("\n".join(lines) + "\n") == parser("\n".join(lines))

    @given(st.data())
    def test_line_order_does_not_change_results(self, data):
        lines = data.draw(attlog_lines())
        shuffled = data.draw(st.permutations(lines))
        for parser in PARSERS:
            items_a, errors_a = parser("\n".join(lines))
            items_b, errors_b = parser("\n".join(shuffled))
            assert Counter(map(_without_line_no, items_a)) == Counter(
                map(_without_line_no, items_b)
            )
            assert Counter(map(_without_line_no, errors_a)) == Counter(
                map(_without_line_no, errors_b)
            )

    @given(
        st.lists(
            st.tuples(
                st.from_regex(r"[0-9A-Za-z]{1,24}", fullmatch=True),
                st.datetimes(
                    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31, 23, 59, 59)
                ),
                st.integers(0, 255),
                st.integers(0, 255),
                st.sampled_from(["", "0", "17"]),
            ),
            max_size=20,
        )
    )
    def test_valid_lines_round_trip(self, rows):
        body = "".join(
            f"{pin}\t{when:%Y-%m-%d %H:%M:%S}\t{state}\t{verify}\t{code}\t0\t0\r\n"
            for pin, when, state, verify, code in rows
        )
        usb = "".join(
            f"{pin:>9}\t{when:%Y-%m-%d %H:%M:%S}\t1\t{state}\t{verify}\t{code}\r\n"
            for pin, when, state, verify, code in rows
        )
        expected = [
            (pin, when.replace(microsecond=0), state, verify, code)
            for pin, when, state, verify, code in rows
        ]
        for parser, text in ((parse_attlog, body), (parse_usb_attlog, usb)):
            records, errors = parser(text)
            assert errors == []
            assert [
                (r.pin, r.local_time, r.punch_state, r.verify_mode, r.work_code) for r in records
            ] == expected

    @given(st.integers(-48, 56))
    def test_quarter_hour_time_zones_round_trip(self, quarters):
        hours = quarters / 4
        text = handshake_response("SN", {}, pushver="2.4.1", timezone_hours=hours)
        (value,) = re.findall(r"^TimeZone=(.*)$", text, re.MULTILINE)
        assert float(value) == hours
        assert re.fullmatch(r"-?[0-9]+(\.[0-9]{1,2})?", value)

    @given(
        st.lists(
            st.tuples(
                st.one_of(
                    st.integers(0, 10**9), st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)
                ),
                st.text(LINE_ALPHABET, min_size=1, max_size=60),
            ),
            max_size=10,
        )
    )
    def test_format_commands_one_line_per_command(self, commands):
        text = format_commands(commands)
        if not commands:
            assert text == "OK"
            return
        lines = text.split("\n")
        assert lines[-1] == ""
        assert lines[:-1] == [f"C:{command_id}:{command}" for command_id, command in commands]

    @given(st.text())
    def test_decode_body_round_trips_utf8(self, text):
        text = text.lstrip("\ufeff").rstrip("\x00")
        assert decode_body(text.encode("utf-8")) == text
