"""Autogenerate an Alembic revision for one service against a scratch database.

  python scripts/new_migration.py records "add grades"
"""
import importlib
import os
import sys
import uuid

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from portfolio_common.db import drop_database, ensure_database, run_migrations

service, message = sys.argv[1], sys.argv[2]
pkg = importlib.import_module(service)
location = os.path.join(os.path.dirname(pkg.__file__), "migrations")
os.makedirs(os.path.join(location, "versions"), exist_ok=True)
base = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
url = sa.engine.make_url(base).set(database=f"scratch_{uuid.uuid4().hex[:8]}")
url_s = url.render_as_string(hide_password=False)
ensure_database(url_s)
engine = sa.create_engine(url_s)
try:
    run_migrations(engine, location)
    cfg = Config()
    cfg.set_main_option("script_location", location)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        n = len(os.listdir(os.path.join(location, "versions")))
        command.revision(cfg, message=message, autogenerate=True, rev_id=f"{n + 1:04d}")
finally:
    engine.dispose()
    drop_database(url_s)
