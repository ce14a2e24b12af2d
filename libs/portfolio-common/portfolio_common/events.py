"""Event names, the envelope and each payload's schema: the platform's published language.

Producers dump strictly (`make_event` validates the payload and refuses unknown fields);
consumers load tolerantly (`load_event` excludes unknown fields, so a producer may add a
field without breaking anyone). Wire: exchange `<producer>.events` (topic, durable),
routing key = event name, JSON body = the envelope.
"""
import datetime as dt
import uuid

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from .errors import PermanentEventError

OUTCOME_UPLOADED = "outcome-uploaded"
PERFORMANCE_UPLOADED = "performance-uploaded"
PROOF_UPLOADED = "proof-uploaded"
CERTIFIED = "certified"
CERTIFICATION_RETURNED = "certification-returned"
CERTIFICATION_WITHDRAWN = "certification-withdrawn"
SELECTION_LOCKED = "selection-locked"
NATIONAL_SUBMITTED = "national-submitted"
SEALED = "sealed"
SEALED_READ_APPROVED = "sealed-read-approved"
STUDENT_STATUS_CHANGED = "student-status-changed"
ACCESS_REFUSED = "access-refused"
UPLOAD_REFUSED = "upload-refused"
CALENDAR_CHANGED = "calendar-changed"

# event -> producer (the exchange is f"{producer}.events")
PRODUCERS = {
    OUTCOME_UPLOADED: "files",
    PERFORMANCE_UPLOADED: "files",
    PROOF_UPLOADED: "files",
    CERTIFIED: "certification",
    CERTIFICATION_RETURNED: "certification",
    CERTIFICATION_WITHDRAWN: "certification",
    SELECTION_LOCKED: "submission",
    NATIONAL_SUBMITTED: "submission",
    SEALED: "submission",
    SEALED_READ_APPROVED: "submission",
    STUDENT_STATUS_CHANGED: "records",
    UPLOAD_REFUSED: "files",
    CALENDAR_CHANGED: "submission",
}

# Events that several services produce, each on its own exchange.
SHARED_EVENTS = {
    ACCESS_REFUSED: ("records", "certification", "submission", "files"),
}


def producers_of(event):
    return SHARED_EVENTS.get(event) or (PRODUCERS[event],)


# (event, consuming service, handler method[, source]). Each becomes the durable quorum queue
# nameko's event_handler uses: evt-<source>-<event>--<service>.<method>.
# Only subscriptions that exist in code are listed; tests/contract checks both ways.
SUBSCRIPTIONS = [
    (OUTCOME_UPLOADED, "records", "handle_outcome_uploaded"),
    (OUTCOME_UPLOADED, "certification", "handle_outcome_uploaded"),
    (CERTIFIED, "records", "handle_certified"),
    (CERTIFIED, "submission", "handle_certified"),
    (CERTIFICATION_RETURNED, "records", "handle_certification_returned"),
    (CERTIFICATION_WITHDRAWN, "records", "handle_certification_withdrawn"),
    (CERTIFICATION_WITHDRAWN, "submission", "handle_certification_withdrawn"),
    (CALENDAR_CHANGED, "certification", "handle_calendar_changed"),
    (STUDENT_STATUS_CHANGED, "certification", "handle_student_status_changed"),
    (SELECTION_LOCKED, "records", "handle_selection_locked"),
    (NATIONAL_SUBMITTED, "records", "handle_national_submitted"),
    (UPLOAD_REFUSED, "records", "handle_upload_refused"),
    (PERFORMANCE_UPLOADED, "records", "handle_performance_uploaded"),
    (PROOF_UPLOADED, "records", "handle_proof_uploaded"),
    (CALENDAR_CHANGED, "records", "handle_calendar_changed"),
    (OUTCOME_UPLOADED, "submission", "handle_outcome_uploaded"),
    (CERTIFICATION_RETURNED, "submission", "handle_certification_returned"),
    (PERFORMANCE_UPLOADED, "submission", "handle_performance_uploaded"),
    (SEALED, "records", "handle_sealed"),
    (SEALED, "certification", "handle_sealed"),
    (SEALED, "files", "handle_sealed"),     # files/sealing.py: a pika consumer, not nameko
    (SELECTION_LOCKED, "files", "handle_selection_locked"),   # files/locked.py: pika too
    (SEALED_READ_APPROVED, "records", "handle_sealed_read_approved"),
] + [(ACCESS_REFUSED, "accounts", "handle_access_refused", src) for src in SHARED_EVENTS[ACCESS_REFUSED]]


