"""Every role of both tenants against every RPC of every service, called directly (as a caller
that bypasses the gateway would), and against every API endpoint through the gateway.

Expected allow/deny comes from the @allowed declarations (docs/permissions.md); each denial
must be refused by the service itself and appear in the access audit.
"""
import inspect
import re
import uuid

import pytest
import requests
from nameko.exceptions import RemoteError
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from nameko.rpc import Rpc
from nameko.standalone.rpc import ClusterRpcProxy

from accounts.domain import PLATFORM_ROLES, ROLES
from portfolio_common import caller as caller_mod
from portfolio_common import trust
from portfolio_common.caller import Signer
from tests.e2e.conftest import eventually
from tests.support.callers import as_system, signer

TENANTS = ("day", "ce")
X = str(uuid.UUID(int=1))
# harmless arguments for each RPC: an allowed caller gets past the gate and then, at most, a
# finer refusal (not found, not a student, invalid input); nothing of the demo is changed
ARGS = {
    "records.import_school": ({"school_year": 115, "semester": 1},),
    "records.list_my_sections": (), "records.list_my_outcomes": (None,), "records.get_outcome": (X,),
    "records.list_my_students": (), "records.list_students": (),
    "records.current_classes": ([X],),   # system:certification only (oversight by the class of today)
    "records.issue_outcome_ticket": (X, "x"), "records.issue_reupload_ticket": (X, "x"), "records.reveal_national_id": (X,), "records.release_outcome_ticket": (X,),
    "records.get_student": (X,), "records.get_my_profile": (),
    "records.create_student": ({"student_no": "x", "national_id": "A123456788"}, {"school_year": 115}),
    "records.update_student": (X, {}, 1, {"school_year": 115}),
    "records.import_student_profiles": ([], True, None, {"school_year": 115}), "records.list_import_kinds": (),
    "records.list_status_changes": (X,), "records.record_status_change": (X, {}),
    "records.void_status_change": (X, 1, "r"), "records.import_status_changes": ([], True),
    "records.get_history": ("student", X),
    "records.get_my_outcome_quota": (115, 1),
    "records.get_my_records": (), "records.list_item_classes": (), "records.get_class_records": ("no-such-class",),
    "records.import_attendance": ([], True), "records.import_activities": ([], True),
    "records.get_autobiography": (X,), "records.write_autobiography": ({}, 0),
    "records.review_autobiography": (X, "approve", ""), "records.list_class_autobiographies": ("no-such-class",),
    "records.list_consultations": (X,), "records.record_consultation": (X, {}), "records.update_consultation": (X, {}, 1),
    "records.void_consultation": (X, 1, "r"),
    "records.list_career_assessments": (X,), "records.record_career_assessment": (X, {}), "records.update_career_assessment": (X, {}, 1),
    "records.void_career_assessment": (X, 1, "r"),
    "records.list_attendance": (X,), "records.record_attendance": (X, {}), "records.update_attendance": (X, {}, 1),
    "records.void_attendance": (X, 1, "r"),
    "records.list_activities": (X,), "records.record_activity": (X, {}), "records.update_activity": (X, {}, 1),
    "records.void_activity": (X, 1, "r"),
    "records.list_competitions": (X,), "records.record_competition": (X, {}), "records.update_competition": (X, {}, 1),
    "records.void_competition": (X, 1, "r"),
    "records.issue_item_proof_ticket": ("competition", X), "records.grant_item_proof_read": ("competition", X),
    "records.record_performance": ({},), "records.list_performances": (X,),
    "records.issue_performance_ticket": (X,), "records.void_performance": (X, 1, "r"),
    "records.grant_performance_proof_read": (X,),
    "records.list_course_grades": (X,), "records.list_section_grades": (X,),
    "records.record_course_grade": (X, {}), "records.update_course_grade": (X, {}, 1),
    "records.void_course_grade": (X, 1, "r"), "records.import_course_grades": ([], True),
    "records.enrol_elective": (X, {}), "records.import_electives": ([], True),
    "records.import_performances": ([], True),
    "certification.list_queue": ("pending",), "certification.count_tasks": (),
    "certification.oversight_figures": ("tenant",), "certification.list_open_at_window_close": (7,),
    "certification.certify": ([X],), "certification.return_outcomes": ([X], None, "reason"),
    "certification.withdraw_certifications": ([X], "reason"), "certification.list_return_reasons": (False,),
    "certification.save_return_reason": ("X", "x"),   # an invalid code: checked after the role, stores nothing
    "submission.get_my_selection": (115,), "submission.select_outcomes": (115, []),
    "submission.lock_selections": (199,), "submission.list_locked": (199,),
    "submission.locked_outcomes": ([X],),   # system:certification only (before a withdrawal)
    # a year no calendar holds (199): a student's save is calendar_not_set, a lock finds no one
    "submission.save_selection": (199, None, None), "submission.set_selected": (199, "outcome", X, True),
    "submission.list_selection_changes": (199, X), "submission.get_consent": (199,),
    "submission.set_consent": (199, "not-a-bool"), "submission.list_consent_changes": (199, X),
    "submission.unlock_selections": (199, [X], ""), "submission.selection_overview": (199,),
    "submission.list_held_versions": (199, X),
    # the school calendar: a term no one set (199-1) and fields no one can mean: nothing changes
    "submission.get_calendar": (199, 1), "submission.list_calendar": (),
    "submission.list_calendar_changes": (199, 1), "submission.set_term": (199, 1, {"starts_on": "x"}),
    "records.get_calendar_copy": (199, 1),
    "records.national_export_fields": (115, []),
    "submission.national_precheck": (199, 1), "submission.submit_national": (199, 1),
    "submission.import_national_receipt": (X, "{}"), "submission.list_national_batches": (199,),
    "submission.get_national_batch": (X,), "submission.get_my_national_rows": (199,),
    "submission.report_national_row": (X, "course_outcomes", 2, "x"), "submission.list_national_reports": (199,),
    "submission.resolve_national_report": (X, "x"),
    "submission.national_roster_file": (199, 1, "student_data"),
    "records.transfer_export_fields": (X,), "submission.export_transfer_package": (X,),
    "records.issue_transfer_ticket": (X,), "records.transfer_import_target": (X, "A123456789"),
    "records.store_transfer_import": (X, {}, X), "records.list_transfer_imports": (X,),
    "records.grant_transfer_evidence_read": (X, X),
    "submission.preview_transfer_import": (X, X), "submission.import_transfer_package": (X, X),
    "submission.record_application_date": (X, X, "2999-01-01"), "submission.get_sealing_status": (X,),
    "submission.get_sealing_manifest": (X,), "submission.run_sealing": (),
    "submission.request_sealed_read": (X, "r"), "submission.approve_sealed_read": (X,),
    "submission.list_sealed_read_requests": (), "submission.import_application_dates": ([], True),
    "accounts.ensure_tenants": ([],), "accounts.import_people": ([], True),
    "accounts.grant_proxy": ("nobody-a", "nobody-b", "2026-01-01", "2026-01-02"),
    "accounts.list_proxies": (), "accounts.revoke_proxy": (X,), "accounts.list_access_audit": (1,),
    "accounts.sign_in_with_identity": ("moe-cloud", "nobody-sub"),
    "accounts.reset_password": ("nobody-a",), "accounts.link_identity": ("nobody-a", "moe-cloud", "sub-1"), "accounts.lookup_users": (["nobody-a"],), "accounts.list_users": (),
    "accounts.user_emails": ([X],),   # system:certification only (the reminder job)
    "accounts.names_of": ([X],),
}


