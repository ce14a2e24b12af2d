"""Keep one process running, as compose's `restart: unless-stopped` does for a container.

  python -m deploy.supervise -- nameko run --config ... records.service

nameko 2.x lets a lost broker connection kill its container (a worker's ack raises
ConnectionResetError) and the process exits; a supervisor brings it back, and it reconnects.
Restarts use back-off (1 s doubling to 30 s, reset after a minute of good running). SIGTERM or
SIGINT stops the child and the supervisor. SIGKILL of the process group (a crash test) takes
both down, and nothing restarts: the test restarts it itself.
"""
import signal
import subprocess
import sys
import time


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    cmd = argv[1:] if argv and argv[0] == "--" else argv
    stopping = False
    child = None

    def stop(signum, _frame):
        nonlocal stopping
        stopping = True
        if child and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    delay = 1.0
    while True:
        started = time.monotonic()
        child = subprocess.Popen(cmd)
        code = child.wait()
        if stopping or code == 0:
            return code
        ran = time.monotonic() - started
        delay = 1.0 if ran > 60 else min(delay * 2, 30.0) if ran < 5 else delay
        print(f"supervise: {cmd[-1]} exited with {code} after {ran:.0f} s; restarting in {delay:.0f} s",
              file=sys.stderr, flush=True)
        for _ in range(int(delay * 10)):
            if stopping:
                return code
            time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
