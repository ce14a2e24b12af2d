"""National IDs, dates and the profile's fields: the rules every path shares (DOMAIN.md)."""
import datetime as dt

import pytest

from records import domain, rocdate
from records.errors import NationalIdInvalid
from records.profile.domain import read_profile

TODAY = dt.date(2026, 11, 30)


@pytest.mark.parametrize("raw", ["A123456789", "a123456789", "Ａ１２３４５６７８９", " A12345 6789 ", "A123456789\u200b",
                                 "ａ123456789"])
def test_a_valid_citizen_id_in_any_typing_normalises_to_one_form(raw):
    assert domain.validate_national_id(raw, today=TODAY) == "A123456789"


@pytest.mark.parametrize("raw,kind", [("A800000014", "resident"), ("A900000016", "resident"),
                                      ("AC01234567", "old_resident"), ("B223456782", "citizen")])
def test_formats_and_checksums(raw, kind):
    nid = domain.normalize_national_id(raw)
    assert domain.national_id_kind(nid) == kind
    assert domain.national_id_checksum_ok(nid)


@pytest.mark.parametrize("raw,code", [("A123456788", "national_id_checksum"), ("A323456789", "national_id_invalid"),
                                      ("1234567890", "national_id_invalid"), ("A12345678", "national_id_invalid"),
                                      ("", "national_id_missing"), ("AE01234567", "national_id_invalid")])
def test_bad_national_ids_are_refused_without_quoting_them(raw, code):
    with pytest.raises(NationalIdInvalid) as e:
        domain.validate_national_id(raw, today=TODAY)
    assert e.value.code == code and (not raw or raw not in str(e.value))


def test_old_two_letter_resident_numbers_are_valid_until_2031():
    assert domain.validate_national_id("ac01234567", today=dt.date(2030, 12, 31)) == "AC01234567"
    with pytest.raises(NationalIdInvalid) as e:
        domain.validate_national_id("AC01234567", today=dt.date(2031, 1, 1))
    assert e.value.code == "national_id_expired_format"


def test_old_resident_numbers_follow_the_platform_clock(monkeypatch):
    monkeypatch.setenv("PORTFOLIO_CLOCK_OFFSET_SECONDS", str(10 * 365 * 86400))  # ten years on
    with pytest.raises(NationalIdInvalid):
        domain.validate_national_id("AC01234567")
    monkeypatch.setenv("PORTFOLIO_CLOCK_OFFSET_SECONDS", "0")
    assert domain.validate_national_id("AC01234567")


@pytest.mark.parametrize("raw,expected", [
    ("0940315", dt.date(2005, 3, 15)), ("940315", dt.date(2005, 3, 15)), ("1000101", dt.date(2011, 1, 1)),
    ("94/3/15", dt.date(2005, 3, 15)), ("94-03-15", dt.date(2005, 3, 15)), ("94.03.15", dt.date(2005, 3, 15)),
    ("094/03/15", dt.date(2005, 3, 15)), ("民國94年3月15日", dt.date(2005, 3, 15)), ("94年3月15日", dt.date(2005, 3, 15)),
    ("2005-03-15", dt.date(2005, 3, 15)), ("2005/3/15", dt.date(2005, 3, 15)), ("20050315", dt.date(2005, 3, 15)),
    ("2005年3月15日", dt.date(2005, 3, 15)), ("西元2005年3月15日", dt.date(2005, 3, 15)),
    ("2005-03-15 00:00:00", dt.date(2005, 3, 15)), ("2005-03-15T00:00:00", dt.date(2005, 3, 15)),
    ("９４／０３／１５", dt.date(2005, 3, 15)), ("2004/02/29", dt.date(2004, 2, 29)), ("93/2/29", dt.date(2004, 2, 29)),
])
def test_roc_and_gregorian_spellings_are_read(raw, expected):
    assert rocdate.parse_date(raw) == expected


@pytest.mark.parametrize("raw,code", [
    ("94/02/31", "date_impossible"), ("0940231", "date_impossible"), ("2005-13-01", "date_impossible"),
    ("95/02/29", "date_impossible"), ("2005/00/10", "date_impossible"), ("0/1/1", "date_impossible"),
    ("民國2005年3月15日", "date_mixed_era"), ("西元94年3月15日", "date_mixed_era"), ("0094/03/15", "date_mixed_era"),
    ("15/03/2005", "date_format"), ("March 15", "date_format"), ("12345", "date_format"), ("", "date_missing"),
    ("1899-01-01", "date_impossible"),
])
def test_impossible_and_mixed_era_dates_are_refused(raw, code):
    with pytest.raises(rocdate.DateInvalid) as e:
        rocdate.parse_date(raw)
    assert e.value.code == code


def test_birth_dates_are_shown_as_roc_yyyMMdd():
    assert rocdate.to_roc(dt.date(2005, 3, 15)) == "0940315"
    assert rocdate.to_roc(dt.date(2011, 1, 1)) == "1000101"
    assert rocdate.to_roc_display(dt.date(2005, 3, 15)) == "094/03/15"


def cells(**over):
    base = {"student_no": "1150001", "name": "陳怡君", "national_id": "A123456789", "class_code": "101",
            "user_id": "9f4a4c3d-6e4b-4f7b-9a3d-4d5e6f7a8b04"}
    return base | over


def test_a_full_profile_is_read_and_normalised():
    values, problems = read_profile(cells(national_id="a123456789", birth_date="0940315", gender="女",
                                          school_code="50407", class_type_code="1", seat_no="０３",
                                          status="在學"), today=TODAY)
    assert problems == []
    assert values["national_id"] == "A123456789" and values["birth_date"] == dt.date(2005, 3, 15)
    assert values["gender"] == "2" and values["school_code"] == "050407" and values["seat_no"] == 3
    assert values["status"] == "enrolled"


@pytest.mark.parametrize("over,field,code", [
    ({"name": "游子?"}, "name", "character_lost"), ({"name": "陳柏\ufffd"}, "name", "character_lost"),
    ({"birth_date": "94/02/31"}, "birth_date", "date_impossible"), ({"birth_date": "1160101"}, "birth_date", "date_in_future"),
    ({"gender": "3"}, "gender", "code_unknown"), ({"class_type_code": "7"}, "class_type_code", "code_unknown"),
    ({"seat_no": "A"}, "seat_no", "seat_no_invalid"), ({"school_code": "05040X"}, "school_code", "school_code_invalid"),
    ({"student_no": ""}, "student_no", "field_missing"), ({"user_id": None}, "user_id", "student_account_missing"),
    ({"national_id": "A123456788"}, "national_id", "national_id_checksum"), ({"status": "失蹤"}, "status", "code_unknown"),
    ({"name": "\u200b\u200b"}, "name", "field_missing"),
])
def test_each_bad_field_is_named(over, field, code):
    _, problems = read_profile(cells(**over), today=TODAY)
    assert (field, code) in [(f, c) for f, c, _ in problems]
