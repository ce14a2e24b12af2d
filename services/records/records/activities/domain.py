"""Rules of cadres, clubs, public service and volunteering (DOMAIN.md 多元表現名冊: 幹部經歷 單位名稱,
擔任職務, 開始/結束日期, 內容簡述; 服務學習 服務名稱, 時數...). Plain Python."""
import unicodedata

from ..itemkit import read_date, read_int, read_term, read_text

CATEGORIES = {"cadre": "幹部", "club": "社團", "service": "公共服務", "volunteer": "志工"}
_BY_NAME = {v: k for k, v in CATEGORIES.items()} | {"幹部經歷": "cadre", "社團活動": "club", "服務學習": "service",
                                                    "志願服務": "volunteer", "志工服務": "volunteer"}
FIELDS = ("category", "name", "position", "hours", "started_on", "ended_on", "description")


def read_activity(data: dict, *, today) -> tuple[dict, list]:
    """data {school_year, semester, category, name, position?, hours?, started_on?, ended_on?,
    description?} -> (values, problems). A cadre names the position held; service and
    volunteering the hours (1-999); the end is not before the start."""
    problems = []
    raw = unicodedata.normalize("NFKC", str(data.get("category") or "")).strip()
    category = _BY_NAME.get(raw, raw.lower())
    if category not in CATEGORIES:
        problems.append(("category", "code_unknown" if raw else "field_missing", {}))
        category = None
    values = {"category": category,
              "name": read_text(data, "name", 50, problems, required=True),
              "position": read_text(data, "position", 30, problems, required=category == "cadre"),
              "hours": read_int(data, "hours", 1, 999, "hours_invalid", problems,
                                required=category in ("service", "volunteer")),
              "started_on": read_date(data, "started_on", problems, today=today, required=False),
              "ended_on": read_date(data, "ended_on", problems, today=today, required=False),
              "description": read_text(data, "description", 100, problems)}
    if values["started_on"] and values["ended_on"] and values["ended_on"] < values["started_on"]:
        problems.append(("ended_on", "date_order", {}))
    values["school_year"], values["semester"] = read_term(data, problems, on=values["started_on"], dated=False)
    return values, problems
