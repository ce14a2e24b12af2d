import datetime as dt
import time
import uuid

import pytest

from portfolio_common import caller, events, signing
from portfolio_common.crypto import NationalIdVault, mask
from portfolio_common.errors import NotAuthenticated, PermanentEventError, split_remote


def test_signed_token_round_trip_and_tamper():
    tok = signing.sign({"a": 1}, "k", ttl=60, purpose="p")
    assert signing.verify(tok, "k", purpose="p") == {"a": 1}
    payload, mac = tok.split(".")
    with pytest.raises(NotAuthenticated):
        signing.verify(payload[:-2] + "xx." + mac, "k", purpose="p")
    with pytest.raises(NotAuthenticated):
        signing.verify(tok, "other-key", purpose="p")
    with pytest.raises(NotAuthenticated):
        signing.verify(tok, "k", purpose="another-purpose")
    with pytest.raises(NotAuthenticated):
        signing.verify("garbage", "k", purpose="p")


def test_signed_token_expires(monkeypatch):
    tok = signing.sign({"a": 1}, "k", ttl=1, purpose="p")
    real = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real() + 5)
    with pytest.raises(NotAuthenticated) as e:
        signing.verify(tok, "k", purpose="p")
    assert e.value.code == "token_expired"


def test_caller_round_trip_and_roles():
    from portfolio_common import trust
    keys = trust.generate_keys(["gateway"])
    c = caller.Caller(user_id=str(uuid.uuid4()), username="t", tenant="day", roles=("subject_teacher",))
    token = caller.Signer("gateway", keys["GATEWAY_SIGNING_KEY"]).mint(c, "records")
    back = caller.Verifier("records", keys["CALLER_PUBLIC_KEYS"]).verify(token)
    assert back == caller.Caller(**{**c.__dict__, "issuer": "gateway"}) and back.has("subject_teacher") and not back.has("registrar")
    with pytest.raises(Exception) as e:
        back.require("registrar")
    assert e.value.code == "not_allowed"


def _payload():
    return {"student_id": str(uuid.uuid4()), "student_user_id": str(uuid.uuid4()), "school_year": 115,
            "outcome_ids": [str(uuid.uuid4())], "locked_by": str(uuid.uuid4()),
            "locked_at": dt.datetime.now(dt.timezone.utc)}


def test_producer_is_strict():
    env = events.make_event(events.SELECTION_LOCKED, "day", _payload())
    assert env["producer"] == "submission" and env["tenant"] == "day" and env["version"] == 1
    with pytest.raises(ValueError):
        events.make_event(events.SELECTION_LOCKED, "day", dict(_payload(), extra=1))
    with pytest.raises(ValueError):
        events.make_event(events.SELECTION_LOCKED, "day", dict(_payload(), school_year="x"))


def test_consumer_is_tolerant_but_refuses_malformed():
    env = events.make_event(events.SELECTION_LOCKED, "day", _payload())
    env["payload"]["new_field"] = "added later by the producer"
    env["also_new"] = True
    loaded = events.load_event(events.SELECTION_LOCKED, env)
    assert "new_field" not in loaded["payload"]
    for bad in ("not a dict", {**env, "event": events.CERTIFIED}, {**env, "payload": {}},
                {k: v for k, v in env.items() if k != "event_id"}):
        with pytest.raises(PermanentEventError):
            events.load_event(events.SELECTION_LOCKED, bad)


def test_every_subscription_names_a_known_event():
    for event, source, service, method in events.subscriptions():
        assert event in events.PAYLOADS and source in events.producers_of(event)
        assert events.queue_name(event, service, method, source) == f"evt-{source}-{event}--{service}.{method}"


def test_national_id_vault():
    v = NationalIdVault("secret")
    token = v.encrypt("A123456789")
    assert b"A123456789" not in token and v.decrypt(token) == "A123456789"
    assert v.lookup_hash("a123456789") == v.lookup_hash("A123456789") != NationalIdVault("x").lookup_hash("A123456789")
    assert mask("A123456789") == "A12*****89"


def test_remote_error_code_split():
    assert split_remote("[not_found] outcome not found") == ("not_found", "outcome not found")
    assert split_remote("plain") == (None, "plain")
