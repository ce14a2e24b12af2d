"""What every staff-entered item of a student's record shares (issue 8 items 4-8): consultation
records, career-plan assessments, attendance, activities, in-school competitions.

Each such kind is its own package (records/<kind>/) that declares an `ItemKind`: its table, the
roles that enter it (the unit the regulation names, DOMAIN.md "Who does what"), who else reads
every student's item of the tenant, its field rule (plain Python, `read(data, today) -> (values,
problems)`), its natural key (what makes a row of an import the same item) and whether it may
ever leave the school in an export (`exported`). This module holds the rest, once:

- the columns every item table has (`common_columns`): tenant, student, term, where it came
  from (form | import), who recorded it and when, a version (a change names the version it was
  made from: stale_record otherwise), and a void mark (a mistaken item is voided, never deleted);
- `SqlItemRepository` / `FakeItemRepository` over such a table;
- who may read (`may_read_student`, `class_students`): the kind's writers and readers of the
  tenant; the student themself; the homeroom teacher of the student's class. Anyone else reads
  another's item exactly like a missing one (not_found, audited as a refusal);
- the use cases: record (form), update, void, list for a student / a class / oneself, and the
  importer that feeds records.importing.run_import. Every write appends to the hash-chained
  history (entity = the kind's name) before the commit.
"""
import copy
import datetime as dt
import functools
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from portfolio_common import clock
from portfolio_common.text import clean_text

from . import rocdate
from .errors import FieldsInvalid, Invalid, NotAllowed, NotFound, StaleRecord
from .sealing.usecases import gate_sealed_read


def snapshot(values):
    """records.history.snapshot (imported late: the tables here load while history imports orm)."""
    from .history import snapshot as history_snapshot
    return history_snapshot(values)

HOMEROOM = "homeroom_teacher"
COUNSELLOR = "guidance_counsellor"


@dataclass(frozen=True)
class ItemKind:
    """One kind of staff-entered item. `read(data, today)` is the kind's rule: text fields in,
    (values, [(field, code, params)]) out; values include school_year and semester."""
    name: str                    # entity name in the history, e.g. "consultation"
    table: sa.Table
    writers: tuple               # roles that enter and change it (and read every student's)
    read: object                 # the field rule (plain Python, the kind's domain.py)
    fields: tuple                # the kind's own columns, in the order a person reads them
    readers: tuple = ()          # other roles that read every student's item of the tenant
    key: tuple = ()              # fields that make two rows of a student the same item (imports)
    exported: bool = True        # False: never leaves the school (no export may include it)
    order: tuple = ("school_year", "semester")
    # extra["present"](uow, tenant, rows) -> [public item]: a kind whose items show more than
    # their own columns (course grades: the section's subject and credits) in the item views
    extra: dict = field(default_factory=dict)
    # True: an item takes one proof file (its table has proof_columns(); records/itemproofs)
    proof: bool = False


def common_columns() -> list:
    """The columns every item table starts with (fresh objects: one set per table)."""
    return [
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant", sa.String(32), nullable=False),
        sa.Column("student_id", UUID(as_uuid=True), sa.ForeignKey("students.id"), nullable=False),
        sa.Column("school_year", sa.Integer, nullable=False),
        sa.Column("semester", sa.SmallInteger, nullable=False),
        sa.Column("recorded_via", sa.String(20), nullable=False),   # form | import
        sa.Column("recorded_by", UUID(as_uuid=True)),
        sa.Column("recorded_by_username", sa.String(64)),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("voided_at", sa.DateTime(timezone=True)),
        sa.Column("voided_by", UUID(as_uuid=True)),
        sa.Column("void_reason", sa.String(200)),
    ]


def proof_columns() -> list:
    """The columns of a kind whose items take a proof file (besides `proof_file_id`): what the
    stored proof is (from `proof-uploaded`) and how many upload tickets were issued for it (each
    ticket is a new attempt at the files service, so a later proof replaces the earlier one)."""
    return [
        sa.Column("proof_filename", sa.String(255)),
        sa.Column("proof_content_type", sa.String(100)),
        sa.Column("proof_size", sa.BigInteger),
        sa.Column("proof_sha256", sa.String(64)),
        sa.Column("proof_uploaded_at", sa.DateTime(timezone=True)),
        sa.Column("proof_attempts", sa.SmallInteger, nullable=False, server_default="0"),
    ]


