"""The hash chain and its verifier, without a database."""
import copy
import uuid

import pytest

from records.history import GENESIS, FakeHistory, canonical, diff, first_broken_link, row_hash, snapshot


def chain(n=5, tenant="day"):
    h = FakeHistory()
    for i in range(n):
        h.record(tenant, "student", uuid.uuid4(), "updated", uuid.uuid4(), actor_username="reg_day",
                 before={"name": f"舊{i}"}, after={"name": f"新{i}"})
    h.flush()
    return h.rows


def test_an_intact_chain_verifies_and_starts_at_genesis():
    rows = chain()
    assert rows[0]["prev_hash"] == GENESIS and first_broken_link(rows) is None
    assert [r["chain_seq"] for r in rows] == [1, 2, 3, 4, 5]
    assert all(rows[i]["prev_hash"] == rows[i - 1]["hash"] for i in range(1, 5))


@pytest.mark.parametrize("field,value", [("after", {"name": "竄改"}), ("actor_username", "someone"),
                                         ("action", "created"), ("before", None), ("entity_id", "x")])
def test_altering_any_field_of_a_row_names_that_row(field, value):
    rows = chain()
    rows[2][field] = value
    broken = first_broken_link(rows)
    assert broken["chain_seq"] == 3 and "altered" in broken["reason"]


def test_rehashing_an_altered_row_breaks_the_next_link():
    rows = chain()
    rows[1]["after"] = {"name": "竄改"}
    rows[1]["hash"] = row_hash(rows[1])  # the forger recomputes this row's hash
    broken = first_broken_link(rows)
    assert broken["chain_seq"] == 3 and "link" in broken["reason"]


def test_a_removed_row_is_named():
    rows = chain()
    del rows[3]
    assert first_broken_link(rows)["reason"].startswith("row 4 of the chain is missing")


def test_swapped_rows_are_caught():
    rows = chain()
    rows[1], rows[2] = rows[2], rows[1]
    assert first_broken_link(rows)["chain_seq"] == 3


def test_tenants_have_their_own_chains():
    h = FakeHistory()
    for t in ("day", "ce", "day"):
        h.record(t, "student", uuid.uuid4(), "created", None)
    h.flush()
    assert [(r["tenant"], r["chain_seq"]) for r in h.rows] == [("day", 1), ("ce", 1), ("day", 2)]
    assert first_broken_link([r for r in h.rows if r["tenant"] == "day"]) is None


def test_the_canonical_form_is_stable_and_sorted():
    row = chain(1)[0]
    again = copy.deepcopy(row)
    again["after"] = dict(reversed(list(again["after"].items())))
    assert canonical(row) == canonical(again)
    text = canonical(row).decode()
    assert text.startswith('{"acting_for":null,"action":"updated"') and " " not in text.replace("舊0", "")


def test_floats_are_refused_so_the_canonical_form_stays_exact():
    with pytest.raises(TypeError):
        snapshot({"credits": 2.5})


def test_a_national_id_never_enters_a_history_row():
    before = {"name": "甲", "national_id_hash": "aaa"}
    after = {"name": "甲", "national_id_hash": "bbb"}
    b, a = diff(before, after)
    assert b == {"national_id": "changed"} and a == {"national_id": "changed"}
    assert snapshot({"national_id": "A123456789", "national_id_enc": b"x"}) == {"national_id": "changed"}


def test_nothing_uncommitted_enters_the_chain():
    h = FakeHistory()
    h.record("day", "student", uuid.uuid4(), "created", None)
    h.discard()
    h.flush()
    assert h.rows == []
