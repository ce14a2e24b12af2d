"""One spreadsheet-import capability for every import (issue 8 item 11): the services' half.

Shared by records (every item kind: records/importing.py) and submission (the college
application dates, submission/sealing/importer.py); the gateway's half reads the file
(gateway/sheets.py, gateway/importflow.py).

The gateway reads a file into rows ({row, cells: {field: text}}, `row` being the spreadsheet's
own row number); the owning service decides what a row may say. Every kind's importer
(IMPORTERS in an area's importer.py) goes through `run_import`, so every import:
- checks every row and reports every problem by row and column before anything is written
  (a dry run returns the same report and writes nothing);
- writes all or nothing: one problem in one row and nothing is written;
- is idempotent: a row equal to what is stored is `unchanged` and writes nothing, not even
  history, so the same file twice changes nothing;
- never silently overwrites a change made after the preview: the dry run returns `basis` (a
  fingerprint of the stored versions the plan was made from); a real run given that basis is
  refused with `stale_record` when anything it would touch changed since.

An importer is an object with:
  kind, roles, key_field, unique_in_file (fields whose values may appear once per file),
  columns: [{field, label, aliases, required, type ("text"|"code"|"date"|"int"|"username"), width}]
  read(cells, ctx) -> (values, [(field, code, params)])          pure, per row
  file_problems(rows) -> [(row, field, code, params)]             optional, across rows
  plan(uow, ctx, values) -> (action, version_marker, [(field, code, params)])   reads only
  apply(uow, ctx, values, plan)                                   writes + history
  prefetch(uow, ctx, [values])   optional, reads only: called once before the rows are planned
                                 with every row that passed `read`, to load what `plan` looks
                                 up (students, stored items) in a few queries and keep it in ctx
  changes(uow, ctx, values, marker) -> [{field, before, after}]   optional, reads only: what an
      `updated` row changes, for the preview (an `unchanged` row gets [], a new one nothing)
"""
import hashlib
import json

from . import clock
from .errors import Invalid, StaleRecord

MAX_ROWS = 5000
ACTIONS = ("created", "updated", "unchanged")


def describe(importer) -> dict:
    return {"kind": importer.kind, "roles": list(importer.roles), "key_field": importer.key_field,
            "columns": importer.columns}


def _rows(rows) -> list:
    if not isinstance(rows, list):
        raise Invalid("rows must be a list", code="import_rows_invalid")
    if len(rows) > MAX_ROWS:
        raise Invalid(f"at most {MAX_ROWS} rows at once", code="too_many_rows")
    out = []
    for r in rows:
        if not isinstance(r, dict) or not isinstance(r.get("row"), int) or not isinstance(r.get("cells"), dict):
            raise Invalid("each row is {row: int, cells: {field: text}}", code="import_rows_invalid")
        cells = {str(k): (v if v is None or isinstance(v, (str, int)) else str(v)) for k, v in r["cells"].items()}
        out.append({"row": r["row"], "cells": cells})
    return out


def run_import(uow, importer, ctx, rows, *, dry_run=True, basis=None) -> dict:
    """Check, plan and (unless dry_run or any problem) write rows of one kind. See the module
    docstring. Returns {kind, dry_run, written, problems: [{row, column, code, params}],
    rows: [{row, key, action, changes?}], summary: {created, updated, unchanged}, basis}.
    Raises NotAllowed (role), Invalid (malformed request), StaleRecord (basis no longer holds)."""
    ctx["caller"].require(*importer.roles)
    ctx.setdefault("today", clock.today_in_school())
    rows = _rows(rows)
    problems, checked = [], []
    for r in rows:
        values, row_problems = importer.read(r["cells"], ctx)
        problems += [(r["row"], f, c, p) for f, c, p in row_problems]
        checked.append((r["row"], values, bool(row_problems)))
    for field in importer.unique_in_file:
        seen = {}
        for row, values, _ in checked:
            v = values.get(field)
            if v in (None, ""):
                continue
            if v in seen:
                problems.append((row, field, "duplicate_in_file", {"first_row": seen[v]}))
            else:
                seen[v] = row
    if hasattr(importer, "file_problems"):
        problems += importer.file_problems([(row, values) for row, values, _ in checked])
    bad_rows = {p[0] for p in problems}
    if hasattr(importer, "prefetch"):   # what planning the rows will look up, in a few queries
        importer.prefetch(uow, ctx, [values for row, values, _ in checked if row not in bad_rows])
    plans, out_rows = [], []
    for row, values, _ in checked:
        if row in bad_rows:
            out_rows.append({"row": row, "key": str(values.get(importer.key_field) or ""), "action": None})
            continue
        action, marker, row_problems = importer.plan(uow, ctx, values)
        if row_problems:
            problems += [(row, f, c, p) for f, c, p in row_problems]
            out_rows.append({"row": row, "key": str(values.get(importer.key_field) or ""), "action": None})
            continue
        plans.append((row, values, action, marker))
        out = {"row": row, "key": str(values.get(importer.key_field) or ""), "action": action}
        if hasattr(importer, "changes") and action != "created":
            out["changes"] = importer.changes(uow, ctx, values, marker) if action == "updated" else []
        out_rows.append(out)
    fingerprint = hashlib.sha256(json.dumps(
        [[row, action, marker] for row, _, action, marker in plans], default=str).encode()).hexdigest()
    if problems:  # all or nothing: nothing is planned to be written
        for r in out_rows:
            r["action"] = None
            r.pop("changes", None)
    summary = {a: sum(1 for r in out_rows if r["action"] == a) for a in ACTIONS}
    result = {"kind": importer.kind, "dry_run": bool(dry_run), "written": False,
              "problems": [{"row": r, "column": f, "code": c, "params": p or {}}
                           for r, f, c, p in sorted(problems, key=lambda p: (p[0], p[1] or "", p[2]))],
              "rows": out_rows, "summary": summary, "basis": fingerprint}
    if dry_run or problems:
        return result
    if basis is not None and basis != fingerprint:
        raise StaleRecord("records changed since the preview; preview the file again",
                          code="stale_record")
    for row, values, action, marker in plans:
        if action != "unchanged":
            importer.apply(uow, ctx, values, (action, marker))
    uow.commit()
    result["written"] = True
    return result
