import pytest

from records import domain
from records.errors import DescriptionInvalid, NationalIdInvalid, OutcomeQuotaExceeded


@pytest.mark.parametrize("nid", ["A123456789", "A223456781", "F131104093", "A800000014", "AC01234567"])
def test_valid_national_ids(nid):
    assert domain.validate_national_id(nid.lower()) == nid


@pytest.mark.parametrize("nid", ["A123456788", "A323456789", "1234567890", "A12345678", "", None, "AZ12345678"])
def test_invalid_national_ids(nid):
    with pytest.raises(NationalIdInvalid):
        domain.validate_national_id(nid)


def test_description_counts_characters_not_bytes():
    assert domain.clean_description("  " + "字" * 100 + " ") == "字" * 100
    with pytest.raises(DescriptionInvalid) as e:
        domain.clean_description("字" * 101)
    assert e.value.code == "description_too_long"
    for empty in ("", "   ", None):
        with pytest.raises(DescriptionInvalid) as e:
            domain.clean_description(empty)
        assert e.value.code == "description_empty"


def test_six_outcomes_per_semester():
    domain.check_outcome_quota(5)
    with pytest.raises(OutcomeQuotaExceeded):
        domain.check_outcome_quota(6)


UPLOAD = {"section_id": "s-1", "school_year": 115, "semester": 1, "description": "期末專題"}


@pytest.mark.parametrize("change", [{"section_id": "s-2"}, {"semester": 2}, {"school_year": 116},
                                    {"description": "期中報告"}])
def test_an_upload_key_names_one_upload(change):
    from records.errors import IdempotencyKeyReused
    domain.check_same_upload(UPLOAD, dict(UPLOAD))
    with pytest.raises(IdempotencyKeyReused):
        domain.check_same_upload(UPLOAD, {**UPLOAD, **change})


def test_a_reservation_made_before_keys_were_bound_is_compared_on_its_term():
    from records.errors import IdempotencyKeyReused
    legacy = {**UPLOAD, "section_id": None, "description": None}
    domain.check_same_upload(legacy, {**UPLOAD, "section_id": "s-2", "description": "x"})
    with pytest.raises(IdempotencyKeyReused):
        domain.check_same_upload(legacy, {**UPLOAD, "semester": 2})


def test_the_outcome_limit_is_the_calendars():
    domain.check_outcome_quota(2, 3)
    with pytest.raises(OutcomeQuotaExceeded) as e:
        domain.check_outcome_quota(3, 3)
    assert "3 件" in e.value.text