def declared():
    import importlib
    out = {}
    for service in ("accounts", "records", "certification", "submission"):
        mod = importlib.import_module(f"{service}.service")
        cls = next(v for v in vars(mod).values() if isinstance(v, type) and getattr(v, "name", None) == service)
        for attr, fn in inspect.getmembers(cls):  # the records item kinds' mixins included
            if any(isinstance(ep, Rpc) for ep in getattr(fn, ENTRYPOINT_EXTENSIONS_ATTR, ())):
                roles = fn.allowed_roles
                if not roles[0].startswith("("):
                    out[f"{service}.{attr}"] = set(roles)
    return out


def test_every_role_against_every_rpc_directly(stack):
    table = declared()
    assert set(table) == set(ARGS), "a new RPC needs harmless arguments in ARGS"
    run = uuid.uuid4().hex[:6]
    denied = []
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=30) as rpc:
        missing = []

        def audited(tenant, expected):
            """Every denial of one caller is in its tenant's access audit (through access-refused
            events, or written by accounts). Checked caller by caller: the audit answers at most
            1,000 rows, fewer than the denials of all roles together."""
            rows = rpc.accounts.list_access_audit(as_system(tenant, "accounts"), 1000)
            got = {(r["username"], r["detail"].split(":")[0]) for r in rows if r["action"] == "refused"}
            missing[:] = [d for d in expected if d not in got]
            return not missing

        for tenant in TENANTS:
            # people's roles as the gateway signs them, the platform's tools (`system`, ops key)
            # and the gateway's own identity (`system:gateway`)
            for role in (*ROLES, *PLATFORM_ROLES, None, "system", "system:gateway"):
                who = caller_mod.Caller(user_id=str(uuid.uuid4()), username=f"mx-{run}-{tenant}-{role}",
                                        tenant=tenant, roles=(role,) if role else ())
                issuer = "ops" if role == "system" else "gateway"
                mine = []
                for name, allowed in table.items():
                    service, method = name.split(".")
                    token = signer(issuer).mint(who, service)
                    try:
                        getattr(getattr(rpc, service), method)(token, *ARGS[name])
                        gate_refused = False
                    except RemoteError as exc:
                        gate_refused = exc.exc_type == "NotAllowed" and "is not open to your role" in exc.value
                    expect_refused = role not in allowed
                    assert gate_refused == expect_refused, f"{name} as {tenant}:{role}"
                    if expect_refused:
                        mine.append((who.username, name))
                try:
                    eventually(lambda: audited(tenant, mine), timeout=60, interval=0.3)
                except AssertionError:
                    raise AssertionError(f"{len(missing)} of {len(mine)} denials of {tenant}:{role} not in the "
                                         f"audit, e.g. {missing[:5]}") from None
                denied += mine
        # a forged caller (a key that is not the ops tools') gets nothing anywhere
        forger = Signer("ops", trust.generate_signing_key())
        for name in table:
            service, method = name.split(".")
            with pytest.raises(RemoteError) as e:
                getattr(getattr(rpc, service), method)(forger.mint(caller_mod.system_caller("day"), service),
                                                        *ARGS[name])
            assert e.value.exc_type == "NotAuthenticated"
    assert len(denied) > 400


