"""Identity of this test run: random ids so runs never collide, and the platform secrets.

The caller keys are fresh Ed25519 keys for every run (`trust.generate_keys`): the launcher hands
each process only its own `<ISSUER>_SIGNING_KEY`; tests sign as the gateway or as the ops tool
through `tests.support.callers`.
"""
import os
import uuid

from portfolio_common import trust
from portfolio_common.sealed import keygen, public_of

RUN = uuid.uuid4().hex[:8]
SECRETS = {"TICKET_KEY": "test-ticket-" + RUN, "NATIONAL_ID_KEY": "test-nid-" + RUN,
           "GATEWAY_SECRET_KEY": "test-gw-" + RUN,
           # private keys of the services that receive sealed RPCs (portfolio_common.sealed)
           "ACCOUNTS_SEAL_KEY": keygen()[0], "RECORDS_SEAL_KEY": keygen()[0], "SUBMISSION_SEAL_KEY": keygen()[0],
           "FILES_LINK_KEY": "test-links-" + RUN, "FILES_METRICS_TOKEN": "test-metrics-" + RUN,
           # caller signing keys (one per issuer) and their public keys (portfolio_common.trust)
           **trust.generate_keys()}
# What a caller in the test process seals passwords and national IDs to.
SEAL_PUBLIC_KEYS = ",".join(f"{s}:{public_of(SECRETS[f'{s.upper()}_SEAL_KEY'])}" for s in ("accounts", "records", "submission"))

# S3: the session's own SeaweedFS (conftest.s3_endpoint) with these keys, or the server given by
# TEST_S3_ENDPOINT with its keys. The files service gets the `files` identity, limited to the
# buckets of this run (`t-<run>-*`); where the given server has no such user, the given keys.
BUCKET_PREFIX = f"t-{RUN}-"
_given = bool(os.environ.get("TEST_S3_ENDPOINT"))
S3_ADMIN = (os.environ.get("TEST_S3_ACCESS_KEY", "tadmin" + RUN),
            os.environ.get("TEST_S3_SECRET_KEY", "tadmin-secret-" + RUN))
S3_FILES = (os.environ.get("TEST_FILES_S3_ACCESS_KEY", S3_ADMIN[0] if _given else "tfiles" + RUN),
            os.environ.get("TEST_FILES_S3_SECRET_KEY", S3_ADMIN[1] if _given else "tfiles-secret-" + RUN))
SECRETS.update({"S3_ACCESS_KEY": S3_ADMIN[0], "S3_SECRET_KEY": S3_ADMIN[1],
                "FILES_S3_ACCESS_KEY": S3_FILES[0], "FILES_S3_SECRET_KEY": S3_FILES[1]})