PROOF_FIELDS = ("proof_file_id", "proof_filename", "proof_content_type", "proof_size", "proof_sha256",
                "proof_uploaded_at")


# --- storage -------------------------------------------------------------------------------

class SqlItemRepository:
    def __init__(self, table, session):
        self.t, self.s = table, session

    def of_students(self, tenant, student_ids) -> list:
        if not student_ids:
            return []
        rows = self.s.execute(sa.select(self.t).where(self.t.c.tenant == tenant,
                                                      self.t.c.student_id.in_(list(student_ids)))
                              .order_by(self.t.c.school_year, self.t.c.semester, self.t.c.recorded_at)).all()
        return [dict(r._mapping) for r in rows]

    def get(self, tenant, item_id, lock=False):
        q = sa.select(self.t).where(self.t.c.tenant == tenant, self.t.c.id == item_id)
        row = self.s.execute(q.with_for_update() if lock else q).first()
        return dict(row._mapping) if row else None

    def find(self, tenant, student_id, match: dict):
        """The live (not voided) item of a student whose fields equal `match`."""
        row = self.s.execute(sa.select(self.t).where(
            self.t.c.tenant == tenant, self.t.c.student_id == student_id, self.t.c.voided_at.is_(None),
            *[self.t.c[k] == v for k, v in match.items()])).first()
        return dict(row._mapping) if row else None

    def add(self, values) -> uuid.UUID:
        item_id = uuid.uuid4()
        self.s.execute(self.t.insert().values(id=item_id, version=1, **values))
        return item_id

    def update(self, item_id, expected_version, values) -> bool:
        """Apply when the stored version is still the one the change was made from."""
        res = self.s.execute(self.t.update().where(self.t.c.id == item_id, self.t.c.version == expected_version,
                                                   self.t.c.voided_at.is_(None))
                             .values(version=self.t.c.version + 1, **values))
        return res.rowcount == 1

    def set_fields(self, item_id, values):
        """Columns that are no part of the item's content (its proof): no version change, so a
        form opened before the proof arrived still saves."""
        self.s.execute(self.t.update().where(self.t.c.id == item_id).values(**values))

    def by_proof(self, tenant, file_id):
        row = self.s.execute(sa.select(self.t).where(self.t.c.tenant == tenant,
                                                     self.t.c.proof_file_id == file_id)).first()
        return dict(row._mapping) if row else None


class FakeItemRepository:
    """The same in memory; refuses columns the table does not have."""

    def __init__(self, table):
        self.t, self.rows = table, {}

    def _check(self, values):
        unknown = set(values) - set(self.t.c.keys())
        assert not unknown, f"no such columns: {unknown}"

    def of_students(self, tenant, student_ids):
        ids = {str(s) for s in student_ids}
        return sorted([copy.deepcopy(r) for r in self.rows.values()
                       if r["tenant"] == tenant and str(r["student_id"]) in ids],
                      key=lambda r: (r["school_year"], r["semester"], r["recorded_at"]))

    def get(self, tenant, item_id, lock=False):
        r = self.rows.get(uuid.UUID(str(item_id)))
        return copy.deepcopy(r) if r and r["tenant"] == tenant else None

    def find(self, tenant, student_id, match):
        return next((copy.deepcopy(r) for r in self.rows.values() if r["tenant"] == tenant
                     and str(r["student_id"]) == str(student_id) and r["voided_at"] is None
                     and all(r.get(k) == v for k, v in match.items())), None)

    def add(self, values):
        self._check(values)
        item_id = uuid.uuid4()
        defaults = {c: (0 if c == "proof_attempts" else None) for c in self.t.c.keys()}
        self.rows[item_id] = dict(defaults, **values, id=item_id, version=1)
        return item_id

    def update(self, item_id, expected_version, values):
        self._check(values)
        r = self.rows.get(uuid.UUID(str(item_id)))
        if r is None or r["version"] != expected_version or r["voided_at"] is not None:
            return False
        r.update(values, version=r["version"] + 1)
        return True

    def set_fields(self, item_id, values):
        self._check(values)
        self.rows[uuid.UUID(str(item_id))].update(values)

    def by_proof(self, tenant, file_id):
        return next((copy.deepcopy(r) for r in self.rows.values()
                     if r["tenant"] == tenant and str(r.get("proof_file_id")) == str(file_id)), None)


def repositories(name, table) -> dict:
    """REPOSITORIES entry of a kind's repository.py: uow.<name> over its table."""
    return {name: (functools.partial(SqlItemRepository, table), functools.partial(FakeItemRepository, table))}


