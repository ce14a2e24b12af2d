"""Start the whole platform as the launcher does, for end-to-end, browser and reliability tests."""
import contextlib
import os

import sqlalchemy as sa

from deploy.launcher import PROCESSES, Stack
from portfolio_common.db import drop_database
from tests.support import servers


@contextlib.contextmanager
def running_stack(tmp_path, *, name, pg_base_url, amqp_uri, s3_endpoint, secrets, run_id,
                  env_overrides=None, demo=True, keep_data=False):
    vhost = f"pt_{run_id}_{name}"
    uri = servers.create_vhost(amqp_uri, vhost)
    prefix = f"t_{run_id}_{name}"
    stack = Stack(workdir=tmp_path, db_prefix=prefix, amqp_uri=uri, s3_endpoint=s3_endpoint,
                  pg_base_url=sa.engine.make_url(pg_base_url).render_as_string(hide_password=False),
                  gateway_port=servers.free_port(), files_port=servers.free_port(),
                  secrets=secrets, env_overrides=env_overrides)
    try:
        stack.start()
        if demo:
            load_demo(stack)
            send_calendars(stack)
        yield stack
    finally:
        stack.stop()
        if not s3_endpoint:
            _drop_buckets_dir(tmp_path)
        for p in PROCESSES:
            try:
                drop_database(stack.database_url(p))
            except Exception:  # noqa: BLE001 - best effort cleanup
                pass
        # the run's own broker users (t_<run>_<name>-<service>) and database roles
        try:
            stack.remove_principals()
        except Exception:  # noqa: BLE001 - best effort cleanup
            pass
        servers.delete_vhost(vhost)


def load_demo(stack):
    import subprocess
    import sys
    env = stack.client_env()
    res = subprocess.run([sys.executable, "-m", "deploy.demo_school", "--gateway", stack.gateway_url, "--size", "small"],
                         env=env, capture_output=True, text=True, timeout=180,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert res.returncode == 0, f"demo school did not load:\n{res.stdout}\n{res.stderr[-3000:]}"


def send_calendars(stack, tenants=("day", "ce")):
    """Wait until certification holds the demo term's calendar the demo loader set through
    submission (certification refuses every decision of a term it holds no calendar for)."""
    from tests.support.calendars import demo_calendar, wait_applied
    for t in tenants:
        wait_applied(stack, demo_calendar(stack, t))


def _drop_buckets_dir(tmp_path):
    """A stack that started its own SeaweedFS keeps its data in its folder: remove it."""
    import shutil
    shutil.rmtree(os.path.join(str(tmp_path), "seaweedfs"), ignore_errors=True)
