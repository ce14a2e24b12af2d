"""The national rosters' column sets, versioned data per school year (columnsets/<year>.json).

A school year's file names each roster (id, 名冊名稱, key columns, its sheets: id, sheet title,
columns) and the cover sheet (學校代碼, 學年度, 學期, 名冊名稱). A column says what it holds
(`type`, `required`, the `codes` it may take, a `max` length): the pre-check and the simulator
read these, so a new year's template is a new file, not new code. A column may be limited to some tenants
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
    type: str = "text"      # national_id | date (ROC yyyMMdd) | code | course_code | int | grade | flag | text | description
    required: bool = False
    codes: tuple = ()       # the values a code column may hold (empty: any digits and letters)
    max: int | None = None  # longest text, in characters


@dataclass(frozen=True)
class Sheet:
    id: str                 # the receipt's and the batch rows' name of the sheet (e.g. "cadres")
    name: str               # the sheet's title in the workbook
    columns: tuple
    tenants_of: tuple       # per column: tuple of tenants or () for all

    def columns_for(self, tenant: str) -> list:
        """The columns (in order) of this sheet for one tenant."""
        return [c for c, only in zip(self.columns, self.tenants_of) if not only or tenant in only]


@dataclass(frozen=True)
class Roster:
    id: str
    name: str
    key: tuple
    sheets: tuple           # Sheets, in the workbook's order (after the cover sheet)

    @property
    def sheet(self) -> str:
        """The first (main) sheet's title."""
        return self.sheets[0].name

    @property
    def columns(self) -> tuple:
        return self.sheets[0].columns

    def columns_for(self, tenant: str) -> list:
        """The main sheet's columns (in order) for one tenant."""
        return self.sheets[0].columns_for(tenant)

    def sheet_of(self, sheet_id: str) -> Sheet:
        for s in self.sheets:
            if s.id == sheet_id:
                return s
        raise Invalid(f"roster {self.id} has no sheet {sheet_id}", code="column_set_missing")


@dataclass(frozen=True)
class ColumnSet:
    version: int            # the school year of the file that applies
    cover_sheet: str
    cover: tuple            # Columns: title, field
    rosters: tuple
    status_codes: tuple = ()  # (records' status, 學籍狀態 code) pairs

    def roster(self, roster_id: str) -> Roster:
        for r in self.rosters:
            if r.id == roster_id:
                return r
        raise Invalid(f"column set {self.version} has no roster {roster_id}", code="column_set_missing")

    def sheet_by_key(self, key: str) -> tuple:
        """(roster, sheet) of a receipt's roster key: the sheet id (unique across rosters)."""
        for r in self.rosters:
            for s in r.sheets:
                if s.id == key:
                    return r, s
        raise Invalid(f"column set {self.version} has no sheet {key}", code="column_set_missing")


def available_years() -> list:
    return sorted(int(n[:-5]) for n in os.listdir(HERE) if n.endswith(".json") and n[:-5].isdigit())


def _column(c: dict) -> Column:
    return Column(c["title"], c["field"], c.get("type", "text"), bool(c.get("required")),
                  tuple(c.get("codes", ())), c.get("max"))


def _sheet(d: dict) -> Sheet:
    return Sheet(id=d["id"], name=d["sheet"], columns=tuple(_column(c) for c in d["columns"]),
                 tenants_of=tuple(tuple(c.get("tenants", ())) for c in d["columns"]))


def _parse(doc: dict) -> ColumnSet:
    rosters = []
    for r in doc["rosters"]:
        # a roster of one sheet may be written flat (sheet + columns), as 115's first file was
        sheets = r.get("sheets") or [{"id": r["id"], "sheet": r["sheet"], "columns": r["columns"]}]
        rosters.append(Roster(id=r["id"], name=r["name"], key=tuple(r["key"]),
                              sheets=tuple(_sheet(s) for s in sheets)))
    return ColumnSet(version=int(doc["school_year"]), cover_sheet=doc["cover"]["sheet"],
                     cover=tuple(Column(c["title"], c["field"]) for c in doc["cover"]["rows"]),
                     rosters=tuple(rosters), status_codes=tuple(sorted((doc.get("status_codes") or {}).items())))


@functools.lru_cache(maxsize=None)
def load(school_year: int) -> ColumnSet:
    """The column set for `school_year` (ROC): its own file or the newest earlier one.
    Raises Invalid(column_set_missing) when no file is that old."""
    years = [y for y in available_years() if y <= int(school_year)]
    if not years:
        raise Invalid(f"no national column set for school year {school_year}", code="column_set_missing")
    with open(os.path.join(HERE, f"{years[-1]}.json"), encoding="utf-8") as fh:
        return _parse(json.load(fh))