def subscriptions():
    """(event, source, service, method) for every subscription."""
    for sub in SUBSCRIPTIONS:
        event, service, method = sub[:3]
        yield event, (sub[3] if len(sub) > 3 else PRODUCERS[event]), service, method


def exchange_for(event: str, producer: str = None) -> str:
    return f"{producer or PRODUCERS[event]}.events"


def queue_name(event: str, service: str, method: str, source: str = None) -> str:
    return f"evt-{source or PRODUCERS[event]}-{event}--{service}.{method}"


class _Strict(Schema):
    class Meta:
        unknown = RAISE


Str = fields.String
UUIDStr = fields.UUID


# The two files an outcome may hold (DOMAIN.md: an item is a 簡述 plus a document, a media file,
# or both): `document` (pdf, jpg, png) and `media` (mp3, mp4).
SLOTS = ("document", "media")
MEDIA_CONTENT_TYPES = ("audio/mpeg", "video/mp4", "audio/mp4")


def slot_of_content_type(content_type) -> str:
    """The slot a file of this type belongs in: how rows stored before outcomes had two slots
    (one file, no slot recorded) are read."""
    return "media" if content_type in MEDIA_CONTENT_TYPES else "document"


_SHA256 = validate.Regexp(r"^[0-9a-f]{64}$")


