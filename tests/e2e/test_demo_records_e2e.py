"""The generated demo students' records (deploy/demo_records.py, issue 8 item 14) loaded into
real servers through the units' imports and forms: every planned item arrives, with the unit's
own rules (nothing refused), and loading the same records again changes nothing (no duplicate
form entry, every import row unchanged)."""
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from deploy import demo_records
from tests.support.callers import as_system

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def school(stack):
    from tests.support.school import add_class
    add_class(stack, prefix="dmrec", class_code="166", subject="資料處理科示範", n=40, nid_letter="O", accounts=0)
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=120) as rpc:
        students = [s for s in rpc.records.list_students(as_system("day", "records"), "166")]
    numbers = sorted(s["student_no"] for s in students)
    term = {"school_year": 115, "semester": 1,
            "classes": [{"code": "166", "name": "資料處理科示範班"}],
            "students": [{"student_no": s["student_no"], "class_code": "166", "seat_no": s["seat_no"]} for s in students],
            "sections": [{"course_code": "115050407H11Z0166", "class_code": "166", "students": numbers}]}
    return {"terms": {"day": term}}


def test_the_planned_records_arrive_and_loading_them_again_changes_nothing(stack, school):
    planned = demo_records.plan(school, set())
    forms = planned["day"]["forms"]
    assert sum(len(rows) for _, rows in planned["day"]["imports"]["import_course_grades"]) == 40
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=120) as rpc:
        first = demo_records.load(rpc, as_system, planned)
        day = first["day"]
        assert day["import_course_grades"] == 40 and day["import_activities"] > 0, first

        def held(method):
            rows = getattr(rpc.records, demo_records.LISTS[method])(as_system("day", "records"), None, "166")
            return {(r["student"]["student_no"], it["id"]) for r in rows for it in r["items"]}
        before = {m: held(m) for m in forms}
        for method, entries in forms.items():
            assert {no for no, _ in before[method]} == {no for _, no, _ in entries}, method
        grades = rpc.records.list_course_grades(as_system("day", "records"), None, "166")
        assert sum(len(r["items"]) for r in grades) == 40
        # again: the same records, nothing new
        demo_records.load(rpc, as_system, planned)
        assert {m: held(m) for m in forms} == before
        for method, batches in planned["day"]["imports"].items():
            for options, rows in batches:
                if not rows:
                    continue
                res = getattr(rpc.records, method)(as_system("day", "records"), rows, True, None, options)
                assert res["summary"]["created"] == res["summary"]["updated"] == 0, (method, res["summary"])
