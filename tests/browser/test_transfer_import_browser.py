"""The registrar's transfer import in a real browser (issue 9 item 8, the receiving side): reg_day
opens a student of class 152 (national-ID letter C, block 1) from 學籍資料, chooses 轉入檔案,
uploads another school's package (built here with the format's own builder and a key this
school does not know), reads the preview (unverified, the counts, the two students side by side),
confirms, and sees the items marked 轉入（原校 099999）; the student then sees them on 我的紀錄.
Every page at desktop width and on a 390-pixel phone, checked by axe-core under the portal's CSP.
Screenshots: test-results/browser/transfer-import-*.png
"""
import contextlib
import hashlib
import io
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import expect

from submission.transfer import package
from submission.transfer.usecases import TransferSigner
from tests.browser.pages import check, sign_in
from tests.reliability.burst import valid_national_ids
from tests.support.school import add_class

pytestmark = pytest.mark.slow
PDF = b"%PDF-1.4\n% transfer-import-browser\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def a_package(national_id) -> bytes:
    """Another school's package (school code 099999) for the person with this national ID."""
    fid = str(uuid.uuid4())
    sha = hashlib.sha256(PDF).hexdigest()
    export = {
        "student_id": str(uuid.uuid4()), "student_user_id": str(uuid.uuid4()), "school_years": [114],
        "profile": {"student_no": "A1140007", "name": "轉入同學01", "birth_date": "2009-05-06", "gender": "1",
                    "national_id": national_id, "class_name": "普一乙", "seat_no": 7, "status": "enrolled",
                    "school_code": "099999"},
        "grades": [{"school_year": 114, "semester": 2, "course_code": "114099999H11Z0001", "subject_name": "國語文",
                    "credits": 4, "semester_grade": 86, "passed": True}],
        "attendance": [{"school_year": 114, "semester": 2, "absence_code": "03", "periods": 4}],
        "activities": [{"school_year": 114, "id": str(uuid.uuid4()), "semester": 2, "category": "cadre",
                        "name": "班聯會", "position": "副會長", "hours": None, "started_on": "2026-02-01",
                        "ended_on": None, "description": None}],
        "competitions": [], "status_changes": [],
        "outcomes": [{"outcome_id": str(uuid.uuid4()), "school_year": 114, "semester": 2,
                      "course_code": "114099999H11Z0001", "subject_name": "國語文", "description": "閱讀心得報告",
                      "status": "certified", "certification": None,
                      "files": [{"slot": "document", "file_id": fid, "filename": "閱讀心得.pdf",
                                 "content_type": "application/pdf", "size": len(PDF), "sha256": sha}]}],
        "performances": [], "autobiography": []}

    @contextlib.contextmanager
    def source(_):
        yield io.BytesIO(PDF)
    out = io.BytesIO()
    package.build(out, export, origin={"school_code": "099999", "tenant": "day"},
                  exported_at="2026-07-31T09:00:00+08:00", exported_by="registrar", evidence=source,
                  signer=TransferSigner(Ed25519PrivateKey.generate(), "099999"))
    return out.getvalue()


def test_the_registrar_imports_a_package_and_the_student_sees_it(browser, stack, shots_dir, tmp_path):
    names = add_class(stack, prefix="tib", class_code="152", subject="轉入瀏覽", n=2, nid_letter="C", nid_block=1)
    zip_path = tmp_path / "轉學檔案.zip"
    zip_path.write_bytes(a_package(valid_national_ids(1, "C", 1)[0]))
    errors, problems = [], []
    ctx, page = sign_in(browser, stack, "reg_day", errors)
    try:
        page.get_by_role("link", name="學籍資料").first.click()
        page.get_by_role("link", name="11515201", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("11515201")
        page.get_by_test_id("transfer-import-link").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("轉入檔案")
        check(page, shots_dir, "upload", problems, prefix="transfer-import")
        expect(page.locator("form#upload[data-ready=true]")).to_have_count(1)
        page.get_by_label("轉學檔案（ZIP").set_input_files(str(zip_path))
        page.get_by_test_id("import-upload").click()
        preview = page.get_by_test_id("import-preview")
        expect(preview).to_be_visible(timeout=30_000)
        expect(page.get_by_test_id("origin-code")).to_have_text("099999")
        expect(page.get_by_test_id("exported-at")).to_have_text("115/07/31 09:00")   # not raw ISO
        expect(page.get_by_test_id("signature")).to_have_attribute("data-verified", "false")
        expect(page.get_by_test_id("signature")).to_contain_text("未驗證")
        expect(page.get_by_test_id("student-compare")).to_contain_text("A1140007")
        expect(page.get_by_test_id("student-compare")).to_contain_text("11515201")
        expect(page.locator("[data-testid=counts] tr[data-kind=course_grades] td.num")).to_have_text("1")
        expect(page.locator("[data-testid=counts] tr[data-kind=evidence] td.num")).to_have_text("1")
        assert valid_national_ids(1, "C", 1)[0] not in page.content()
        check(page, shots_dir, "preview", problems, prefix="transfer-import")
        page.get_by_test_id("import-confirm").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("轉入紀錄")
        expect(page.get_by_test_id("transfer-label").first).to_have_text("轉入（原校 099999）")
        expect(page.locator("table[data-kind=course_outcomes]")).to_contain_text("閱讀心得報告")
        expect(page.get_by_test_id("transferred-file").first).to_have_text("閱讀心得.pdf")
        # the package's own keys, codes in the portal's words (they showed as blank columns)
        activity = page.locator("table[data-kind=activities] tbody tr").first
        expect(activity.locator("td[data-label=類別]")).to_have_text("幹部")
        expect(activity.locator("td[data-label=職務]")).to_have_text("副會長")
        expect(activity.locator("td[data-label=學期]")).to_have_text("2")
        absence = page.locator("table[data-kind=attendance] tbody tr").first
        expect(absence.locator("td[data-label=假別]")).to_have_text("03 病假")
        expect(absence.locator("td[data-label=節數]")).to_have_text("4")
        check(page, shots_dir, "registrar", problems, prefix="transfer-import")
        assert not errors, errors
        assert not problems, "\n".join(problems)
    finally:
        ctx.close()
    errors, problems = [], []
    ctx, page = sign_in(browser, stack, names[0], errors)
    try:
        page.get_by_role("link", name="我的紀錄").first.click()
        expect(page.get_by_test_id("transfer-label").first).to_have_text("轉入（原校 099999）")
        expect(page.locator("table[data-kind=course_grades]")).to_contain_text("國語文")
        check(page, shots_dir, "student", problems, prefix="transfer-import")
        assert not errors, errors
        assert not problems, "\n".join(problems)
    finally:
        ctx.close()
