"""Rules of a career-plan assessment (學群探索與就業規劃): regulation §3(二), by the guidance
counsellor: the date, the instrument used, the university groups (學群) suggested and the
study/career plan advised. Plain Python."""
from ..itemkit import read_date, read_term, read_text

FIELDS = ("assessed_on", "instrument", "suggested_groups", "career_plan")


def read_assessment(data: dict, *, today) -> tuple[dict, list]:
    """data {assessed_on, instrument?, suggested_groups, career_plan, school_year?, semester?}
    -> (values, [(field, code, params)]); the term defaults to the one of the date."""
    problems = []
    values = {"assessed_on": read_date(data, "assessed_on", problems, today=today),
              "instrument": read_text(data, "instrument", 50, problems),
              "suggested_groups": read_text(data, "suggested_groups", 100, problems, required=True),
              "career_plan": read_text(data, "career_plan", 500, problems, required=True)}
    values["school_year"], values["semester"] = read_term(data, problems, on=values["assessed_on"])
    return values, problems
