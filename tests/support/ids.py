"""Identity of this test run: random ids so runs never collide, and the platform secrets."""
import uuid

RUN = uuid.uuid4().hex[:8]
SECRETS = {"CALLER_KEY": "test-caller-" + RUN, "TICKET_KEY": "test-ticket-" + RUN,
           "NATIONAL_ID_KEY": "test-nid-" + RUN, "GATEWAY_SECRET_KEY": "test-gw-" + RUN}
