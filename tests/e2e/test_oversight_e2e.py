"""Certification oversight per class and by role, end to end (real processes, PostgreSQL,
RabbitMQ, S3, over the gateway's API): the student's class rides from records' upload ticket
through files' `outcome-uploaded` into the task; a homeroom teacher sees only their class, a
subject convener only the subject they teach, the academic section (registrar) the tenant,
another tenant nothing; CSV and xlsx downloads carry what the JSON shows.

Classes 163 (homeroom 周導師 ov_hr, 監督統計甲 by 王老師) and 164 (no homeroom, 監督統計乙 by
召集人 ov_conv); national-ID letters Y and Z. For a student who changes class: classes 176
(homeroom ov_hr_a) and 177 (homeroom ov_hr_b), national IDs B block 8 and C block 3."""
import io

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from tests.e2e.conftest import eventually, pdf
from tests.support.callers import as_system
from tests.support.school import PASSWORD, add_class

SUBJ_A, SUBJ_B = "監督統計甲", "監督統計乙"
NAME_A, NAME_B = "資訊科一年丙班", "資訊科一年丁班"


@pytest.fixture(scope="module")
def school(stack):
    people = [{"username": "ov_hr", "display_name": "周導師", "password": PASSWORD,
               "grants": [{"tenant": "day", "role": "homeroom_teacher"}, {"tenant": "day", "role": "subject_teacher"}]},
              {"username": "ov_conv", "display_name": "吳召集人", "password": PASSWORD,
               "grants": [{"tenant": "day", "role": "subject_convener"}, {"tenant": "day", "role": "subject_teacher"}]},
              {"username": "ov_es", "display_name": "何執行秘書", "password": PASSWORD,
               "grants": [{"tenant": "day", "role": "executive_secretary"}]}]
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=60) as rpc:
        report = rpc.accounts.import_people(as_system("day", "accounts"), people)
    assert not report["refused"], report
    a = add_class(stack, prefix="ova", class_code="163", subject=SUBJ_A, n=2, nid_letter="Y", homeroom="ov_hr",
                  class_name=NAME_A)
    b = add_class(stack, prefix="ovb", class_code="164", subject=SUBJ_B, n=2, nid_letter="Z", teacher="ov_conv",
                  class_name=NAME_B)
    return a, b


def _upload_all(api, usernames, subject):
    out = []
    for u in usernames:
        who = api(u)
        r = who.upload(who.section(subject)["id"], f"{subject} 成果", pdf(), "成果.pdf")
        assert r.status_code in (200, 201), r.text
        out.append(r.json())
    return out


def test_figures_per_class_and_each_role_sees_its_own_part(stack, api, school):
    a, b = school
    _upload_all(api, a, SUBJ_A)
    _upload_all(api, b, SUBJ_B)
    wang, conv = api("t_wang"), api("ov_conv")
    # the tasks carry the class (王老師's queue and the convener's, once files' events arrived)
    eventually(lambda: len([t for t in wang.get("/certification/tasks").json() if t["subject_name"] == SUBJ_A]) == 2)
    mine = eventually(lambda: (lambda ts: ts if len(ts) == 2 else None)(
        [t for t in conv.get("/certification/tasks").json() if t["subject_name"] == SUBJ_B]))
    r = conv.post("/certification/decisions", json={"action": "certify", "task_ids": [mine[0]["id"]]})
    assert r.status_code == 200 and len(r.json()["certified"]) == 1, r.text

    # the academic section (registrar) sees every class of the tenant, named
    reg = api("reg_day")
    by_class = {f["key"]: f for f in reg.get("/certification/oversight?by=class").json()}
    assert (by_class["163"]["name"], by_class["163"]["open"]) == (NAME_A, 2)
    assert (by_class["164"]["name"], by_class["164"]["open"], by_class["164"]["certified"]) == (NAME_B, 1, 1)
    teachers = {f["name"] for f in reg.get("/certification/oversight?by=teacher").json()}
    assert {"王老師", "吳召集人"} <= teachers            # names, not user ids

    # the homeroom teacher of 163: their class only (not 164, not the rest of the school)
    hr = api("ov_hr")
    assert [(f["key"], f["open"]) for f in hr.get("/certification/oversight?by=class").json()] == [("163", 2)]
    assert {f["key"] for f in hr.get("/certification/oversight?by=subject").json()} == {SUBJ_A}
    (whole,) = hr.get("/certification/oversight?by=tenant").json()
    assert (whole["open"], whole["certified"]) == (2, 0)
    csv = hr.get("/certification/oversight?by=class&format=csv").content.decode("utf-8-sig")
    assert NAME_A in csv and NAME_B not in csv

    # the subject convener: the subject they teach, in every class, nothing else
    assert [f["key"] for f in conv.get("/certification/oversight?by=subject").json()] == [SUBJ_B]
    assert {f["key"] for f in conv.get("/certification/oversight?by=class").json()} == {"164"}

    # another tenant's registrar and executive secretary: none of day's figures
    for who in ("reg_ce",):
        ce = api(who)
        assert not {SUBJ_A, SUBJ_B} & {f["key"] for f in ce.get("/certification/oversight?by=subject").json()}
        assert not {"163", "164"} & {f["key"] for f in ce.get("/certification/oversight?by=class").json()}
    # a subject teacher without an oversight role: refused
    r = api("t_lin").get("/certification/oversight?by=class")
    assert (r.status_code, r.json()["error"]["code"]) == (403, "not_allowed")


