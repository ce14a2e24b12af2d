"""Importing a whole school: the demo loader (`python -m deploy.demo_school --size large`, the
registrar's import paths: accounts.import_people, then records.import_school per tenant) with a
generated school of 1,800 日間部 and 300 進修部 students, three grades, their classes, sections,
enrolments, teachers and staff, timed from the command's start to its end (issue 8: a
2,000-student school within 60 s on this machine), then once more (the same file twice changes
nothing, and must not cost as much).

Every item kind is in it: accounts, classes, students, sections and enrolments (the school
import), then the generated students' records (deploy/demo_records.py): attendance, cadres, clubs
and service, course grades and licences through the units' imports, consultation records,
career-plan assessments and in-school competitions through the units' forms. (Autobiographies
are written by students only: not generated.)
"""
import os
import re
import subprocess
import sys
import time

TARGET_S = 60.0
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load(stack):
    started = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "deploy.demo_school", "--gateway", stack.gateway_url,
                          "--size", "large"], env=stack.client_env(), capture_output=True, text=True,
                         timeout=900, cwd=ROOT)
    seconds = time.perf_counter() - started
    if res.returncode != 0:
        raise RuntimeError(f"import failed ({res.returncode}): {res.stderr[-2000:]}")
    # each tenant's line: ... 'students': {'created': n, 'updated': n, 'unchanged': n} (the
    # registrar's profile import after the school import)
    students = sum(int(n) for block in re.findall(r"'students': \{([^}]*)\}", res.stdout)
                   for n in re.findall(r": (\d+)", block))
    lines = res.stdout.splitlines()
    records = "; ".join(line.strip() for line in lines if "generated records" in line or "time per kind" in line)
    return seconds, students, lines[0] + ("; " + records if records else "")


def run(stack):
    first, students, summary = _load(stack)
    print(f"import     {students} students, every item kind, first time {first:.1f} s   "
          f"vs target {TARGET_S:.0f} s   ratio {TARGET_S / first:.1f}x   ({summary})")
    again, _, summary = _load(stack)
    print(f"import     the same school again (nothing changes) {again:.1f} s   ratio {TARGET_S / again:.1f}x   "
          f"({summary})")
