"""A tiny nameko service that exercises ReliableEventHandler in a real process."""
import json
import os

from portfolio_common.errors import PermanentEventError
from portfolio_common.nameko_kit import reliable_event_handler

STATE = os.environ["KIT_STATE_DIR"]


class KitService:
    name = "kittest"

    @reliable_event_handler("kitsrc", "thing-happened")
    def handle(self, body):
        if not isinstance(body, dict):
            raise PermanentEventError("malformed body")
        path = os.path.join(STATE, f"attempts-{body['n']}")
        attempts = int(open(path).read()) + 1 if os.path.exists(path) else 1
        with open(path, "w") as fh:
            fh.write(str(attempts))
        if attempts <= body["fail_times"]:
            raise RuntimeError(f"transient failure {attempts}")
        with open(os.path.join(STATE, f"done-{body['n']}"), "w") as fh:
            json.dump({"attempts": attempts}, fh)
