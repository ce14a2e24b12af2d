"""College application dates imported from the registrar's spreadsheet (issue 9 item 7, "import
too"), against the running platform: a Big5 CSV with ROC dates and an xlsx, through the one
import flow (a preview writes nothing, any refused row refuses the file, the same file twice
changes nothing), the dates then in the student's sealing status; a future date, an unknown
學號 and another division's student refused; only the registrar imports. Class 167 (letter E)."""
import datetime as dt
import io

import openpyxl
import pytest

from tests.support.school import add_class

KIND = "/imports/college_application"


@pytest.fixture(scope="module")
def students(stack, api):
    add_class(stack, prefix="appl", class_code="167", subject="申請日期實習", n=3, nid_letter="E", accounts=1)
    reg = api("reg_day")
    rows = [s for s in reg.get("/students").json() if s["class_code"] == "167"]
    assert len(rows) == 3
    return sorted(rows, key=lambda s: s["student_no"])


def send(who, name, data, dry_run=True, basis=None, sha=None):
    form = {"dry_run": "true" if dry_run else "false"}
    if basis:
        form["basis"] = basis
    return who.post(KIND, data=form, files={"file": (name, data, "text/csv" if name.endswith(".csv") else
                                                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})


def status(reg, student):
    return reg.get(f"/sealing/students/{student['id']}").json()


def test_a_big5_csv_with_roc_dates_then_an_xlsx(api, students):
    reg = api("reg_day")
    a, b, c = students
    text = f"學號,姓名,申請入學日期\n{a['student_no']},甲,114/03/01\n{b['student_no']},乙,1140302\n"
    preview = send(reg, "申請日期.csv", text.encode("big5"))
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["problems"] == [] and body["summary"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert not body["written"] and status(reg, a)["applied_on"] is None      # a preview writes nothing
    done = send(reg, "申請日期.csv", text.encode("big5"), dry_run=False, basis=body["basis"]).json()
    assert done["written"], done
    assert status(reg, a)["applied_on"] == "2025-03-01" and status(reg, b)["applied_on"] == "2025-03-02"
    assert status(reg, a)["seal_due_on"] == "2030-03-01"
    again = send(reg, "申請日期.csv", text.encode("big5"), dry_run=False).json()
    assert again["written"] and again["summary"] == {"created": 0, "updated": 0, "unchanged": 2}

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["學號", "申請入學日期"])
    ws.append([c["student_no"], dt.date(2025, 3, 3)])
    ws.append([a["student_no"], "2025-03-05"])
    buf = io.BytesIO()
    wb.save(buf)
    done = send(reg, "申請日期.xlsx", buf.getvalue(), dry_run=False).json()
    assert done["written"] and done["summary"] == {"created": 1, "updated": 1, "unchanged": 0}, done
    assert status(reg, c)["applied_on"] == "2025-03-03" and status(reg, a)["applied_on"] == "2025-03-05"


def test_a_refused_row_refuses_the_file_with_every_problem_in_zh(api, students):
    reg = api("reg_day")
    a, b, _ = students
    before = status(reg, b)["applied_on"]
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    ce_student = api("reg_ce").get("/students").json()[0]["student_no"]
    text = (f"學號,申請入學日期\n{a['student_no']},2024-01-10\n{b['student_no']},{tomorrow}\n"
            f"X9999999,2024-01-10\n{ce_student},2024-01-10\n{a['student_no']},2024/02/31\n")
    r = send(reg, "a.csv", text.encode("utf-8"), dry_run=False)
    body = r.json()
    assert not body["written"]
    codes = {(p["row"], p["code"]) for p in body["problems"]}
    assert (3, "application_date_invalid") in codes and (4, "student_unknown") in codes
    assert (6, "duplicate_in_file") in codes or (6, "date_impossible") in codes
    if ce_student not in (a["student_no"], b["student_no"]):   # another division's number is unknown here
        assert (5, "student_unknown") in codes
    assert all(p["message_zh"] for p in body["problems"])
    assert "今天" in next(p["message_zh"] for p in body["problems"] if p["code"] == "application_date_invalid")
    assert status(reg, a)["applied_on"] == "2025-03-05" and status(reg, b)["applied_on"] == before


def test_only_the_registrar_imports_and_the_page_shows_in_zh(stack, api, students):
    for who in ("t_wang", "appl01", "reg_ce"):
        r = send(api(who), "a.csv", f"學號,申請入學日期\n{students[0]['student_no']},2024-01-10\n".encode())
        if who == "reg_ce":      # the ce registrar imports for ce only: the day student is unknown there
            assert r.status_code == 200 and not r.json()["written"], r.text
            assert {p["code"] for p in r.json()["problems"]} == {"student_unknown"}
        else:
            assert r.status_code == 403 and r.json()["error"]["code"] == "not_allowed", (who, r.text)


def test_the_registrar_imports_through_the_portal_page(stack, api, students):
    """The page the sealing page links to: upload, preview (nothing written), confirm, report."""
    import re

    from tests.e2e.test_admin_import_e2e import csrf, portal
    s, _ = portal(stack, "reg_day")
    url = stack.gateway_url + "/registrar/imports/college_application"
    assert "college_application" in s.get(stack.gateway_url + "/sealing", timeout=30).text
    form = s.get(url, timeout=30)
    assert form.status_code == 200 and "大學申請入學日期" in form.text
    b = students[1]
    data = f"學號,申請入學日期\n{b['student_no']},113/05/20\n".encode("big5")
    preview = s.post(url, timeout=60, data={"csrf_token": csrf(form.text)},
                     files={"file": ("申請日期.csv", data, "text/csv")})
    assert preview.status_code == 200 and "更新" in preview.text, preview.text[:500]
    assert api("reg_day").get(f"/sealing/students/{b['id']}").json()["applied_on"] != "2024-05-20"
    hidden = {n: re.search(rf'name="{n}" value="([^"]*)"', preview.text).group(1) for n in ("sha256", "basis")}
    report = s.post(url, timeout=60, data={"csrf_token": csrf(preview.text), "confirm": "1", **hidden},
                    files={"file": ("申請日期.csv", data, "text/csv")})
    assert report.status_code == 200, report.text[:500]
    assert api("reg_day").get(f"/sealing/students/{b['id']}").json()["applied_on"] == "2024-05-20"
