from marshmallow import Schema, fields


class TaskRead(Schema):
    id = fields.String()
    outcome_id = fields.String()
    file_id = fields.String()
    student_id = fields.String()
    section_id = fields.String()
    school_year = fields.Integer()
    semester = fields.Integer()
    course_code = fields.String()
    subject_name = fields.String()
    description = fields.String()
    filename = fields.String()
    sha256 = fields.String()
    status = fields.String()
    created_at = fields.DateTime()
    acting_for = fields.String(allow_none=True)  # the teacher this item is certified for, as proxy
