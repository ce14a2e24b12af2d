"""The system admin's people import over HTTP, through the portal pages as the admin uses them:
upload -> preview (nothing written) -> the same file again with confirm -> report.

Every run imports its own people (uuid suffix), so runs never collide.
"""
import hashlib
import html
import re
import uuid

import pytest
import requests

from tests.e2e.conftest import PASSWORD

pytestmark = pytest.mark.slow


# ---------------------------------------------------------------- helpers

def csrf(page_html):
    return re.search(r'name="csrf_token" value="([^"]+)"', page_html).group(1)


def portal(stack, username, password=PASSWORD):
    """A requests.Session signed in through the portal's login form; returns (session, response)."""
    s = requests.Session()
    page = s.get(stack.gateway_url + "/login", timeout=30)
    r = s.post(stack.gateway_url + "/login", allow_redirects=False, timeout=30,
               data={"username": username, "password": password, "csrf_token": csrf(page.text)})
    return s, r


def token(stack, username, password):
    return requests.post(stack.gateway_url + "/api/v1/auth/token",
                         json={"username": username, "password": password}, timeout=30)


def count(page_html, testid):
    m = re.search(rf'data-testid="{testid}"><b>(\d+)</b>', page_html)
    return int(m.group(1)) if m else None


def problems(page_html):
    """[(row, code, zh message)] of the preview's problem table."""
    return [(int(row), code, html.unescape(re.sub(r"<[^>]+>", "", msg)).strip())
            for row, code, msg in re.findall(
                r'<tr data-row="(\d+)" data-code="([a-z_]+)">.*?<td>.*?</td>\s*<td>(.*?)</td>', page_html, re.S)]


def initial_passwords(page_html):
    return dict(re.findall(r'<tr data-username="([^"]+)">.*?data-testid="initial-password">([^<]+)</code>',
                           page_html, re.S))


class Admin:
    def __init__(self, stack):
        self.base = stack.gateway_url
        self.s, r = portal(stack, "admin")
        assert r.status_code == 302, r.text
        # admin holds system_admin in both divisions and imports into the active one: 日間部
        page = self.s.get(self.base + "/admin/import", timeout=30).text
        assert self.s.post(self.base + "/tenant", data={"tenant": "day", "csrf_token": csrf(page)},
                           timeout=30, allow_redirects=False).status_code == 302

    def form_token(self):
        return csrf(self.s.get(self.base + "/admin/import", timeout=30).text)

    def upload(self, data, filename="名單.csv", confirm_sha=None):
        form = {"csrf_token": self.form_token()}
        if confirm_sha:
            form |= {"confirm": "1", "sha256": confirm_sha}
        return self.s.post(self.base + "/admin/import", data=form, timeout=60,
                           files={"file": (filename, data, "text/csv")})


def people_csv(rows):
    return ("\ufeff帳號,姓名,密碼,角色\r\n" + "".join(",".join(r) + "\r\n" for r in rows)).encode("utf-8")


@pytest.fixture
def tag():
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def admin(stack):
    return Admin(stack)


# ---------------------------------------------------------------- tests

def test_import_preview_confirm_report_and_reimport_changes_nothing(stack, admin, tag):
    student, teacher, newbie = f"imp_{tag}_s", f"imp_{tag}_t", f"imp_{tag}_n"
    data = people_csv([[student, "匯入學生", "student-pass-1", "日間部:學生"],
                       [teacher, "匯入老師", "teacher-pass-1", "日間部:任課教師;日間部:導師"],
                       [newbie, "匯入新生", "", "day:student"]])
    digest = hashlib.sha256(data).hexdigest()

    preview = admin.upload(data)
    assert preview.status_code == 200, preview.text
    assert count(preview.text, "count-problems") == 0 and problems(preview.text) == []
    assert 'data-testid="confirm"' in preview.text and f'value="{digest}"' in preview.text
    assert all(f'data-username="{u}"' in preview.text for u in (student, teacher, newbie))
    assert "日間部 任課教師、日間部 導師" in preview.text and "系統產生（首次登入須變更）" in preview.text
    assert token(stack, student, "student-pass-1").status_code == 401  # a preview writes nothing

    # a confirm with another file than the one previewed writes nothing
    other = people_csv([[student, "匯入學生", "student-pass-1", "日間部:學生"]])
    r = admin.upload(other, confirm_sha=digest)
    assert r.status_code == 422 and "與剛才預覽的檔案內容不同" in r.text
    assert token(stack, student, "student-pass-1").status_code == 401

    report = admin.upload(data, confirm_sha=digest)
    assert report.status_code == 200, report.text
    assert report.headers["Cache-Control"] == "no-store"
    assert (count(report.text, "count-created"), count(report.text, "count-updated"),
            count(report.text, "count-unchanged"), count(report.text, "count-refused")) == (3, 0, 0, 0)
    shown = initial_passwords(report.text)
    assert list(shown) == [newbie] and len(shown[newbie]) >= 8  # only the one without a password
    assert "首次登入時必須變更密碼" in report.text

    r = token(stack, student, "student-pass-1")
    assert r.status_code == 201 and r.json()["user"]["grants"] == [{"tenant": "day", "role": "student"}]
    assert r.json()["user"]["must_change_password"] is True  # imported: chooses a password first

    # the same file again: nothing new, nothing updated
    again = admin.upload(data)
    assert again.status_code == 200 and problems(again.text) == [] and 'data-testid="confirm"' in again.text
    report2 = admin.upload(data, confirm_sha=digest)
    assert (count(report2.text, "count-created"), count(report2.text, "count-updated"),
            count(report2.text, "count-unchanged")) == (0, 0, 3)
    assert initial_passwords(report2.text) == {}
    assert token(stack, newbie, shown[newbie]).status_code == 201  # its password was not replaced

    # the newcomer signs in with the shown initial password and must change it first
    s, r = portal(stack, newbie, shown[newbie])
    assert r.status_code == 302 and r.headers["Location"].endswith("/password")
    assert s.get(stack.gateway_url + "/outcomes", allow_redirects=False).headers["Location"].endswith("/password")


