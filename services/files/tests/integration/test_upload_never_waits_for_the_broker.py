"""An upload's answer never waits for the broker: the request kicks the outbox relay, whose own
thread publishes (with real PostgreSQL, S3 and RabbitMQ, and a broker that hangs)."""
import json
import os
import socket
import threading
import time
import uuid

from files import usecases
from files.app import create_app
from portfolio_common import amqp
from portfolio_common import caller as caller_mod
from portfolio_common import signing
from tests.support.callers import as_gateway
from tests.support.ids import BUCKET_PREFIX, S3_FILES

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"


class HangingBroker:
    """Accepts TCP connections and never says a word: the AMQP handshake hangs."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.uri = f"amqp://guest:guest@127.0.0.1:{self.sock.getsockname()[1]}/"

    def close(self):
        self.sock.close()


def test_upload_answers_while_the_broker_hangs_and_the_event_follows(
        service_db, s3_endpoint, private_amqp_uri, run_id):
    files_db = service_db("files")
    broker = HangingBroker()
    app = create_app({
        "DATABASE_URL": files_db.engine.url.render_as_string(hide_password=False),
        "AMQP_URI": broker.uri, "S3_ENDPOINT": s3_endpoint,
        "S3_ACCESS_KEY": S3_FILES[0], "S3_SECRET_KEY": S3_FILES[1],
        "S3_BUCKET_PREFIX": f"{BUCKET_PREFIX}hang{uuid.uuid4().hex[:4]}", "SWEEP_EVERY_S": 3600})
    relay = app.extensions["files"]["relay"]
    student = caller_mod.Caller(user_id=str(uuid.uuid4()), username="s", tenant="day", roles=("student",))
    outcome_id = str(uuid.uuid4())
    ticket = signing.sign({
        "kind": "outcome", "outcome_id": outcome_id, "tenant": "day", "student_id": str(uuid.uuid4()),
        "student_user_id": student.user_id, "section_id": str(uuid.uuid4()),
        "teacher_user_id": str(uuid.uuid4()), "school_year": 115, "semester": 1, "course_code": "C1",
        "subject_name": "程式設計", "description": "簡述"},
        os.environ["TICKET_KEY"], ttl=900, purpose=usecases.TICKET_PURPOSE)
    answer = {}

    def upload():
        r = app.test_client().post("/v1/files", data=PDF, headers={
            "Authorization": "Bearer " + as_gateway(student, "files"),
            "X-Upload-Ticket": ticket, "X-Filename": "a.pdf", "Content-Type": "application/pdf"})
        answer.update(status=r.status_code, body=r.get_json())

    try:
        relay.kick()  # the relay thread now hangs in the AMQP handshake with the lock held
        with relay.publisher.lock:  # ... and stays stuck for as long as this test wants
            t = threading.Thread(target=upload, daemon=True)
            t.start()
            t.join(60)
            assert not t.is_alive(), "the upload waited for the broker"
            assert answer["status"] == 201, answer
            assert relay.relay.backlog()["pending"] == 1, "the event waits in the outbox"

        # The broker is back: the relay publishes the event it was kicked for, without a request.
        pub = amqp.PikaPublisher(private_amqp_uri)
        pub.call(amqp.declare_topology)
        relay.publisher.amqp_uri = private_amqp_uri
        relay.kick()
        queue = "evt-files-outcome-uploaded--records.handle_outcome_uploaded"
        deadline, got = time.monotonic() + 60, None
        while got is None and time.monotonic() < deadline:
            method, _, body = pub.call(lambda ch: ch.basic_get(queue, auto_ack=True))
            got = json.loads(body) if method else None
            time.sleep(0.2)
        assert got and got["payload"]["outcome_id"] == outcome_id
        assert relay.relay.backlog()["pending"] == 0
        pub.close()
    finally:
        relay.loop.stop()
        broker.close()
