from marshmallow import Schema, fields


class TaskRead(Schema):
    """One round of one outcome in a teacher's queue, with its decision once decided."""
    id = fields.String()
    outcome_id = fields.String()
    round = fields.Integer()
    file_id = fields.String()
    student_id = fields.String()
    section_id = fields.String()
    school_year = fields.Integer()
    semester = fields.Integer()
    course_code = fields.String()
    subject_name = fields.String()
    description = fields.String()
    filename = fields.String()
    content_type = fields.String(allow_none=True)
    sha256 = fields.String()
    # the round's files {document|media: {file_id, filename, content_type, sha256}} (the fields
    # above name the principal one) and, once decided, the fingerprints decided on {slot: sha256}
    files = fields.Dict(keys=fields.String(), values=fields.Dict())
    fingerprints = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True)
    status = fields.String()
    created_at = fields.DateTime()
    acting_for = fields.String(allow_none=True)  # the teacher this item is decided for, as proxy
    decided_by = fields.String(allow_none=True)
    decided_for = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    reason_code = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)       # a return's reason as the student sees it
    withdrawal_reason = fields.String(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)
    closed_reason = fields.String(allow_none=True)


class ReturnReasonRead(Schema):
    code = fields.String()
    label = fields.String()
    needs_note = fields.Boolean()
    active = fields.Boolean()
    position = fields.Integer()
