"""Identity of this test run: random ids so runs never collide, and the platform secrets."""
import uuid

from portfolio_common.sealed import keygen, public_of

RUN = uuid.uuid4().hex[:8]
SECRETS = {"CALLER_KEY": "test-caller-" + RUN, "TICKET_KEY": "test-ticket-" + RUN,
           "NATIONAL_ID_KEY": "test-nid-" + RUN, "GATEWAY_SECRET_KEY": "test-gw-" + RUN,
           # private keys of the services that receive sealed RPCs (portfolio_common.sealed)
           "ACCOUNTS_SEAL_KEY": keygen()[0], "RECORDS_SEAL_KEY": keygen()[0]}
# What a caller in the test process seals passwords and national IDs to.
SEAL_PUBLIC_KEYS = ",".join(f"{s}:{public_of(SECRETS[f'{s.upper()}_SEAL_KEY'])}" for s in ("accounts", "records"))