PDF = b"%PDF-1.4\n%%EOF\n"
API = [  # (method, path, json body or ("form", data), the RPC whose declaration gates it, or None: any session)
    ("GET", "/api/v1/me", None, None),
    ("GET", "/api/v1/auth/sessions", None, None),
    ("GET", "/api/v1/me/email", None, None),
    ("PUT", "/api/v1/me/email", {"email": None}, None),   # one's own reminder address: any session
    ("GET", "/api/v1/sections", None, "records.list_my_sections"),
    ("GET", "/api/v1/outcomes", None, "records.list_my_outcomes"),
    ("POST", "/api/v1/outcomes/tickets", {"section_id": X, "description": "x"}, "records.issue_outcome_ticket"),
    ("GET", "/api/v1/outcomes/quota?school_year=115&semester=1", None, "records.get_my_outcome_quota"),
    ("POST", f"/api/v1/outcomes/{X}/reupload", {"description": "x"}, "records.issue_reupload_ticket"),
    ("POST", "/api/v1/files/token", None, None),
    ("GET", f"/api/v1/outcomes/{X}", None, "records.get_outcome"),
    ("GET", f"/api/v1/files/{X}", None, None),  # files: owner, reviewer or registrar, else not found
    ("GET", "/api/v1/students", None, "records.list_students"),
    ("POST", "/api/v1/students", {"student_no": "x", "name": "x", "class_code": "x", "national_id": "A123456788"},
     "records.create_student"),
    ("GET", f"/api/v1/students/{X}", None, "records.get_student"),
    ("PUT", f"/api/v1/students/{X}", {"student_no": "x", "name": "x", "class_code": "x", "version": 1},
     "records.update_student"),
    ("GET", f"/api/v1/students/{X}/history", None, "records.get_history"),
    ("GET", f"/api/v1/students/{X}/status-changes", None, "records.list_status_changes"),
    ("POST", f"/api/v1/students/{X}/status-changes", {"change": "repeat", "effective_on": "2026-09-01"},
     "records.record_status_change"),
    ("POST", f"/api/v1/students/{X}/status-changes/{X}/void", {"version": 1, "reason": "r"},
     "records.void_status_change"),
    ("GET", f"/api/v1/performances?student_id={X}", None, "records.list_performances"),
    ("POST", "/api/v1/performances", {"kind": "work", "fields": {}}, "records.record_performance"),
    ("POST", f"/api/v1/performances/{X}/tickets", None, "records.issue_performance_ticket"),
    ("POST", f"/api/v1/performances/{X}/void", {"version": 1, "reason": "r"}, "records.void_performance"),
    ("GET", f"/api/v1/performances/{X}/history", None, "records.get_history"),
    ("GET", f"/api/v1/performances/{X}/proof", None, "records.grant_performance_proof_read"),
    ("GET", f"/api/v1/sealing/students/{X}", None, "submission.get_sealing_status"),
    ("PUT", f"/api/v1/sealing/students/{X}", {"applied_on": "2999-01-01"}, "records.get_student"),
    ("GET", f"/api/v1/sealing/students/{X}/manifest", None, "submission.get_sealing_manifest"),
    ("GET", "/api/v1/sealing/read-requests", None, "submission.list_sealed_read_requests"),
    ("POST", "/api/v1/sealing/read-requests", {"student_id": X, "reason": "r"}, "submission.request_sealed_read"),
    ("POST", f"/api/v1/sealing/read-requests/{X}/approve", None, "submission.approve_sealed_read"),
    ("POST", "/api/v1/imports/college_application", ("csv", {"dry_run": "true"}), "submission.import_application_dates"),
    ("GET", "/api/v1/imports", None, "records.list_import_kinds"),
    ("POST", "/api/v1/imports/student_profile", ("csv", {"dry_run": "true"}), "records.import_student_profiles"),
    ("POST", "/api/v1/imports/status_change", ("csv", {"dry_run": "true"}), "records.import_status_changes"),
    ("POST", f"/api/v1/students/{X}/national-id", None, "records.reveal_national_id"),
    ("GET", "/api/v1/me/records", None, "records.get_my_records"),
    ("GET", "/api/v1/classes", None, "records.list_item_classes"),
    ("GET", f"/api/v1/autobiography?student_id={X}", None, "records.get_autobiography"),
    ("PUT", "/api/v1/autobiography", {"version": 0}, "records.write_autobiography"),
    ("POST", f"/api/v1/autobiography/{X}/review", {"decision": "approve"}, "records.review_autobiography"),
    ("GET", "/api/v1/classes/no-such-class/autobiographies", None, "records.list_class_autobiographies"),
    ("GET", "/api/v1/classes/no-such-class/records", None, "records.get_class_records"),
    ("POST", "/api/v1/imports/attendance", ("csv", {"dry_run": "true"}), "records.import_attendance"),
    ("POST", "/api/v1/imports/activity", ("csv", {"dry_run": "true"}), "records.import_activities"),
    ("GET", f"/api/v1/records/consultations?student_id={X}", None, "records.list_consultations"),
    ("POST", "/api/v1/records/consultations", {"student_id": X}, "records.record_consultation"),
    ("PUT", f"/api/v1/records/consultations/{X}", {"version": 1}, "records.update_consultation"),
    ("POST", f"/api/v1/records/consultations/{X}/void", {"version": 1, "reason": "r"}, "records.void_consultation"),
    ("GET", f"/api/v1/records/career?student_id={X}", None, "records.list_career_assessments"),
    ("POST", "/api/v1/records/career", {"student_id": X}, "records.record_career_assessment"),
    ("PUT", f"/api/v1/records/career/{X}", {"version": 1}, "records.update_career_assessment"),
    ("POST", f"/api/v1/records/career/{X}/void", {"version": 1, "reason": "r"}, "records.void_career_assessment"),
    ("GET", f"/api/v1/records/attendance?student_id={X}", None, "records.list_attendance"),
    ("POST", "/api/v1/records/attendance", {"student_id": X}, "records.record_attendance"),
    ("PUT", f"/api/v1/records/attendance/{X}", {"version": 1}, "records.update_attendance"),
    ("POST", f"/api/v1/records/attendance/{X}/void", {"version": 1, "reason": "r"}, "records.void_attendance"),
    ("GET", f"/api/v1/records/activities?student_id={X}", None, "records.list_activities"),
    ("POST", "/api/v1/records/activities", {"student_id": X}, "records.record_activity"),
    ("PUT", f"/api/v1/records/activities/{X}", {"version": 1}, "records.update_activity"),
    ("POST", f"/api/v1/records/activities/{X}/void", {"version": 1, "reason": "r"}, "records.void_activity"),
    ("GET", f"/api/v1/records/competitions?student_id={X}", None, "records.list_competitions"),
    ("POST", "/api/v1/records/competitions", {"student_id": X}, "records.record_competition"),
    ("PUT", f"/api/v1/records/competitions/{X}", {"version": 1}, "records.update_competition"),
    ("POST", f"/api/v1/records/competitions/{X}/void", {"version": 1, "reason": "r"}, "records.void_competition"),
    ("POST", f"/api/v1/records/competitions/{X}/proof-tickets", None, "records.issue_item_proof_ticket"),
    ("GET", f"/api/v1/records/competitions/{X}/proof", None, "records.grant_item_proof_read"),
    ("GET", f"/api/v1/records/competitions/{X}/history", None, "records.get_history"),
    ("GET", f"/api/v1/records/grades?student_id={X}", None, "records.list_course_grades"),
    ("POST", "/api/v1/records/grades", {"student_id": X}, "records.record_course_grade"),
    ("PUT", f"/api/v1/records/grades/{X}", {"version": 1}, "records.update_course_grade"),
    ("POST", f"/api/v1/records/grades/{X}/void", {"version": 1, "reason": "r"}, "records.void_course_grade"),
    ("GET", f"/api/v1/sections/{X}/grades", None, "records.list_section_grades"),
    ("POST", "/api/v1/electives", {"student_id": X, "course_code": "X1", "school_year": "115", "semester": "1"},
     "records.enrol_elective"),
    ("POST", "/api/v1/imports/course_grade", ("csv", {"dry_run": "true"}), "records.import_course_grades"),
    ("POST", "/api/v1/imports/elective", ("csv", {"dry_run": "true"}), "records.import_electives"),
    ("POST", "/api/v1/imports/performance_licence", ("csv", {"dry_run": "true"}), "records.import_performances"),
    ("GET", "/api/v1/certification/tasks", None, "certification.list_queue"),
    ("POST", "/api/v1/certification/decisions", {"action": "certify", "task_ids": [X]}, "certification.certify"),
    ("POST", "/api/v1/certification/decisions", {"action": "return", "task_ids": [X], "reason": "r"},
     "certification.return_outcomes"),
    ("POST", "/api/v1/certification/decisions", {"action": "withdraw", "task_ids": [X], "reason": "r"},
     "certification.withdraw_certifications"),
    ("GET", "/api/v1/certification/return-reasons", None, "certification.list_return_reasons"),
    ("PUT", f"/api/v1/certification/return-reasons/{X}", {"label": "x"}, "certification.save_return_reason"),
    ("GET", "/api/v1/certification/stats", None, "certification.count_tasks"),
    ("GET", "/api/v1/certification/oversight", None, "certification.oversight_figures"),
    ("GET", "/api/v1/certification/open-at-close", None, "certification.list_open_at_window_close"),
    ("GET", "/api/v1/selections/115", None, "submission.get_my_selection"),
    ("PUT", "/api/v1/selections/199", {"outcome_ids": []}, "submission.save_selection"),
    # a class no one is in: the registrar gets past both gates and locks no one
    ("POST", "/api/v1/selections/199/lock", {"scope": "class", "class_code": "no-such-class"}, "records.list_students"),
    ("POST", "/api/v1/selections/199/items", {"kind": "outcome", "item_id": X, "selected": True},
     "submission.set_selected"),
    ("GET", "/api/v1/selections/199/changes", None, "submission.list_selection_changes"),
    ("GET", "/api/v1/selections/199/consent", None, "submission.get_consent"),
    ("PUT", "/api/v1/selections/199/consent", {"give": False}, "submission.set_consent"),
    ("GET", "/api/v1/selections/199/consent/changes", None, "submission.list_consent_changes"),
    ("POST", "/api/v1/selections/199/unlock", {"student_user_ids": [X], "reason": ""}, "submission.unlock_selections"),
    ("GET", "/api/v1/selections/199/overview", None, "submission.selection_overview"),
    ("GET", f"/api/v1/selections/199/locked/{X}/versions", None, "submission.list_held_versions"),
    ("GET", "/api/v1/selections/199/locked", None, "submission.list_locked"),
    ("GET", "/api/v1/national/199/1/precheck", None, "submission.national_precheck"),
    ("POST", "/api/v1/national/199/1/submissions", None, "submission.submit_national"),
    ("GET", "/api/v1/national/199/submissions", None, "submission.list_national_batches"),
    ("GET", f"/api/v1/national/submissions/{X}", None, "submission.get_national_batch"),
    ("POST", f"/api/v1/national/submissions/{X}/receipt", {"receipt": "{}"}, "submission.import_national_receipt"),
    ("GET", "/api/v1/national/199/my-rows", None, "submission.get_my_national_rows"),
    ("POST", f"/api/v1/national/submissions/{X}/rows/course_outcomes/2/reports", {"message": "x"},
     "submission.report_national_row"),
    ("GET", "/api/v1/national/199/reports", None, "submission.list_national_reports"),
    ("POST", f"/api/v1/national/reports/{X}/resolution", {"resolution": "x"}, "submission.resolve_national_report"),
    ("GET", "/api/v1/national/199/1/rosters/student_data", None, "submission.national_roster_file"),
    ("GET", f"/api/v1/students/{X}/transfer-package", None, "submission.export_transfer_package"),
    ("GET", "/api/v1/me/transfer-package", None, "submission.export_transfer_package"),
    ("POST", f"/api/v1/students/{X}/transfer-imports/tickets", None, "records.issue_transfer_ticket"),
    ("POST", f"/api/v1/students/{X}/transfer-imports/preview", {"file_id": X}, "submission.preview_transfer_import"),
    ("POST", f"/api/v1/students/{X}/transfer-imports", {"file_id": X}, "submission.import_transfer_package"),
    ("GET", f"/api/v1/students/{X}/transfer-imports", None, "records.list_transfer_imports"),
    ("GET", "/api/v1/me/transfer-imports", None, "records.list_transfer_imports"),
    ("GET", f"/api/v1/students/{X}/transfer-imports/files/{X}", None, "records.grant_transfer_evidence_read"),
    ("GET", f"/api/v1/me/transfer-imports/files/{X}", None, "records.grant_transfer_evidence_read"),
    # files decides (the person who asked for the file): no RPC gate, a random id is not_found for all
    ("GET", f"/api/v1/downloads/{X}", None, None),
    ("GET", "/api/v1/proxies", None, "accounts.list_proxies"),
    ("POST", "/api/v1/proxies", {"proxy_username": "nobody-b", "starts_on": "2026-01-01", "ends_on": "2026-01-02"},
     "accounts.grant_proxy"),
    ("DELETE", f"/api/v1/proxies/{X}", None, "accounts.revoke_proxy"),
    ("GET", "/api/v1/audit", None, "accounts.list_access_audit"),
    ("GET", "/api/v1/calendar", None, "submission.list_calendar"),
    ("GET", "/api/v1/calendar/current", None, "submission.get_calendar"),
    ("GET", "/api/v1/calendar/199/1", None, "submission.get_calendar"),
    ("PUT", "/api/v1/calendar/199/1", {"starts_on": "x"}, "submission.set_term"),
    ("GET", "/api/v1/calendar/199/1/changes", None, "submission.list_calendar_changes"),
]
# the sign-in endpoints are how a token is obtained; they are exercised by every test
NOT_ROLE_GATED = {"/api/v1/auth/token", "/api/v1/auth/password", "/api/v1/auth/sessions/{session_id}"}