def test_a_file_with_problems_is_refused_whole_with_row_numbers(stack, admin, tag):
    good, dup = f"imp_{tag}_g", f"imp_{tag}_d"
    data = people_csv([[good, "可以匯入", "good-pass-123", "日間部:學生"],
                       [dup, "角色錯誤", "dup-pass-1234", "日間部:巫師"],
                       [good, "帳號重複", "good-pass-123", "day:student"],
                       [f"imp_{tag}_x", "沒有部別", "", "學生"]])
    digest = hashlib.sha256(data).hexdigest()

    preview = admin.upload(data)
    assert preview.status_code == 200, preview.text
    found = problems(preview.text)
    assert [(row, code) for row, code, _ in found] == [
        (3, "unknown_role"), (4, "duplicate_username"), (5, "role_format")]
    assert "角色「巫師」不存在" in found[0][2]
    assert "重複" in found[1][2] and "第 2 列" in found[1][2]
    assert "日間部:學生" in found[2][2]
    assert count(preview.text, "count-problems") == 3
    assert 'data-testid="confirm"' not in preview.text and 'name="confirm"' not in preview.text
    assert "整份檔案都不會匯入" in preview.text

    # confirming anyway (a hand-made POST) writes nothing
    r = admin.upload(data, confirm_sha=digest)
    assert r.status_code == 422 and "沒有匯入任何資料" in r.text
    for username, password in ((good, "good-pass-123"), (dup, "dup-pass-1234")):
        r = token(stack, username, password)
        assert (r.status_code, r.json()["error"]["code"]) == (401, "invalid_credentials")


def test_only_a_system_admin_may_import_or_reset(stack):
    s, r = portal(stack, "t_wang")
    assert r.status_code == 302
    assert s.get(stack.gateway_url + "/admin/import", timeout=30).status_code == 403
    page = s.get(stack.gateway_url + "/certification", timeout=30).text
    assert "/admin/import" not in page  # no nav link either
    r = s.post(stack.gateway_url + "/admin/reset", data={"username": "s_day01", "csrf_token": csrf(page)})
    assert r.status_code == 403
    anonymous = requests.get(stack.gateway_url + "/admin/import", allow_redirects=False, timeout=30)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_admin_resets_a_password_shown_once(stack, admin, tag):
    user = f"imp_{tag}_r"
    data = people_csv([[user, "重設對象", "reset-pass-123", "日間部:學生"]])
    admin.upload(data)
    assert count(admin.upload(data, confirm_sha=hashlib.sha256(data).hexdigest()).text, "count-created") == 1
    page = admin.s.get(stack.gateway_url + "/admin/reset", timeout=30)
    r = admin.s.post(stack.gateway_url + "/admin/reset", timeout=30,
                     data={"username": user, "csrf_token": csrf(page.text)})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    temp = re.search(r'data-testid="temporary-password">([^<]+)<', r.text).group(1)
    assert token(stack, user, "reset-pass-123").status_code == 401
    t = token(stack, user, temp)
    assert t.status_code == 201 and t.json()["user"]["must_change_password"] is True
    r = admin.s.post(stack.gateway_url + "/admin/reset", timeout=30,
                     data={"username": f"nobody_{tag}", "csrf_token": csrf(page.text)})
    assert r.status_code == 404 and "找不到這個帳號" in r.text


def test_preview_says_what_each_row_will_do(stack, admin, tag):
    data = people_csv([[f"imp_{tag}_{i}", f"預覽{i}", "preview-pass-1", "日間部:學生"] for i in range(3)])
    preview = admin.upload(data)
    assert (count(preview.text, "count-created"), count(preview.text, "count-unchanged")) == (3, 0)
    admin.upload(data, confirm_sha=hashlib.sha256(data).hexdigest())
    again = admin.upload(data)
    assert (count(again.text, "count-created"), count(again.text, "count-updated"),
            count(again.text, "count-unchanged")) == (0, 0, 3)


def test_rows_for_the_other_division_are_refused(stack, admin, tag):
    data = people_csv([[f"imp_{tag}_o", "別部學生", "other-pass-123", "進修部:學生"]])
    preview = admin.upload(data)
    assert [(row, code) for row, code, _ in problems(preview.text)] == [(2, "other_tenant")]


def test_admin_lists_people_and_changes_roles_in_their_division(stack, admin, tag):
    user = f"imp_{tag}_u"
    data = people_csv([[user, "角色調整", "roles-pass-123", "日間部:任課教師"]])
    admin.upload(data)
    admin.upload(data, confirm_sha=hashlib.sha256(data).hexdigest())
    page = admin.s.get(stack.gateway_url + "/admin/users", timeout=30)
    assert page.status_code == 200 and f'data-username="{user}"' in page.text and "s_day01" in page.text
    assert "s_ce01" not in page.text  # only this division's people
    r = admin.s.post(stack.gateway_url + "/admin/users", timeout=30, allow_redirects=False,
                     data={"username": user, "role": ["subject_teacher", "homeroom_teacher"],
                           "csrf_token": csrf(page.text)})
    assert r.status_code == 302
    t = token(stack, user, "roles-pass-123").json()["user"]
    assert sorted(g["role"] for g in t["grants"]) == ["homeroom_teacher", "subject_teacher"]
    s, _ = portal(stack, "t_wang")
    assert s.get(stack.gateway_url + "/admin/users", timeout=30).status_code == 403