# --- field rules shared by the kinds ------------------------------------------------------

def read_text(data, field_name, limit, problems, required=False) -> str | None:
    """A cleaned short text (portfolio_common.text: NFC, one line break, no control or zero-width
    characters), at most `limit` characters; empty -> None."""
    text = clean_text(data.get(field_name))
    if not text:
        if required:
            problems.append((field_name, "field_missing", {}))
        return None
    if len(text) > limit:
        problems.append((field_name, "text_too_long", {"limit": limit}))
    return text


def read_date(data, field_name, problems, *, today, required=True) -> dt.date | None:
    """ROC or Gregorian spellings (records.rocdate); impossible, mixed-era or later than today
    refused."""
    raw = data.get(field_name)
    if not str(raw or "").strip():
        if required:
            problems.append((field_name, "field_missing", {}))
        return None
    try:
        day = rocdate.parse_date(raw)
    except rocdate.DateInvalid as exc:
        problems.append((field_name, exc.code, {}))
        return None
    if day > today:
        problems.append((field_name, "date_in_future", {}))
        return None
    return day


def read_int(data, field_name, lo, hi, code, problems, required=True) -> int | None:
    import unicodedata
    raw = unicodedata.normalize("NFKC", str(data.get(field_name) if data.get(field_name) is not None else "")).strip()
    if not raw:
        if required:
            problems.append((field_name, "field_missing", {}))
        return None
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        problems.append((field_name, code, {"min": lo, "max": hi}))
        return None
    return int(raw)


def read_term(data, problems, *, on=None, dated=True) -> tuple:
    """(school_year, semester): as given (ROC year 100-200, semester 1 or 2), else the term the
    date `on` falls in (August-January: semester 1). `dated`: the kind has such a date, so a
    missing term is only reported when the date is there (else the date's problem says it)."""
    from .status.domain import term_of
    given_year = read_int(data, "school_year", 100, 200, "school_year_invalid", problems, required=False)
    given_sem = read_int(data, "semester", 1, 2, "semester_invalid", problems, required=False)
    derived = term_of(on) if on else (None, None)
    year = given_year if given_year is not None else derived[0]
    sem = given_sem if given_sem is not None else derived[1]
    if dated and on is None:
        return year, sem
    if year is None and not any(p[0] == "school_year" for p in problems):
        problems.append(("school_year", "field_missing", {}))
    if sem is None and not any(p[0] == "semester" for p in problems):
        problems.append(("semester", "field_missing", {}))
    return year, sem


# --- who may read --------------------------------------------------------------------------

def _uuid(value, what):
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        raise NotFound(f"{what} not found") from None


def tenant_wide(kind, caller) -> bool:
    """Reads every student's item of the caller's tenant: the kind's writers and readers."""
    return caller.has(*kind.writers, *kind.readers)


def homeroom_of(caller, student) -> bool:
    return caller.has(HOMEROOM) and student.get("class_homeroom_user_id") is not None \
        and str(student["class_homeroom_user_id"]) == str(caller.user_id)


def may_read_student(uow, kind, caller, student_id) -> dict:
    """The student row when the caller may read this student's items of `kind`: the kind's
    writers and readers of the tenant, the student themself, the homeroom teacher of the
    student's class. Anyone else (another tenant, another student, a teacher of another class)
    reads it as not found (audited as a refusal)."""
    student = uow.students.get(caller.tenant, _uuid(student_id, "student"))
    if student is None:
        raise NotFound("student not found")
    if tenant_wide(kind, caller) or str(student["user_id"]) == str(caller.user_id) or homeroom_of(caller, student):
        gate_sealed_read(uow, caller, student)
        return student
    raise NotFound("student not found", refused=True)


def class_students(uow, kind, caller, class_code) -> list:
    """The students of a class when the caller may read the class's items of `kind`: tenant-wide
    readers any class, a homeroom teacher their own class; anyone else not_found (refused)."""
    code = clean_text(class_code)[:32]
    if not code:
        raise Invalid("choose a class", code="class_unknown")
    students = uow.students.list(caller.tenant, code)
    if tenant_wide(kind, caller):
        return students
    if caller.has(HOMEROOM) and all(homeroom_of(caller, s) for s in students):
        return students
    raise NotFound("class not found", refused=True)


# --- use cases -----------------------------------------------------------------------------

