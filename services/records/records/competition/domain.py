"""Rules of an in-school competition (regulation §3(二): name, content, result, proof; DOMAIN.md
競賽參與紀錄: 競賽名稱, 項目, 獎項, 結果公布日期). Plain Python."""
from ..itemkit import read_date, read_term, read_text

FIELDS = ("name", "content", "result", "announced_on")


def read_competition(data: dict, *, today) -> tuple[dict, list]:
    """data {name, content, result, announced_on, school_year?, semester?} -> (values, problems)."""
    problems = []
    values = {"name": read_text(data, "name", 100, problems, required=True),
              "content": read_text(data, "content", 500, problems, required=True),
              "result": read_text(data, "result", 50, problems, required=True),
              "announced_on": read_date(data, "announced_on", problems, today=today)}
    values["school_year"], values["semester"] = read_term(data, problems, on=values["announced_on"])
    return values, problems
