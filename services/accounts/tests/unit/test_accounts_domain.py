from accounts import domain


def test_passwords_are_argon2_hashed_and_verified():
    h = domain.hash_password("correct horse")
    assert h.startswith("$argon2") and "correct horse" not in h
    assert domain.verify_password(h, "correct horse")
    assert not domain.verify_password(h, "wrong")
    assert not domain.verify_password(None, "anything")  # unknown user: same work, refused


def test_import_row_problems():
    tenants = {"day", "ce"}
    assert domain.check_person({"username": "t_wang", "display_name": "王老師",
                                "grants": [{"tenant": "day", "role": "subject_teacher"}]}, tenants) == []
    codes = {c for c, _ in domain.check_person(
        {"username": "x", "display_name": " ", "grants": [{"tenant": "night", "role": "wizard"}]}, tenants)}
    assert codes == {"username_invalid", "name_missing", "unknown_role", "unknown_tenant"}


def test_a_national_id_typed_as_username_is_never_audited_in_clear():
    from accounts.usecases import _safe_username
    assert _safe_username("A123456789") == "A12*****89"
    assert _safe_username("t_wang") == "t_wang"
