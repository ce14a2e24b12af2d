"""Identity of this test run: random ids so runs never collide, and the platform secrets.

The caller keys are fresh Ed25519 keys for every run (`trust.generate_keys`): the launcher hands
each process only its own `<ISSUER>_SIGNING_KEY`; tests sign as the gateway or as the ops tool
through `tests.support.callers`.
"""
import uuid

from portfolio_common import trust
from portfolio_common.sealed import keygen, public_of

RUN = uuid.uuid4().hex[:8]
SECRETS = {"TICKET_KEY": "test-ticket-" + RUN, "NATIONAL_ID_KEY": "test-nid-" + RUN,
           "GATEWAY_SECRET_KEY": "test-gw-" + RUN,
           # private keys of the services that receive sealed RPCs (portfolio_common.sealed)
           "ACCOUNTS_SEAL_KEY": keygen()[0], "RECORDS_SEAL_KEY": keygen()[0],
           # caller signing keys (one per issuer) and their public keys (portfolio_common.trust)
           **trust.generate_keys()}
# What a caller in the test process seals passwords and national IDs to.
SEAL_PUBLIC_KEYS = ",".join(f"{s}:{public_of(SECRETS[f'{s.upper()}_SEAL_KEY'])}" for s in ("accounts", "records"))