class OutcomeUploaded(_Strict):
    """One file of an outcome stored in one of its slots. `slot` is absent from payloads
    written before outcomes had two slots: those are the `document` slot."""
    outcome_id = UUIDStr(required=True)
    file_id = UUIDStr(required=True)
    student_id = UUIDStr(required=True)
    student_user_id = UUIDStr(required=True)
    section_id = UUIDStr(required=True)
    teacher_user_id = UUIDStr(required=True)
    school_year = fields.Integer(required=True, validate=validate.Range(min=100, max=200))
    semester = fields.Integer(required=True, validate=validate.OneOf([1, 2]))
    course_code = Str(required=True)
    subject_name = Str(required=True)
    description = Str(required=True, validate=validate.Length(min=1, max=100))
    filename = Str(required=True)
    content_type = Str(required=True)
    size = fields.Integer(required=True, validate=validate.Range(min=1))
    sha256 = Str(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    uploaded_at = fields.AwareDateTime(required=True)
    slot = Str(load_default="document", validate=validate.OneOf(SLOTS))
    # The student's class when the ticket was issued (records' enrolment), for the oversight
    # figures per class and the homeroom teacher's view. Optional (added later): absent or null
    # for a student without a class and for tickets issued before it was carried.
    class_code = Str(load_default=None, allow_none=True)
    class_name = Str(load_default=None, allow_none=True)
    homeroom_user_id = UUIDStr(load_default=None, allow_none=True)


class PerformanceUploaded(_Strict):
    performance_id = UUIDStr(required=True)
    # the national sheet it belongs to and who entered it: only `student` counts toward the
    # 10 a student selects a year (records/performances/domain.py)
    performance_kind = Str(required=True, validate=validate.OneOf(
        ["competition", "licence", "work_based_learning", "work", "advanced_course", "other"]))
    entered_by = Str(required=True, validate=validate.OneOf(["student", "school", "external"]))
    file_id = UUIDStr(required=True)
    student_id = UUIDStr(required=True)
    student_user_id = UUIDStr(required=True)
    school_year = fields.Integer(required=True)
    description = Str(required=True, validate=validate.Length(min=1, max=100))
    filename = Str(required=True)
    content_type = Str(required=True)
    size = fields.Integer(required=True, validate=validate.Range(min=1))
    sha256 = Str(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    uploaded_at = fields.AwareDateTime(required=True)
    # who sent the file (the student, or the school unit that entered it): a user id only, for
    # the history; absent or null in events of tickets issued before it was carried
    uploader_user_id = UUIDStr(load_default=None, allow_none=True)


class ProofUploaded(_Strict):
    """The proof file of a staff-entered item (an in-school competition's 證明文件) is durable in
    object storage; records attaches it to the item (records/itemproofs)."""
    item_kind = Str(required=True, validate=validate.OneOf(["competition"]))
    item_id = UUIDStr(required=True)
    attempt = fields.Integer(required=True, validate=validate.Range(min=1))
    file_id = UUIDStr(required=True)
    student_id = UUIDStr(required=True)
    student_user_id = UUIDStr(required=True)
    school_year = fields.Integer(required=True, validate=validate.Range(min=100, max=200))
    semester = fields.Integer(required=True, validate=validate.OneOf([1, 2]))
    filename = Str(required=True)
    content_type = Str(required=True)
    size = fields.Integer(required=True, validate=validate.Range(min=1))
    sha256 = Str(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    uploaded_at = fields.AwareDateTime(required=True)
    # who sent the file (the upload ticket's holder, e.g. the organising unit's staff member), so
    # the item's history names them and not the event consumer: a user id only, no personal
    # data. Optional (added later): absent or null in events of tickets issued before.
    uploader_user_id = UUIDStr(load_default=None, allow_none=True)


class UploadRefused(_Strict):
    """An upload with a valid ticket ended without a stored file (refused, failed, expired or
    cancelled): the quota slot its ticket holds is free again, at once."""
    kind = Str(required=True, validate=validate.OneOf(["outcome", "performance", "item_proof"]))
    subject_id = UUIDStr(required=True)      # the ticket's outcome_id, performance_id or item_id
    student_id = UUIDStr(required=True)
    student_user_id = UUIDStr(required=True)
    school_year = fields.Integer(required=True)
    semester = fields.Integer(required=True, allow_none=True)
    code = Str(required=True)                # why, e.g. file_empty, upload_expired
    refused_at = fields.AwareDateTime(required=True)
    # the ticket's attempt for its outcome (1 first upload, 2.. re-uploads): an older attempt's
    # end must not free the slot a newer ticket of the same outcome holds; None from older files
    attempt = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))


class Certified(_Strict):
    """A round of an outcome certified. The attestation covers the outcome as a whole:
    `fingerprints` is {slot: sha256} of every file of the round (absent from payloads written
    before outcomes had two slots: then {"document": sha256}); `sha256` is the principal file's
    (the document, or the media file of an outcome without one), as older readers expect."""
    task_id = UUIDStr(required=True)
    outcome_id = UUIDStr(required=True)
    student_id = UUIDStr(required=True)
    student_user_id = UUIDStr(required=True)
    section_id = UUIDStr(required=True)
    school_year = fields.Integer(required=True)
    semester = fields.Integer(required=True)
    course_code = Str(required=True)
    subject_name = Str(required=True)
    description = Str(required=True)
    sha256 = Str(required=True)
    certified_by = UUIDStr(required=True)
    acting_for = UUIDStr(required=True, allow_none=True)
    certified_at = fields.AwareDateTime(required=True)
    fingerprints = fields.Dict(keys=Str(validate=validate.OneOf(SLOTS)), values=Str(validate=_SHA256),
                               load_default=None)


def fingerprints_of(payload) -> dict:
    """{slot: sha256} of a `certified` payload, older ones (a single file) included."""
    return dict(payload.get("fingerprints") or {"document": payload["sha256"]})


class CertificationReturned(_Strict):
    """A round of an outcome returned to the student: `reason` is the text shown (the school's
    listed reason, plus free text), `reason_code` the list's code; `sha256` the file decided on."""
    task_id = UUIDStr(required=True)
    outcome_id = UUIDStr(required=True)
    student_id = UUIDStr(required=True)
    student_user_id = UUIDStr(required=True)
    returned_by = UUIDStr(required=True)
    acting_for = UUIDStr(required=True, allow_none=True)
    reason_code = Str(required=True, validate=validate.Length(min=1, max=40))
    reason = Str(required=True, validate=validate.Length(min=1, max=500))
    sha256 = Str(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    returned_at = fields.AwareDateTime(required=True)


class CertificationWithdrawn(_Strict):
    """A certification taken back within the certification window, with a reason: the outcome
    is no longer certified (it waits for a new decision in round `next_task_id`), so it must
    leave every selectable copy; the withdrawn attestation stays in certification's history."""
    task_id = UUIDStr(required=True)           # the round whose certification is withdrawn
    next_task_id = UUIDStr(required=True)      # the round opened on the same file
    outcome_id = UUIDStr(required=True)
    student_id = UUIDStr(required=True)
    student_user_id = UUIDStr(required=True)
    section_id = UUIDStr(required=True)
    school_year = fields.Integer(required=True)
    semester = fields.Integer(required=True)
    sha256 = Str(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    withdrawn_by = UUIDStr(required=True)
    acting_for = UUIDStr(required=True, allow_none=True)
    reason = Str(required=True, validate=validate.Length(min=1, max=500))
    withdrawn_at = fields.AwareDateTime(required=True)


class _LockedFile(_Strict):
    kind = Str(required=True, validate=validate.OneOf(["outcome", "performance"]))
    subject_id = UUIDStr(required=True)          # the outcome_id or performance_id
    sha256 = Str(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))   # the locked version


class SelectionLocked(_Strict):
    """A student's selection of a school year locked (issue 9 item 4). Consumers: records
    (marks the outcomes locked, audit) and files (legal hold on each locked object version,
    lifted from the ones the student's earlier lock held and this one does not).
    Added compatibly (optional, absent in events published before): lock_version (1, 2, ... a
    re-lock after a correction; a consumer ignores a version lower than one it applied) and
    files (every locked outcome's and performance's file, identified by its subject id and the
    SHA-256 of the locked version). Without `files`, a consumer takes outcome_ids."""
    student_id = UUIDStr(required=True)
    student_user_id = UUIDStr(required=True)
    school_year = fields.Integer(required=True)
    outcome_ids = fields.List(UUIDStr(), required=True)
    locked_by = UUIDStr(required=True)
    locked_at = fields.AwareDateTime(required=True)
    lock_version = fields.Integer(validate=validate.Range(min=1), load_default=None)
    files = fields.List(fields.Nested(_LockedFile), load_default=None)


class NationalSubmitted(_Strict):
    batch_id = UUIDStr(required=True)
    school_year = fields.Integer(required=True)
    semester = fields.Integer(required=True)
    receipt_id = Str(required=True)
    submitted_at = fields.AwareDateTime(required=True)


class Sealed(_Strict):
    """A student sealed five years after the college application (issue 9 item 7): every
    consumer records it in its `sealed_students` and its database refuses writes to the
    student's rows from then on. manifest_digest: SHA-256 of submission's signed manifest."""
    student_id = UUIDStr(required=True)
    student_user_id = UUIDStr(required=True)
    sealed_at = fields.AwareDateTime(required=True)
    manifest_digest = Str(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))


class _Approval(_Strict):
    role = Str(required=True)
    user_id = UUIDStr(required=True)


class SealedReadApproved(_Strict):
    """A request to read a sealed student's data, approved by the principal and the executive
    secretary: the reader (the registrar who asked) may read until expires_at; records keeps it."""
    request_id = UUIDStr(required=True)
    student_id = UUIDStr(required=True)
    reader_user_id = UUIDStr(required=True)
    approved_by = fields.List(fields.Nested(_Approval), required=True)
    expires_at = fields.AwareDateTime(required=True)


class StudentStatusChanged(_Strict):
    """A dated status change of a student (WAVE2-CONTRACTS.md): consumers are submission
    (rosters' variant sheets, selection eligibility) and certification (transfer out)."""
    student_id = UUIDStr(required=True)
    student_user_id = UUIDStr(required=True)
    change = Str(required=True, validate=validate.OneOf(
        ["repeat", "reinstatement", "transfer_in", "transfer_out", "department_transfer", "visiting_study"]))
    effective_on = fields.Date(required=True)
    # origin school (transfer in) or host school (transfer out, visiting study); null for a repeat
    other_school_code = Str(required=True, allow_none=True, validate=validate.Regexp(r"^\d{6}$"))
    school_year = fields.Integer(required=True, validate=validate.Range(min=100, max=200))
    semester = fields.Integer(required=True, validate=validate.OneOf([1, 2]))


class _Window(_Strict):
    opens_on = fields.Date(required=True)
    closes_on = fields.Date(required=True)      # inclusive, a Taiwan (Asia/Taipei) date


class _Limits(_Strict):
    outcome_uploads_per_semester = fields.Integer(required=True, validate=validate.Range(min=1, max=50))
    outcomes_selected_per_year = fields.Integer(required=True, validate=validate.Range(min=1, max=50))
    performances_selected_per_year = fields.Integer(required=True, validate=validate.Range(min=1, max=50))


class CalendarChanged(_Strict):
    """The whole calendar of one tenant's term, after any change (the submission service owns
    calendars; ARCHITECTURE.md "calendar"). Consumers keep an event-fed copy per (tenant,
    school_year, semester) and apply a payload only if its `version` is higher than the one
    they hold, so a redelivered or reordered event changes nothing. Dates are Taiwan dates,
    windows inclusive at both ends (portfolio_common.windows reads them)."""
    school_year = fields.Integer(required=True, validate=validate.Range(min=100, max=200))
    semester = fields.Integer(required=True, validate=validate.OneOf([1, 2]))
    starts_on = fields.Date(required=True)      # the term's first and last day: the current
    ends_on = fields.Date(required=True)        # term is the one whose days hold today
    upload = fields.Nested(_Window, required=True)
    certification = fields.Nested(_Window, required=True)
    selection = fields.Nested(_Window, required=True)
    national_deadline = fields.Date(required=True)
    school_completion_on = fields.Date(required=True)   # national_deadline - 14 days (DOMAIN.md)
    limits = fields.Nested(_Limits, required=True)      # per school year, repeated in each term
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    changed_by = UUIDStr(required=True)
    changed_at = fields.AwareDateTime(required=True)


class AccessRefused(_Strict):
    """A call refused for lack of rights (or an item hidden as not found): who, what, when."""
    user_id = Str(required=True, allow_none=True)
    username = Str(required=True, allow_none=True)
    roles = fields.List(Str(), required=True)
    action = Str(required=True)
    code = Str(required=True)
    remote_addr = Str(required=True, allow_none=True)
    at = fields.AwareDateTime(required=True)


PAYLOADS = {
    OUTCOME_UPLOADED: OutcomeUploaded,
    PERFORMANCE_UPLOADED: PerformanceUploaded,
    PROOF_UPLOADED: ProofUploaded,
    CERTIFIED: Certified,
    CERTIFICATION_RETURNED: CertificationReturned,
    CERTIFICATION_WITHDRAWN: CertificationWithdrawn,
    SELECTION_LOCKED: SelectionLocked,
    NATIONAL_SUBMITTED: NationalSubmitted,
    SEALED: Sealed,
    SEALED_READ_APPROVED: SealedReadApproved,
    STUDENT_STATUS_CHANGED: StudentStatusChanged,
    ACCESS_REFUSED: AccessRefused,
    UPLOAD_REFUSED: UploadRefused,
    CALENDAR_CHANGED: CalendarChanged,
}

VERSION = 1


class Envelope(Schema):
    class Meta:
        unknown = EXCLUDE

    event_id = UUIDStr(required=True)
    event = Str(required=True, validate=validate.OneOf(list(PAYLOADS)))
    version = fields.Integer(required=True)
    occurred_at = fields.AwareDateTime(required=True)
    tenant = Str(required=True, validate=validate.Length(min=1, max=32))
    producer = Str(required=True)
    payload = fields.Dict(required=True)


def utcnow():
    return dt.datetime.now(dt.timezone.utc)


def make_event(event: str, tenant: str, payload: dict, *, event_id=None, occurred_at=None,
               producer=None) -> dict:
    """Build the JSON-ready envelope; the payload is validated strictly (producer side)."""
    producer = producer or PRODUCERS.get(event)
    if producer not in producers_of(event):
        raise ValueError(f"{producer} does not produce {event}")
    schema = PAYLOADS[event]()
    errors = schema.validate(schema.dump(payload))
    extra = set(payload) - set(schema.fields)
    if errors or extra:
        raise ValueError(f"{event} payload invalid: {errors or ''} {sorted(extra) or ''}")
    return {
        "event_id": str(event_id or uuid.uuid4()),
        "event": event,
        "version": VERSION,
        "occurred_at": (occurred_at or utcnow()).isoformat(),
        "tenant": tenant,
        "producer": producer,
        "payload": schema.dump(payload),
    }


def load_event(event: str, body) -> dict:
    """Consumer side: tolerant load of envelope + payload. Malformed -> PermanentEventError."""
    if not isinstance(body, dict):
        raise PermanentEventError(f"{event}: body is not a JSON object")
    try:
        env = Envelope().load(body)
        if env["event"] != event:
            raise ValidationError({"event": [f"expected {event}"]})
        schema = PAYLOADS[event](unknown=EXCLUDE)
        env["payload"] = schema.load(env["payload"])
    except ValidationError as exc:
        raise PermanentEventError(f"{event}: malformed: {exc.messages}") from exc
    env["event_id"] = str(env["event_id"])
    return env
