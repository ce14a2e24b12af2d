"""Shared fixtures: real PostgreSQL, RabbitMQ and S3 for integration, contract and e2e tests."""
import os
import uuid

import pytest

from tests.support import servers
from tests.support.ids import RUN, SEAL_PUBLIC_KEYS, SECRETS
# Services read their secrets from the environment (tests pass config in, but these are read by
# code under test that has no other seam); set them once, before any import. The launcher never
# passes this process's caller signing keys on: each process it starts gets only its own.
for _k, _v in SECRETS.items():
    os.environ.setdefault(_k, _v)
os.environ.setdefault("SEAL_PUBLIC_KEYS", SEAL_PUBLIC_KEYS)
# Every nameko RPC this test process makes (the matrix test, the reliability tests' direct
# calls) is transient and seals passwords and national IDs, as the gateway's are.
from portfolio_common import rpc_transport  # noqa: E402

rpc_transport.install()


@pytest.fixture(scope="session")
def run_id():
    return RUN


@pytest.fixture(scope="session")
def pg_base_url():
    return servers.postgres_url()


@pytest.fixture(scope="session")
def amqp_uri():
    return servers.amqp_uri()


@pytest.fixture
def private_amqp_uri(amqp_uri):
    """A RabbitMQ vhost of this test only (its administrator's URI), deleted afterwards: for
    tests that declare the platform's own queue names, which other runs share otherwise."""
    vhost = f"pt_{RUN}_{uuid.uuid4().hex[:6]}"
    uri = servers.create_vhost(amqp_uri, vhost)
    yield uri
    servers.delete_vhost(vhost)


@pytest.fixture(scope="session")
def s3_endpoint():
    given = os.environ.get("TEST_S3_ENDPOINT")
    if given:
        yield given
        return
    moto = servers.MotoServer()
    yield moto.endpoint
    moto.stop()


@pytest.fixture
def fresh_db(pg_base_url):
    """Factory: a new empty database (dropped after the test)."""
    import sqlalchemy as sa
    from portfolio_common.db import drop_database, ensure_database
    made = []

    def make(name="db"):
        url = sa.engine.make_url(pg_base_url).set(
            database=f"t_{RUN}_{name}_{uuid.uuid4().hex[:6]}").render_as_string(hide_password=False)
        ensure_database(url)
        made.append(url)
        return url
    yield make
    for url in made:
        drop_database(url)


@pytest.fixture
def service_db(fresh_db):
    """Factory: service_db("records") -> a freshly migrated database of that service."""
    from tests.support.servicedb import ServiceDb
    made = []

    def make(service):
        db = ServiceDb(fresh_db(service), service)
        made.append(db)
        return db
    yield make
    for db in made:
        db.engine.dispose()


@pytest.fixture
def object_store(s3_endpoint, run_id):
    """The files service's ObjectStore against the test S3 endpoint, with a prefix of its own."""
    import uuid

    from files.storage import ObjectStore
    return ObjectStore(s3_endpoint, os.environ.get("TEST_S3_ACCESS_KEY", "testing"),
                       os.environ.get("TEST_S3_SECRET_KEY", "testing"),
                       prefix=f"it-{run_id}-{uuid.uuid4().hex[:4]}")