def _iso(v):
    if isinstance(v, uuid.UUID):
        return str(v)
    return v.isoformat() if isinstance(v, (dt.date, dt.datetime, dt.time)) else v


def public(kind, row) -> dict:
    """An item as the API and the pages show it."""
    out = {f: _iso(row.get(f)) for f in kind.fields}
    out.update(id=str(row["id"]), kind=kind.name, student_id=str(row["student_id"]),
               school_year=row["school_year"], semester=row["semester"], recorded_via=row["recorded_via"],
               recorded_by=str(row["recorded_by"]) if row.get("recorded_by") else None,
               recorded_by_username=row.get("recorded_by_username"), recorded_at=_iso(row.get("recorded_at")),
               updated_at=_iso(row.get("updated_at")), version=row["version"],
               voided_at=_iso(row.get("voided_at")), void_reason=row.get("void_reason"))
    if kind.proof:
        out.update({f: _iso(row.get(f)) for f in PROOF_FIELDS})
    return out


def _stored(kind, values) -> dict:
    return {f: values.get(f) for f in kind.fields} | {"school_year": values["school_year"],
                                                       "semester": values["semester"]}


def _refuse(problems):
    raise FieldsInvalid("the item has problems", problems=[
        {"field": f, "code": c, "params": p or {}} for f, c, p in problems])


def _fields(data) -> dict:
    if not isinstance(data, dict):
        raise Invalid("the item is an object of fields")
    return {str(k): v for k, v in data.items()}


def student_for_write(uow, kind, caller, student_id) -> dict:
    """The student when the caller is of the unit that enters `kind` (the rule's source: DOMAIN.md
    "Who does what"); a student or another unit is refused (not_allowed)."""
    if not caller.has(*kind.writers):
        raise NotAllowed(f"{kind.name} is entered by " + ", ".join(kind.writers))
    student = uow.students.get(caller.tenant, _uuid(student_id, "student"))
    if student is None:
        raise NotFound("student not found")
    return student


def _add(uow, kind, caller, student, values, via) -> uuid.UUID:
    row = _stored(kind, values) | {"tenant": caller.tenant, "student_id": student["id"], "recorded_via": via,
                                   "recorded_by": caller.user_id, "recorded_by_username": caller.username,
                                   "recorded_at": clock.now()}
    item_id = getattr(uow, kind.table.name).add(row)
    uow.history.record(caller.tenant, kind.name, item_id, "created", caller.user_id,
                       actor_username=caller.username, student_id=student["id"],
                       after=snapshot(_stored(kind, values) | {"recorded_via": via}))
    return item_id


def _change(uow, kind, caller, existing, values, expected_version):
    stored = _stored(kind, values)
    before = {k: existing.get(k) for k in stored if existing.get(k) != stored[k]}
    after = {k: stored[k] for k in before}
    if not before:
        return False
    if not getattr(uow, kind.table.name).update(existing["id"], expected_version,
                                                stored | {"updated_at": clock.now()}):
        raise StaleRecord("the item changed since it was read", code="stale_record")
    uow.history.record(caller.tenant, kind.name, existing["id"], "updated", caller.user_id,
                       actor_username=caller.username, student_id=existing["student_id"],
                       before=snapshot(before), after=snapshot(after))
    return True


def record_item(uow, kind, caller, student_id, data) -> dict:
    """The unit's form: a new item for one student. data: the kind's fields as text. Field
    problems: FieldsInvalid [{field, code, params}]; an item with the same natural key already
    there: the same values answer that item (a retried form), others `item_exists`."""
    student = student_for_write(uow, kind, caller, student_id)
    values, problems = kind.read(_fields(data), today=clock.today_in_school())
    if problems:
        _refuse(problems)
    repo = getattr(uow, kind.table.name)
    if kind.key:
        same = repo.find(caller.tenant, student["id"], {k: values[k] for k in kind.key})
        if same is not None:
            if all(same.get(k) == v for k, v in _stored(kind, values).items()):
                return public(kind, same)
            _refuse([(kind.key[-1], "item_exists", {})])
    item_id = _add(uow, kind, caller, student, values, "form")
    uow.commit()
    return public(kind, repo.get(caller.tenant, item_id))


