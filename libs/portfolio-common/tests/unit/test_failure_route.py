"""Where a failed event goes next (amqp.failure_route), the one rule of the nameko kit and of
files' pika consumers: retried after each back-off, then dead-lettered; a malformed one at once;
one that waits for another event (RetryLater) keeps waiting at the longest back-off for the
configured while (issue 8 item 15: "retried, never dropped")."""
import datetime as dt

from portfolio_common.amqp import dead_letter_queue, failure_route, retry_queue
from portfolio_common.errors import PermanentEventError, RetryLater

Q, DELAYS, NOW = "evt-submission-selection-locked--files.handle_selection_locked", [1000, 5000], \
    dt.datetime(2027, 3, 1, 8, 0, tzinfo=dt.timezone.utc)


def route(exc, headers=None, now=NOW, max_s=3600):
    return failure_route(exc, headers or {}, Q, DELAYS, now, max_s)


def test_an_error_is_retried_after_each_back_off_then_dead_lettered():
    key, h, how = route(RuntimeError("s3 away"))
    assert (key, how, h["x-attempt"]) == (retry_queue(Q, 1000), "retry", 1)
    key, h, how = route(RuntimeError("s3 away"), h)
    assert (key, how) == (retry_queue(Q, 5000), "retry")
    key, h, how = route(RuntimeError("s3 away"), h)
    assert (key, how, h["x-original-queue"], h["x-error-type"]) == (dead_letter_queue(Q), "dead", Q, "RuntimeError")


def test_a_malformed_event_is_dead_lettered_at_once():
    assert route(PermanentEventError("forged"))[0] == dead_letter_queue(Q)


def test_an_event_that_waits_for_another_stays_on_the_longest_back_off_until_the_limit():
    h = {}
    for _ in range(20):
        key, h, how = route(RetryLater("not arrived"), h, now=NOW + dt.timedelta(minutes=30))
        if h["x-attempt"] == 1:     # the first failure is dated now+30 min: rewrite it to NOW
            h["x-first-failed-at"] = NOW.isoformat()
        assert how == "retry"
    assert key == retry_queue(Q, 5000)
    key, _, how = route(RetryLater("not arrived"), h, now=NOW + dt.timedelta(hours=2))
    assert (key, how) == (dead_letter_queue(Q), "dead")
