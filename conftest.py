"""Shared fixtures: real PostgreSQL, RabbitMQ and S3 for integration, contract and e2e tests."""
import os
import uuid

import pytest

from tests.support import servers
from tests.support.ids import BUCKET_PREFIX, RUN, S3_ADMIN, S3_FILES, SEAL_PUBLIC_KEYS, SECRETS
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
def s3_endpoint(tmp_path_factory):
    """`host:port` of a real S3 server: TEST_S3_ENDPOINT, else a SeaweedFS of this session."""
    given = os.environ.get("TEST_S3_ENDPOINT")
    if given:
        yield given
        return
    from deploy.seaweedfs import Identity
    weed = servers.SeaweedServer(tmp_path_factory.mktemp("seaweedfs"), admin=S3_ADMIN,
                                 files_identity=Identity("files", *S3_FILES, bucket_prefix=BUCKET_PREFIX))
    yield weed.endpoint
    weed.stop()


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
    """The files service's ObjectStore against the test S3 server, as the files identity (limited
    to this run's buckets), with a bucket prefix of its own."""
    from files.storage import ObjectStore
    return ObjectStore(s3_endpoint, *S3_FILES, prefix=f"{BUCKET_PREFIX}it{uuid.uuid4().hex[:6]}")


@pytest.fixture
def s3_admin(s3_endpoint):
    """A minio client with the S3 server's admin keys (to tamper, inspect, and try what files may not)."""
    from minio import Minio
    return Minio(s3_endpoint, *S3_ADMIN, secure=False)
