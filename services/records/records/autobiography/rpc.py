"""nameko entrypoints of the autobiography and study plan."""
from portfolio_common.nameko_kit import rpc
from portfolio_common.permissions import allowed

from . import usecases


class Rpc:
    @rpc
    @allowed("student", "guidance_counsellor", "homeroom_teacher", "system")
    def get_autobiography(self, caller, student_id=None):
        """{student, versions: [newest first]}; no student_id: the calling student's own."""
        with self.platform.uow() as uow:
            return usecases.get_autobiography(uow, caller, student_id)

    @rpc
    @allowed("student")
    def write_autobiography(self, caller, data, expected_version):
        """A new version {autobiography?, career_plan, expectations, strengths, interests}, submitted
        for review; expected_version = the version_no last seen (0 first; stale_record otherwise)."""
        with self.platform.uow() as uow:
            return usecases.write_autobiography(uow, caller, data, expected_version)

    @rpc
    @allowed("guidance_counsellor", "homeroom_teacher")
    def review_autobiography(self, caller, version_id, decision, comment=""):
        """decision approve | return (return needs a comment) on the latest submitted version."""
        with self.platform.uow() as uow:
            return usecases.review_autobiography(uow, caller, version_id, decision, comment)

    @rpc
    @allowed("guidance_counsellor", "homeroom_teacher", "system")
    def list_class_autobiographies(self, caller, class_code):
        """[{student, latest}] of a class (counsellors: any; a homeroom teacher: their own); a
        sealed student: student.sealed true, latest null."""
        with self.platform.uow() as uow:
            return usecases.list_class(uow, caller, class_code)
