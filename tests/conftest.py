import pytest

from tests.support.ids import SECRETS
from tests.support.stack import running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory, pg_base_url, amqp_uri, s3_endpoint, run_id):
    """The whole platform with the demo school, shared by the e2e and browser tests."""
    with running_stack(tmp_path_factory.mktemp("stack"), name="e2e", pg_base_url=pg_base_url,
                       amqp_uri=amqp_uri, s3_endpoint=s3_endpoint, secrets=SECRETS,
                       run_id=run_id) as st:
        yield st
