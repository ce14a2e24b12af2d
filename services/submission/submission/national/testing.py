"""For tests of the national side against a real database: the steps before an export, as the
people do them (an open calendar for the term, each student's selection and consent to
release, the registrar's lock of those students). Not used by the service itself."""
import datetime as dt

from portfolio_common import caller as caller_mod
from portfolio_common import clock

from ..schoolcalendar import usecases as calendar
from ..selection import consent, lock
from ..selection import usecases as choice


def open_term(db, tenant, school_year, semester=1):
    """A term around today whose selection window is open (set as the `system` tool would)."""
    today = clock.today_in_school()
    d = lambda n: (today + dt.timedelta(days=n)).isoformat()  # noqa: E731
    fields = {"starts_on": d(-60), "ends_on": d(60), "upload_opens_on": d(-30), "upload_closes_on": d(30),
              "certification_opens_on": d(-30), "certification_closes_on": d(40), "selection_opens_on": d(-10),
              "selection_closes_on": d(10), "national_deadline": d(80)}
    with db.uow() as uow:
        calendar.set_term(uow, caller_mod.system_caller(tenant), school_year, semester, fields)


def select_consent_and_lock(db, registrar, chosen: dict, school_year):
    """chosen: {student caller: [outcome_id]}; the term (semester 1) is opened first."""
    open_term(db, registrar.tenant, school_year)
    for student, outcome_ids in chosen.items():
        with db.uow() as uow:
            choice.save_selection(uow, student, school_year, outcome_ids=outcome_ids)
        with db.uow() as uow:
            consent.set_consent(uow, student, school_year, True, consent.WORDING_VERSION)
    with db.uow() as uow:
        lock.lock(uow, registrar, school_year, "tenant", "", [s.user_id for s in chosen])


class FakeDownloads:
    """The files service's keeping of built packages, in memory (unit tests): `keep` reads the
    file object from its start as FilesDownloads does; `data(download_id)` is what it kept."""

    def __init__(self):
        self.kept = {}

    def keep(self, fh, *, filename, content_type, sha256, requested_by, purpose, subject) -> dict:
        import hashlib
        import uuid
        fh.seek(0)
        data = fh.read()
        assert hashlib.sha256(data).hexdigest() == sha256, "the announced SHA-256 is not the bytes'"
        download_id = str(uuid.uuid4())
        self.kept[download_id] = {"data": data, "filename": filename, "content_type": content_type,
                                  "requested_by": str(requested_by), "purpose": purpose, "subject": subject}
        return {"download_id": download_id, "filename": filename, "content_type": content_type,
                "size": len(data), "sha256": sha256,
                "expires_at": (clock.now() + dt.timedelta(days=1)).isoformat()}

    def data(self, download_id) -> bytes:
        return self.kept[download_id]["data"]
