"""Selection rules, free of frameworks and I/O."""
from .errors import NotSelectable, SelectionQuotaExceeded

MAX_OUTCOMES_SELECTED_PER_YEAR = 6   # regulation §4: at most 6 course outcomes selected a year


def check_selection(chosen: list, selectable: set) -> list:
    """Unique ids, all certified outcomes of this student and year, at most six."""
    unique = list(dict.fromkeys(str(c) for c in chosen))
    if len(unique) > MAX_OUTCOMES_SELECTED_PER_YEAR:
        raise SelectionQuotaExceeded(
            f"at most {MAX_OUTCOMES_SELECTED_PER_YEAR} course outcomes may be selected per school year")
    unknown = [c for c in unique if c not in selectable]
    if unknown:
        raise NotSelectable("only your own certified outcomes of this school year can be selected",
                            outcome_ids=unknown)
    return unique