def update_item(uow, kind, caller, item_id, data, expected_version) -> dict:
    """Change an item; `expected_version` is the version the caller read (stale_record when it
    changed since, nothing written). Only the kind's writers."""
    if not caller.has(*kind.writers):
        raise NotAllowed(f"{kind.name} is entered by " + ", ".join(kind.writers))
    repo = getattr(uow, kind.table.name)
    existing = repo.get(caller.tenant, _uuid(item_id, kind.name), lock=True)
    if existing is None:
        raise NotFound(f"{kind.name} not found")
    if existing["voided_at"] is not None or existing["version"] != expected_version:
        raise StaleRecord("the item changed since you opened it", code="stale_record")
    values, problems = kind.read(_fields(data), today=clock.today_in_school())
    if problems:
        _refuse(problems)
    if kind.key and any(values[k] != existing.get(k) for k in kind.key):
        other = repo.find(caller.tenant, existing["student_id"], {k: values[k] for k in kind.key})
        if other is not None and other["id"] != existing["id"]:
            _refuse([(kind.key[-1], "item_exists", {})])
    if _change(uow, kind, caller, existing, values, expected_version):
        uow.commit()
    return public(kind, repo.get(caller.tenant, existing["id"]))


def void_item(uow, kind, caller, item_id, expected_version, reason) -> dict:
    """Mark a mistaken item void: it stays (with who and why), never deleted. Only the kind's
    writers; `expected_version` as read (stale_record otherwise); a reason of 1-200 characters."""
    if not caller.has(*kind.writers):
        raise NotAllowed(f"{kind.name} is entered by " + ", ".join(kind.writers))
    repo = getattr(uow, kind.table.name)
    row = repo.get(caller.tenant, _uuid(item_id, kind.name), lock=True)
    if row is None:
        raise NotFound(f"{kind.name} not found")
    text = clean_text(reason)
    if not text:
        raise Invalid("a reason is required", code="reason_required")
    if len(text) > 200:
        raise Invalid("at most 200 characters", code="reason_too_long")
    if row["voided_at"] is not None or row["version"] != expected_version:
        raise StaleRecord("the item changed since you opened it", code="stale_record")
    if not repo.update(row["id"], expected_version, {"voided_at": clock.now(), "voided_by": caller.user_id,
                                                      "void_reason": text}):
        raise StaleRecord("the item changed since you opened it", code="stale_record")
    uow.history.record(caller.tenant, kind.name, row["id"], "voided", caller.user_id,
                       actor_username=caller.username, student_id=row["student_id"],
                       before={"voided": False}, after={"voided": True, "void_reason": text})
    uow.commit()
    return public(kind, repo.get(caller.tenant, row["id"]))


def list_for_student(uow, kind, caller, student_id) -> list:
    """Every item of one student, voided ones included and marked, oldest term first."""
    student = may_read_student(uow, kind, caller, student_id)
    return [public(kind, r) for r in getattr(uow, kind.table.name).of_students(caller.tenant, [student["id"]])]


def list_for_class(uow, kind, caller, class_code) -> list:
    """[{student: {id, student_no, name, seat_no, class_code}, items: [...]}] of a class, by seat."""
    students = class_students(uow, kind, caller, class_code)
    rows = getattr(uow, kind.table.name).of_students(caller.tenant, [s["id"] for s in students])
    by_student = {}
    for r in rows:
        by_student.setdefault(str(r["student_id"]), []).append(public(kind, r))
    return [{"student": student_card(s), "items": by_student.get(str(s["id"]), [])}
            for s in sorted(students, key=lambda s: (s.get("seat_no") or 0, s["student_no"]))]


def list_mine(uow, kind, caller) -> list:
    """The calling student's own items (not_a_student for an account without a record)."""
    student = uow.students.by_user(caller.tenant, caller.user_id)
    if student is None:
        raise NotAllowed("no student record for this account", code="not_a_student")
    return [public(kind, r) for r in getattr(uow, kind.table.name).of_students(caller.tenant, [student["id"]])]


def student_card(s) -> dict:
    """What an item page shows of a student: never the national ID."""
    return {"id": str(s["id"]), "student_no": s["student_no"], "name": s["name"], "seat_no": s.get("seat_no"),
            "class_code": s.get("class_code")}


def may_read_item(kind):
    """HISTORY_READERS entry: whoever may read the item reads its history."""
    def check(uow, caller, item_id):
        row = getattr(uow, kind.table.name).get(caller.tenant, _uuid(item_id, kind.name))
        if row is None:
            raise NotFound(f"{kind.name} not found")
        return may_read_student(uow, kind, caller, row["student_id"])
    return check


