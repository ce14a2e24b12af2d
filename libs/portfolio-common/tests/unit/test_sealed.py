"""Sealed RPC bodies (portfolio_common.sealed), without a broker."""
import pytest

from portfolio_common import sealed


@pytest.fixture
def keys(monkeypatch):
    private, public = sealed.keygen()
    monkeypatch.setenv("SEAL_PUBLIC_KEYS", f"accounts:{public}")
    monkeypatch.setenv("SEAL_KEY", private)
    return private, public


def test_a_sealed_request_opens_only_with_the_receivers_key_and_its_answer_only_here(keys, monkeypatch):
    body = sealed.seal_request("accounts.sign_in", {"args": ["s_day01", "pw-123456"], "kwargs": {"kind": "api"}})
    assert b"pw-123456" not in repr(body).encode() and body["args"] == [] and body["kwargs"] == {}
    opened, reply_key = sealed.open_request("accounts.sign_in", body)
    assert opened == {"args": ["s_day01", "pw-123456"], "kwargs": {"kind": "api"}}
    answer = sealed.seal_reply(reply_key, {"result": {"token": "t"}, "error": None})
    assert "token" not in repr(answer)
    assert sealed.open_reply(answer) == {"result": {"token": "t"}, "error": None}
    # another service's key cannot open it
    monkeypatch.setenv("SEAL_KEY", sealed.keygen()[0])
    with pytest.raises(sealed.NotSealed):
        sealed.open_request("accounts.sign_in", body)


def test_sealed_methods_are_refused_in_the_clear_and_never_sent_in_the_clear(keys, monkeypatch):
    with pytest.raises(sealed.NotSealed) as e:
        sealed.open_request("records.import_school", {"args": ["t", {}], "kwargs": {}})
    assert e.value.code == "rpc_not_sealed"
    plain = {"args": ["t"], "kwargs": {}}
    assert sealed.open_request("records.list_students", plain) == (plain, None)
    assert sealed.seal_request("records.list_students", plain) is plain
    with pytest.raises(sealed.SealingUnavailable):  # no key for records: refuse, do not send
        sealed.seal_request("records.reveal_national_id", plain)


def test_every_rpc_that_carries_a_password_or_national_id_is_sealed():
    assert set(sealed.SEALED_METHODS) >= {
        "accounts.sign_in", "accounts.change_password", "accounts.reset_password", "accounts.import_people",
        "records.import_school", "records.reveal_national_id",
        "records.create_student", "records.update_student", "records.import_student_profiles",
        "records.national_export_fields", "submission.national_roster_file", "accounts.user_emails",
        "records.transfer_export_fields", "submission.export_transfer_package", "records.transfer_import_target"}
