"""The transfer-package pages in a real browser (issue 9 item 8): the registrar (reg_day) opens a
student's 轉學檔案 page from the student's profile and downloads the package; the student
(s_day01) opens 我的轉學檔案 from 我的紀錄 and downloads their own. Each page at desktop width
and on a 390-pixel phone, checked by axe-core under the portal's own CSP.
Screenshots: test-results/browser/transfer-*.png
"""
import io
import json
import zipfile

import pytest
from playwright.sync_api import expect

from tests.browser.pages import check, sign_in

pytestmark = pytest.mark.slow


def _manifest(download):
    with open(download.path(), "rb") as fh:
        return json.loads(zipfile.ZipFile(io.BytesIO(fh.read())).read("manifest.json"))


def test_the_registrar_downloads_a_students_transfer_package(browser, stack, shots_dir):
    errors, problems = [], []
    ctx, page = sign_in(browser, stack, "reg_day", errors)
    try:
        page.get_by_role("link", name="學籍資料").first.click()
        page.locator("table a").first.click()
        student_no = page.get_by_role("heading", level=1).inner_text().split()[0]
        page.get_by_test_id("transfer-link").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("轉學檔案")
        expect(page.get_by_test_id("masked-id")).not_to_be_empty()
        check(page, shots_dir, "registrar", problems, prefix="transfer")
        with page.expect_download() as dl:
            page.get_by_test_id("transfer-download").click()
        manifest = _manifest(dl.value)
        assert manifest["format"] == "portfolio-transfer" and manifest["student"]["student_no"] == student_no
        assert manifest["exported_by"] == {"role": "registrar"}
        assert not errors, errors
        assert not problems, "\n".join(problems)
    finally:
        ctx.close()


def test_the_student_downloads_their_own_transfer_package(browser, stack, shots_dir):
    errors, problems = [], []
    ctx, page = sign_in(browser, stack, "s_day01", errors)
    try:
        page.get_by_role("link", name="我的紀錄").first.click()
        page.get_by_test_id("transfer-link").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("我的轉學檔案")
        check(page, shots_dir, "student", problems, prefix="transfer")
        with page.expect_download() as dl:
            page.get_by_test_id("transfer-download").click()
        assert _manifest(dl.value)["exported_by"] == {"role": "student"}
        assert not errors, errors
        assert not problems, "\n".join(problems)
    finally:
        ctx.close()