def test_xlsx_download_has_the_table_shown(stack, api, school):
    import openpyxl
    a, _ = school
    r = api("ov_es").get("/certification/oversight?by=class&format=xlsx")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert r.headers["Content-Disposition"].endswith('.xlsx"') and r.headers["Cache-Control"] == "no-store"
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("班級", "待認證", "已認證")
    json_rows = {f["name"]: f for f in api("ov_es").get("/certification/oversight?by=class").json()}
    for row in rows[1:]:
        assert json_rows[row[0]]["open"] == row[1] and json_rows[row[0]]["certified"] == row[2]
    assert NAME_A in json_rows


def test_a_forged_or_other_tenant_caller_gets_nothing_directly(stack, school):
    """Straight to the RPC, past the gateway: a token signed with a key the platform does not
    trust is refused; a homeroom teacher's token scoped to their class cannot widen it."""
    import uuid

    from portfolio_common import caller as caller_mod
    from tests.support.callers import signer
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    pem = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()).decode()
    forged = caller_mod.Signer("gateway", pem).mint(caller_mod.Caller(
        user_id=str(uuid.uuid4()), username="x", tenant="day", roles=("executive_secretary",)), "certification")
    stranger = signer("gateway").mint(caller_mod.Caller(
        user_id=str(uuid.uuid4()), username="hr-elsewhere", tenant="day", roles=("homeroom_teacher",)), "certification")
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=30) as rpc:
        with pytest.raises(Exception) as refused:
            rpc.certification.oversight_figures(forged, "class")
        assert "token" in str(refused.value).lower() or "not_authenticated" in str(refused.value)
        # a homeroom teacher of no uploaded class sees no class at all (not 163, not 164)
        assert rpc.certification.oversight_figures(stranger, "class") == []


SUBJ_C, SUBJ_D = "換班統計丙", "換班統計丁"


@pytest.fixture(scope="module")
def moving_school(stack):
    people = [{"username": u, "display_name": name, "password": PASSWORD,
               "grants": [{"tenant": "day", "role": "homeroom_teacher"}]}
              for u, name in (("ov_hr_a", "甲班導師"), ("ov_hr_b", "乙班導師"))]
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=60) as rpc:
        report = rpc.accounts.import_people(as_system("day", "accounts"), people)
    assert not report["refused"], report
    c = add_class(stack, prefix="ovc", class_code="176", subject=SUBJ_C, n=2, nid_letter="B", nid_block=8,
                  homeroom="ov_hr_a", class_name="換班測試甲班")
    d = add_class(stack, prefix="ovd", class_code="177", subject=SUBJ_D, n=1, nid_letter="C", nid_block=3,
                  homeroom="ov_hr_b", class_name="換班測試乙班")
    return c, d


def test_a_student_who_changes_class_is_counted_under_the_class_they_are_in_now(stack, api, moving_school):
    """Both students of 176 upload; then the registrar moves the first to 177. The figures
    follow the student: 176's homeroom teacher sees one open item, 177's homeroom teacher the
    other, and the academic section's per-class table agrees (a task keeps its class at upload
    time only as a fallback)."""
    c, _ = moving_school
    _upload_all(api, c, SUBJ_C)
    reg, hr_a, hr_b = api("reg_day"), api("ov_hr_a"), api("ov_hr_b")
    eventually(lambda: [(f["key"], f["open"]) for f in hr_a.get("/certification/oversight?by=class").json()]
               == [("176", 2)])
    assert hr_b.get("/certification/oversight?by=class").json() == []

    mover = next(s for s in reg.get("/students?class_code=176").json() if s["student_no"] == "11517601")
    body = {k: ("" if mover.get(k) is None else str(mover[k])) for k in (
        "student_no", "name", "birth_date", "gender", "seat_no", "school_code", "group_code", "department_code",
        "class_type_code", "division_code", "enrolment_route", "status")}
    body.update(class_code="177", version=mover["version"])
    r = reg.put(f"/students/{mover['id']}", json=body)
    assert r.status_code == 200 and r.json()["class_code"] == "177", r.text

    assert [(f["key"], f["name"], f["open"]) for f in hr_a.get("/certification/oversight?by=class").json()] \
        == [("176", "換班測試甲班", 1)]
    assert [(f["key"], f["name"], f["open"]) for f in hr_b.get("/certification/oversight?by=class").json()] \
        == [("177", "換班測試乙班", 1)]
    (whole_b,) = hr_b.get("/certification/oversight?by=tenant").json()
    assert whole_b["open"] == 1
    by_class = {f["key"]: f["open"] for f in reg.get("/certification/oversight?by=class").json()}
    assert (by_class["176"], by_class["177"]) == (1, 1)


def test_only_certification_may_ask_records_for_students_classes(stack, moving_school):
    """records.current_classes answers certification's own identity: a teacher's or the
    gateway's token is refused; another tenant's students are not named."""
    import uuid

    from portfolio_common import caller as caller_mod
    from tests.support.callers import signer
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=30) as rpc:
        # the module's three students, wherever the other test moved one of them
        listed = {s["id"]: s["class_code"] for code in ("176", "177")
                  for s in rpc.records.list_students(as_system("day", "records"), code)}
        ids = sorted(listed)
        assert len(ids) == 3
        cert = signer("certification").mint(caller_mod.service_caller("certification", "day"), "records")
        assert {i: v["class_code"] for i, v in rpc.records.current_classes(cert, ids).items()} == listed
        other = signer("certification").mint(caller_mod.service_caller("certification", "ce"), "records")
        assert rpc.records.current_classes(other, ids) == {}
        for token in (signer("gateway").mint(caller_mod.Caller(user_id=str(uuid.uuid4()), username="t",
                                                              tenant="day", roles=("homeroom_teacher",)), "records"),
                      signer("submission").mint(caller_mod.service_caller("submission", "day"), "records")):
            with pytest.raises(Exception) as refused:
                rpc.records.current_classes(token, ids)
            assert "not_allowed" in str(refused.value) or "not open" in str(refused.value)
