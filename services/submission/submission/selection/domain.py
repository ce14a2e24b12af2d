"""Selection rules, free of frameworks and I/O.

Sources: regulation §4 and DOMAIN.md ("Rules with numbers"): each school year a student selects
at most N certified course outcomes and M performances for the national database, N and M the
school year's limits in the calendar (this school: 6 and 10; the national caps). Only
performances the student entered count toward M and only they are the student's to select: the
school's and external bodies' entries go to the national side by the school (records'
performances/domain.py, `entered_by`). Issue 9 item 2.
"""
from dataclasses import dataclass

from ..errors import NotSelectable, SelectionQuotaExceeded

KINDS = ("outcome", "performance")
KIND_ZH = {"outcome": "課程學習成果", "performance": "多元表現"}

# Why an item cannot be selected (or unselected) now; the portal words them (selection_pages).
NOT_CERTIFIED = "not_certified"        # uploaded, waiting for the teacher
RETURNED = "returned"                  # the teacher returned it (with a reason)
NOT_STUDENT_ENTERED = "not_student_entered"  # the school's or an external body's entry
OVER_LIMIT = "over_limit"              # the year's limit is reached: unselect another first
WINDOW_CLOSED = "window_closed"        # outside the calendar's selection window
LOCKED = "locked"                      # the registrar locked the year


@dataclass(frozen=True)
class Choice:
    """A student's selection of one school year: ids in the order chosen."""
    outcome_ids: tuple = ()
    performance_ids: tuple = ()

    def of(self, kind) -> tuple:
        return self.outcome_ids if kind == "outcome" else self.performance_ids

    def to_dict(self) -> dict:
        return {"outcome_ids": list(self.outcome_ids), "performance_ids": list(self.performance_ids)}

    @classmethod
    def from_dict(cls, d) -> "Choice":
        d = d or {}
        return cls(tuple(str(i) for i in d.get("outcome_ids") or ()),
                   tuple(str(i) for i in d.get("performance_ids") or ()))


def unique_ids(ids) -> list:
    """The ids as strings, each once, in the order given."""
    return list(dict.fromkeys(str(i).strip() for i in ids))


def check_kind(kind: str, chosen: list, selectable: set, limit: int) -> list:
    """Unique ids, each selectable (the student's own certified outcome, or a performance they
    entered, of this school year), at most `limit`. Raises NotSelectable (`not_selectable`,
    outcome_ids: the refused ids) or SelectionQuotaExceeded (`selection_quota_exceeded`, with
    the limit in the zh-TW sentence)."""
    unique = unique_ids(chosen)
    unknown = [c for c in unique if c not in selectable]
    if unknown:
        raise NotSelectable(f"只能勾選自己本學年度已認證的{KIND_ZH[kind]}" if kind == "outcome"
                            else "只能勾選自己本學年度登錄的多元表現（學校或校外單位登錄的不列入）",
                            outcome_ids=unknown)
    if len(unique) > limit:
        raise SelectionQuotaExceeded(f"每學年最多勾選 {limit} 件{KIND_ZH[kind]}，您選了 {len(unique)} 件",
                                     kind=kind, limit=limit)
    return unique


def check_choice(choice: Choice, selectable: dict, limits: dict) -> Choice:
    """selectable: {kind: set of ids}; limits: {kind: int}. The choice cleaned (check_kind)."""
    return Choice(*(tuple(check_kind(k, list(choice.of(k)), selectable[k], limits[k])) for k in KINDS))


def reason(kind: str, item: dict, selected: bool, count: int, limit: int, *, window_open: bool,
           locked: bool):
    """Why the student cannot change this item now (None: they can).

    item: {state: certified|uploaded|returned} for an outcome, {entered_by} for a performance.
    Order: locked, window closed, then what the item is (not certified, returned, not the
    student's entry), then the limit (only for an unselected item)."""
    if locked:
        return LOCKED
    if not window_open:
        return WINDOW_CLOSED
    if kind == "outcome" and item.get("state") == "uploaded":
        return NOT_CERTIFIED
    if kind == "outcome" and item.get("state") == "returned":
        return RETURNED
    if kind == "performance" and item.get("entered_by") != "student":
        return NOT_STUDENT_ENTERED
    if not selected and count >= limit:
        return OVER_LIMIT
    return None
