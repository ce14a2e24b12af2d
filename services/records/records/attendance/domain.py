"""Rules of attendance (出缺勤): the national absence codes of the 缺勤紀錄名冊 (DOMAIN.md) and a
period count per code and semester. Plain Python."""
import unicodedata

from ..itemkit import read_int, read_term

CODES = {"01": "公假", "02": "事假", "03": "病假", "04": "婚假", "05": "產前假", "06": "娩假", "07": "陪產假",
         "08": "流產假", "09": "育嬰假", "10": "生理假", "11": "喪假", "12": "曠課"}
_BY_NAME = {v: k for k, v in CODES.items()} | {"曠課(節)": "12", "缺曠": "12", "公假(節)": "01"}
FIELDS = ("absence_code", "periods")
MAX_PERIODS = 999  # a semester holds fewer than 999 periods of anything


def read_code(raw) -> str | None:
    """'02', '2', '０２', '事假', '02 事假' -> '02'; None when it is not a national code."""
    text = unicodedata.normalize("NFKC", str(raw or "")).strip()
    if text in _BY_NAME:
        return _BY_NAME[text]
    head = text.split()[0] if text.split() else ""
    if head.isdigit() and 1 <= int(head) <= 12:
        return f"{int(head):02d}"
    return None


def read_attendance(data: dict, *, today=None) -> tuple[dict, list]:
    """data {school_year, semester, absence_code, periods} -> (values, [(field, code, params)]).
    The term is required (attendance counts are per semester)."""
    problems = []
    raw = data.get("absence_code")
    values = {"absence_code": read_code(raw)}
    if values["absence_code"] is None:
        problems.append(("absence_code", "absence_code_unknown" if str(raw or "").strip() else "field_missing", {}))
    values["periods"] = read_int(data, "periods", 0, MAX_PERIODS, "periods_invalid", problems)
    values["school_year"], values["semester"] = read_term(data, problems, dated=False)
    return values, problems