# --- imports -------------------------------------------------------------------------------

STUDENT_NO = ("student_no", "學號", ("student_no", "student_number", "學生學號"), True, "code", None)


def columns(spec) -> list:
    return [{"field": f, "label": label, "aliases": list(aliases), "required": req, "type": t, "width": w}
            for f, label, aliases, req, t, w in spec]


class ItemImporter:
    """Rows of a unit's spreadsheet for one kind, the student by 學號 (records.importing.run_import
    does the rest: every problem by row and column, all or nothing, the same file twice changes
    nothing, a change since the preview refuses the real run). A row with the kind's natural key
    already stored is `unchanged` when equal, else `updated` (with history)."""
    key_field = "student_no"
    unique_in_file = ()

    def __init__(self, kind, column_spec):
        self.item_kind = kind
        self.kind = kind.name
        self.roles = kind.writers
        self.columns = columns(column_spec)

    def read(self, cells, ctx):
        from .profile.domain import _code_text
        values, problems = self.item_kind.read(cells, today=ctx["today"])
        values["student_no"] = _code_text(cells.get("student_no"))
        if not values["student_no"]:
            problems.append(("student_no", "field_missing", {}))
        return values, problems

    def file_problems(self, rows):
        seen, out = {}, []
        for row, v in rows:
            key = (v.get("student_no"), *[v.get(k) for k in self.item_kind.key])
            if all(x is not None for x in key):
                if key in seen:
                    out.append((row, self.item_kind.key[-1], "duplicate_in_file", {"first_row": seen[key]}))
                seen.setdefault(key, row)
        return out

    def prefetch(self, uow, ctx, values_list):
        """Before the rows are planned (importing.run_import): the file's students in one query,
        and their live items of this kind indexed by the kind's key, so planning a row asks the
        database nothing (a 10,000-row grade sheet made five queries a row)."""
        tenant = ctx["caller"].tenant
        found = uow.students.by_student_nos(tenant, {v["student_no"] for v in values_list if v.get("student_no")})
        ctx["students_by_no"] = found
        ctx["students_by_id"] = {str(st["id"]): st for st in found.values()}
        live = {}
        for r in getattr(uow, self.item_kind.table.name).of_students(tenant, [st["id"] for st in found.values()]):
            if r.get("voided_at") is None:
                live.setdefault(self.live_key(str(r["student_id"]), r), r)
        ctx["live_items"] = live

    def live_key(self, student_id, row) -> tuple:
        """How a stored item and a row of the file are matched: the student and the kind's key."""
        return (student_id, *[row.get(k) for k in self.item_kind.key])

    def student(self, uow, ctx, student_no):
        """The row's student: from prefetch when it ran, else asked of the database."""
        if "students_by_no" in ctx:
            return ctx["students_by_no"].get(student_no)
        return uow.students.by_student_no(ctx["caller"].tenant, student_no)

    def same_item(self, uow, ctx, student, values):
        """The student's live item with the row's key (None without one)."""
        if "live_items" in ctx:
            return ctx["live_items"].get(self.live_key(str(student["id"]), values))
        return getattr(uow, self.item_kind.table.name).find(
            ctx["caller"].tenant, student["id"], {k: values[k] for k in self.item_kind.key})

    def plan(self, uow, ctx, values):
        student = self.student(uow, ctx, values["student_no"])
        if student is None:
            return None, None, [("student_no", "student_unknown", {})]
        same = self.same_item(uow, ctx, student, values)
        if same is None:
            return "created", [str(student["id"])], []
        if all(same.get(k) == v for k, v in _stored(self.item_kind, values).items()):
            return "unchanged", [str(same["id"]), same["version"]], []
        return "updated", [str(same["id"]), same["version"]], []

    def apply(self, uow, ctx, values, plan):
        action, marker = plan
        caller = ctx["caller"]
        if action == "created":
            student = ctx.get("students_by_id", {}).get(marker[0]) or uow.students.get(caller.tenant,
                                                                                      uuid.UUID(marker[0]))
            _add(uow, self.item_kind, caller, student, values, "import")
            return
        existing = getattr(uow, self.item_kind.table.name).get(caller.tenant, uuid.UUID(marker[0]))
        if existing is None or existing["version"] != marker[1]:
            raise StaleRecord("the item changed since the preview", code="stale_record")
        _change(uow, self.item_kind, caller, existing, values, marker[1])
