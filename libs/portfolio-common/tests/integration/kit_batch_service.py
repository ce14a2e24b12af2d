"""A tiny nameko service that exercises BatchEventHandler in a real process: a batch is all
or nothing (done files are written only when no body of the batch fails), like a transaction."""
import json
import os

from portfolio_common.errors import PermanentEventError
from portfolio_common.nameko_kit import batch_event_handler

STATE = os.environ["KIT_STATE_DIR"]


class KitBatchService:
    name = "kitbatch"

    @batch_event_handler("kitsrc", "things-happened")
    def handle(self, bodies):
        with open(os.path.join(STATE, "batches"), "a") as fh:
            fh.write(f"{len(bodies)}\n")
        for body in bodies:
            if not isinstance(body, dict):
                raise PermanentEventError("malformed body")
        for body in bodies:
            if body.get("poison"):
                alone = len(bodies) == 1
                if alone:
                    path = os.path.join(STATE, f"attempts-{body['n']}")
                    attempts = int(open(path).read()) + 1 if os.path.exists(path) else 1
                    with open(path, "w") as fh:
                        fh.write(str(attempts))
                raise RuntimeError(f"poison {body['n']}")
        for body in bodies:
            path = os.path.join(STATE, f"done-{body['n']}")
            times = json.load(open(path))["times"] + 1 if os.path.exists(path) else 1
            with open(path, "w") as fh:
                json.dump({"times": times, "batch": len(bodies)}, fh)
