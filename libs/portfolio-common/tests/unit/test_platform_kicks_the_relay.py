"""A nameko worker that wrote events only kicks the service's relay (no broker, no database)."""
import threading
import types

from portfolio_common.nameko_kit import Platform


class RecordingLoop:
    def __init__(self):
        self.kicks = 0

    def kick(self):
        self.kicks += 1


def test_worker_teardown_kicks_and_never_takes_the_publisher_lock():
    platform = Platform("records", "unused", outbox_table=None)
    platform.loop = RecordingLoop()
    lock = threading.Lock()
    platform.relay = types.SimpleNamespace(flush=lambda: lock.acquire(), publisher=types.SimpleNamespace(lock=lock))
    worker = types.SimpleNamespace(call_id="records.certify.1")
    with lock:  # a flush in progress (a hanging broker) holds the publisher's lock
        platform.flush_after(worker)
        done = threading.Event()
        threading.Thread(target=lambda: (platform.worker_teardown(worker), done.set()), daemon=True).start()
        assert done.wait(5), "the worker waited for the publisher"
    assert platform.loop.kicks == 1
    platform.worker_teardown(types.SimpleNamespace(call_id="records.list.2"))  # wrote nothing
    assert platform.loop.kicks == 1
