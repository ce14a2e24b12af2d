"""The national rosters' column sets, versioned data per school year (columnsets/<year>.json).

A school year's file names each roster (id, 名冊名稱, sheet, key columns, columns) and the
cover sheet (學校代碼, 學年度, 學期, 名冊名稱). A column may be limited to some tenants
(`tenants`: the day school's 修課學分 is the continuing-education division's 修課節數).
A year without its own file uses the newest earlier one (templates change only some years);
a year before every file is refused (`column_set_missing`).
"""
import functools
import json
import os
from dataclasses import dataclass

from ..errors import Invalid

HERE = os.path.join(os.path.dirname(__file__), "columnsets")


@dataclass(frozen=True)
class Column:
    title: str
    field: str


@dataclass(frozen=True)
class Roster:
    id: str
    name: str
    sheet: str
    key: tuple
    columns: tuple          # every Column of the file, with the tenants each one is for
    tenants_of: tuple       # per column: tuple of tenants or () for all

    def columns_for(self, tenant: str) -> list:
        """The columns (in order) of this roster for one tenant."""
        return [c for c, only in zip(self.columns, self.tenants_of) if not only or tenant in only]


@dataclass(frozen=True)
class ColumnSet:
    version: int            # the school year of the file that applies
    cover_sheet: str
    cover: tuple            # Columns: title, field
    rosters: tuple

    def roster(self, roster_id: str) -> Roster:
        for r in self.rosters:
            if r.id == roster_id:
                return r
        raise Invalid(f"column set {self.version} has no roster {roster_id}", code="column_set_missing")


def available_years() -> list:
    return sorted(int(n[:-5]) for n in os.listdir(HERE) if n.endswith(".json") and n[:-5].isdigit())


def _parse(doc: dict) -> ColumnSet:
    rosters = []
    for r in doc["rosters"]:
        cols = tuple(Column(c["title"], c["field"]) for c in r["columns"])
        rosters.append(Roster(id=r["id"], name=r["name"], sheet=r["sheet"], key=tuple(r["key"]),
                              columns=cols, tenants_of=tuple(tuple(c.get("tenants", ())) for c in r["columns"])))
    return ColumnSet(version=int(doc["school_year"]), cover_sheet=doc["cover"]["sheet"],
                     cover=tuple(Column(c["title"], c["field"]) for c in doc["cover"]["rows"]),
                     rosters=tuple(rosters))


@functools.lru_cache(maxsize=None)
def load(school_year: int) -> ColumnSet:
    """The column set for `school_year` (ROC): its own file or the newest earlier one.
    Raises Invalid(column_set_missing) when no file is that old."""
    years = [y for y in available_years() if y <= int(school_year)]
    if not years:
        raise Invalid(f"no national column set for school year {school_year}", code="column_set_missing")
    with open(os.path.join(HERE, f"{years[-1]}.json"), encoding="utf-8") as fh:
        return _parse(json.load(fh))
