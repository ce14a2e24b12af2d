"""Rules of the autobiography and study plan (regulation §3(二): the student writes the career
plan, self-expectations, strengths and interests; counsellors and homeroom teachers review).
Plain Python."""
from ..itemkit import read_text

LIMITS = {"autobiography": 3000, "career_plan": 1000, "expectations": 1000, "strengths": 1000, "interests": 1000}
REQUIRED = ("career_plan", "expectations", "strengths", "interests")
FIELDS = tuple(LIMITS)
DECISIONS = {"approve": "approved", "return": "returned"}


def read_text_fields(data: dict) -> tuple[dict, list]:
    """data {autobiography?, career_plan, expectations, strengths, interests} -> (values,
    [(field, code, params)]): cleaned texts (portfolio_common.text), each within its limit."""
    problems = []
    values = {f: read_text(data, f, limit, problems, required=f in REQUIRED) for f, limit in LIMITS.items()}
    return values, problems


def review(status: str, decision: str, comment: str) -> tuple[str, list]:
    """The status after a review, or problems. Only a submitted version is reviewed; returning it
    needs a comment (what to change)."""
    problems = []
    if decision not in DECISIONS:
        problems.append(("decision", "code_unknown", {}))
    if decision == "return" and not comment:
        problems.append(("comment", "field_missing", {}))
    if comment and len(comment) > 1000:
        problems.append(("comment", "text_too_long", {"limit": 1000}))
    return DECISIONS.get(decision), problems
