"""RPC input/output shapes of the records service."""
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema


class _In(Schema):
    class Meta:
        unknown = EXCLUDE


class ClassIn(_In):
    code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    homeroom_user_id = fields.UUID(load_default=None)


class StudentIn(_In):
    student_no = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    user_id = fields.UUID(required=True)
    class_code = fields.String(required=True)
    seat_no = fields.Integer(load_default=None)
    national_id = fields.String(required=True)


class SectionIn(_In):
    course_code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    subject_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    class_code = fields.String(required=True)
    grade_level = fields.Integer(required=True, validate=validate.Range(min=1, max=4))
    credits = fields.Integer(load_default=None, validate=validate.Range(min=0, max=20))  # 日間部
    class_hours = fields.Integer(load_default=None, validate=validate.Range(min=0, max=40))  # 進修部 節數
    teacher_user_id = fields.UUID(required=True)
    students = fields.List(fields.String(), load_default=list)  # student_no of enrolled students


    @validates_schema
    def _credits_or_hours(self, data, **kwargs):
        if data.get("credits") is None and data.get("class_hours") is None:
            raise ValidationError("credits (日間部) or class_hours (進修部) is required", "credits")


class SchoolImport(_In):
    school_year = fields.Integer(required=True, validate=validate.Range(min=100, max=200))
    semester = fields.Integer(required=True, validate=validate.OneOf([1, 2]))
    classes = fields.List(fields.Nested(ClassIn), load_default=list)
    students = fields.List(fields.Nested(StudentIn), load_default=list)
    sections = fields.List(fields.Nested(SectionIn), load_default=list)


class SectionRead(Schema):
    id = fields.String()
    school_year = fields.Integer()
    semester = fields.Integer()
    course_code = fields.String()
    subject_name = fields.String()
    class_code = fields.String()
    grade_level = fields.Integer()
    credits = fields.Integer()
    class_hours = fields.Integer()
    teacher_user_id = fields.String()


class OutcomeRead(Schema):
    id = fields.String()
    section_id = fields.String()
    subject_name = fields.String()
    course_code = fields.String()
    school_year = fields.Integer()
    semester = fields.Integer()
    description = fields.String()
    file_id = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    # {document|media: {file_id, filename, content_type, size, sha256, uploaded_at}}: the
    # outcome's files (a document, a media file, or both); the fields above name the principal one
    files = fields.Dict(keys=fields.String(), values=fields.Dict())
    status = fields.String()
    return_reason = fields.String(allow_none=True)
    selected_locked = fields.Boolean()
    upload_round = fields.Integer()  # 1, then +1 per re-upload after a return
    uploaded_at = fields.DateTime()
    certified_at = fields.DateTime(allow_none=True)


class StudentRead(Schema):
    id = fields.String()
    student_no = fields.String()
    name = fields.String()
    class_code = fields.String()
    seat_no = fields.Integer(allow_none=True)
    national_id_masked = fields.String()