def test_every_role_of_both_tenants_against_the_api(stack):
    table = declared()
    run = uuid.uuid4().hex[:6]
    people = [{"username": f"api-{run}-{t}-{r}", "display_name": f"{t} {r}", "password": "matrix-pass-1",
               "grants": [{"tenant": t, "role": r}]} for t in TENANTS for r in ROLES]
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=30) as rpc:
        report = rpc.accounts.import_people(as_system("day", "accounts"), people)
    assert not report["refused"]
    spec_paths = set(requests.get(stack.gateway_url + "/api/v1/openapi.json").json()["paths"])
    for p in people:
        tok = requests.post(stack.gateway_url + "/api/v1/auth/token",
                            json={"username": p["username"], "password": "matrix-pass-1"}).json()["token"]
        role = p["grants"][0]["role"]
        for method, path, body, gate in API:
            kw = {"json": body}
            if isinstance(body, tuple) and body[0] == "csv":  # a harmless file: a dry run of nothing
                kw = {"data": body[1], "files": {"file": ("a.csv", "學號,姓名\n".encode(), "text/csv")}}
            elif isinstance(body, tuple):
                kw = {"data": body[1], "files": {"file": ("a.pdf", PDF, "application/pdf")}}
            r = requests.request(method, stack.gateway_url + path, headers={"Authorization": f"Bearer {tok}"},
                                 timeout=30, **kw)
            refused = r.status_code == 403 and r.json()["error"]["code"] == "not_allowed"
            expected = gate is not None and role not in table[gate]
            assert refused == expected, f"{method} {path} as {p['username']}: {r.status_code} {r.text[:200]}"
    # every documented endpoint is in the matrix
    covered = {re.sub(r"/(115|199)(?=/|$)", "/{school_year}", p.split("?")[0]) for _, p, _, _ in API}
    covered = {c.replace(f"/outcomes/{X}", "/outcomes/{outcome_id}").replace(f"/files/{X}", "/files/{file_id}")
               .replace(f"/status-changes/{X}", "/status-changes/{change_id}")
               .replace(f"/performances/{X}", "/performances/{performance_id}")
               .replace(f"/sealing/read-requests/{X}", "/sealing/read-requests/{request_id}")
               .replace(f"/students/{X}", "/students/{student_id}").replace(f"/proxies/{X}", "/proxies/{delegation_id}")
               .replace("/calendar/{school_year}/1", "/calendar/{school_year}/{semester}")
               .replace(f"/return-reasons/{X}", "/return-reasons/{code}")
               .replace("/imports/student_profile", "/imports/{kind}").replace("/imports/status_change", "/imports/{kind}")
               .replace("/imports/attendance", "/imports/{kind}").replace("/imports/activity", "/imports/{kind}")
               .replace("/classes/no-such-class", "/classes/{class_code}")
               .replace(f"/autobiography/{X}", "/autobiography/{version_id}")
               .replace("/{school_year}/1/", "/{school_year}/{semester}/")
               .replace(f"/national/submissions/{X}", "/national/submissions/{batch_id}")
               .replace("/rows/course_outcomes/2/", "/rows/{roster}/{row}/")
               .replace("/rosters/student_data", "/rosters/{roster}")
               .replace(f"/national/reports/{X}", "/national/reports/{report_id}")
               .replace(f"/locked/{X}/", "/locked/{student_user_id}/")
               .replace(f"/sections/{X}", "/sections/{section_id}")
               .replace(f"/downloads/{X}", "/downloads/{download_id}")
               for c in covered}
    covered = {re.sub(r"^/api/v1/records/[a-z]+", "/api/v1/records/{kind}", c).replace(f"/{X}", "/{item_id}")
               if c.startswith("/api/v1/records/") else c for c in covered}
    assert spec_paths - covered - NOT_ROLE_GATED == set(), "endpoints missing from the matrix"
