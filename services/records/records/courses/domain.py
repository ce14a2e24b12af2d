"""Rules of a semester grade (學生成績名冊, DOMAIN.md: 課程代碼, 學期學業成績, 成績及格, 補考成績,
補考及格, 是否採計學分, 質性文字描述; 進修部 also 學年學業成績, 學年及格, 是否採計學時). Plain Python.

Decisions (DOMAIN.md does not fix them; confirm with the registrar):
- grades are whole numbers 0-100 (the school systems' grade sheets export them rounded); "85.5"
  is refused (grade_invalid), never rounded silently;
- the pass mark is 60 (PASS_MARK): a pass flag left empty follows the grade; one given that
  contradicts the grade is refused (pass_flag_inconsistent) unless the row marks the school's
  exception (pass_exception);
- a make-up grade only for a failed semester grade (makeup_not_allowed otherwise);
- credits are counted (是否採計學分) when the grade or the make-up passed, unless the exception;
- a course code is a code of letters and digits (NFKC, spaces and ="..." wrappers out); whether it
  exists is decided by the school's sections of that term (DOMAIN.md "Course codes": codes are
  data, validated by their presence), in the use case.
"""
import re
import unicodedata

from ..itemkit import read_text, read_term

PASS_MARK = 60
REMARK_LIMIT = 200
FIELDS = ("section_id", "course_code", "semester_grade", "passed", "makeup_grade", "makeup_passed",
          "credit_counted", "pass_exception", "remark", "yearly_grade", "yearly_passed")
_CODE = re.compile(r"^[0-9A-Z]{1,40}$")
_TRUE = {"1", "y", "yes", "true", "t", "是", "及格", "採計", "v", "○", "o"}
_FALSE = {"0", "n", "no", "false", "f", "否", "不及格", "不採計", "x", "×"}


def _plain(raw) -> str:
    text = unicodedata.normalize("NFKC", str(raw if raw is not None else "")).strip()
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1]
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf"))


def read_course_code(raw) -> str:
    """'="115050407H11A0101"', full-width or lower case -> '115050407H11A0101'; '' when empty."""
    return _plain(raw).upper()


def read_grade_value(data, field, problems, required) -> int | None:
    text = _plain(data.get(field))
    if not text:
        if required:
            problems.append((field, "field_missing", {}))
        return None
    if not text.isdigit() or not 0 <= int(text) <= 100:
        problems.append((field, "grade_invalid", {"min": 0, "max": 100}))
        return None
    return int(text)


def read_flag(data, field, problems) -> bool | None:
    """是/否, Y/N, 1/0, 及格/不及格, true/false; empty -> None (follows the grade)."""
    text = _plain(data.get(field)).lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    problems.append((field, "flag_invalid", {}))
    return None


def _consistent(given, grade, exception, field, problems) -> bool | None:
    if grade is None:
        return given
    computed = grade >= PASS_MARK
    if given is None:
        return computed
    if given != computed and not exception:
        problems.append((field, "pass_flag_inconsistent", {"pass_mark": PASS_MARK}))
    return given


def read_grade(data: dict, *, today=None) -> tuple[dict, list]:
    """data {course_code, school_year, semester, semester_grade, passed?, makeup_grade?,
    makeup_passed?, credit_counted?, pass_exception?, remark?, yearly_grade?, yearly_passed?}
    -> (values, [(field, code, params)]). section_id is left None (the use case finds the
    student's section by course code and term)."""
    problems = []
    code = read_course_code(data.get("course_code"))
    if not code:
        problems.append(("course_code", "field_missing", {}))
    elif not _CODE.match(code):
        problems.append(("course_code", "course_code_malformed", {}))
    values = {"section_id": None, "course_code": code or None}
    values["school_year"], values["semester"] = read_term(data, problems, dated=False)
    exception = bool(read_flag(data, "pass_exception", problems))
    values["pass_exception"] = exception
    grade = read_grade_value(data, "semester_grade", problems, required=True)
    values["semester_grade"] = grade
    values["passed"] = _consistent(read_flag(data, "passed", problems), grade, exception, "passed", problems)
    makeup = read_grade_value(data, "makeup_grade", problems, required=False)
    if makeup is not None and grade is not None and grade >= PASS_MARK and not exception:
        problems.append(("makeup_grade", "makeup_not_allowed", {"pass_mark": PASS_MARK}))
    values["makeup_grade"] = makeup
    given_mp = read_flag(data, "makeup_passed", problems)
    if makeup is None and given_mp is not None:
        problems.append(("makeup_passed", "makeup_grade_missing", {}))
        given_mp = None
    values["makeup_passed"] = _consistent(given_mp, makeup, exception, "makeup_passed", problems)
    earned = bool(values["passed"]) or bool(values["makeup_passed"])
    counted = read_flag(data, "credit_counted", problems)
    if counted is None:
        counted = earned
    elif counted and not earned and not exception:
        problems.append(("credit_counted", "credit_flag_inconsistent", {}))
    values["credit_counted"] = counted
    values["remark"] = read_text(data, "remark", REMARK_LIMIT, problems)
    yearly = read_grade_value(data, "yearly_grade", problems, required=False)
    given_yp = read_flag(data, "yearly_passed", problems)
    if (yearly is not None or given_yp is not None) and values["semester"] == 1:
        problems.append(("yearly_grade", "yearly_grade_second_semester", {}))
    if yearly is None and given_yp is not None:
        problems.append(("yearly_passed", "yearly_grade_missing", {}))
        given_yp = None
    values["yearly_grade"] = yearly
    values["yearly_passed"] = _consistent(given_yp, yearly, exception, "yearly_passed", problems)
    return values, problems


def read_elective(data: dict, *, today=None) -> tuple[dict, list]:
    """data {course_code, school_year, semester, class_code?} -> (values, problems): which
    section of the term an elective enrolment names (class_code when a code runs in several)."""
    problems = []
    code = read_course_code(data.get("course_code"))
    if not code:
        problems.append(("course_code", "field_missing", {}))
    elif not _CODE.match(code):
        problems.append(("course_code", "course_code_malformed", {}))
    values = {"course_code": code or None, "class_code": _plain(data.get("class_code")) or None}
    values["school_year"], values["semester"] = read_term(data, problems, dated=False)
    return values, problems
