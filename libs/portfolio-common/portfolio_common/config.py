"""Configuration read in one place, with loopback defaults for a developer shell."""
import json
import os

DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"


def env(name, default=None):
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def database_url(service: str) -> str:
    return env("DATABASE_URL", f"postgresql+psycopg2://postgres@127.0.0.1:5432/portfolio_{service}")


def amqp_uri() -> str:
    return env("AMQP_URI", DEFAULT_AMQP_URI)


def amqp_ssl_options():
    """TLS for AMQP: AMQP_SSL holds a JSON object of ssl options as nameko/py-amqp take them,
    e.g. `{"ca_certs": "/run/secrets/amqp-ca.crt"}` (the same variable, YAML-parsed, is the
    nameko services' AMQP_SSL setting in their config.yaml). None: plain AMQP (loopback)."""
    raw = env("AMQP_SSL")
    if raw in (None, "null"):
        return None
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise RuntimeError("AMQP_SSL must be a JSON object, e.g. {\"ca_certs\": \"/path/ca.crt\"}")
    return value


def nameko_config(uri: str = None) -> dict:
    """The config a standalone nameko proxy needs (broker and its TLS settings)."""
    return {"AMQP_URI": uri or amqp_uri(), "AMQP_SSL": amqp_ssl_options()}


def retry_delays_ms():
    """Back-off before each retry of a failed event handler; after the last, dead-letter."""
    raw = env("EVENT_RETRY_DELAYS_MS", "1000,5000,30000")
    return [int(x) for x in raw.split(",") if x.strip()]


def batch_size() -> int:
    """Most events a batching handler (nameko_kit.BatchEventHandler) applies in one worker."""
    return max(1, int(env("EVENT_BATCH_SIZE", "100")))


def batch_wait_ms() -> int:
    """How long a batching handler waits after a batch's first event for more (ms)."""
    return max(0, int(env("EVENT_BATCH_WAIT_MS", "20")))


def batch_prefetch() -> int:
    """Unacked deliveries a batching handler's queue may hold (default two batches)."""
    return max(1, int(env("EVENT_BATCH_PREFETCH", str(2 * batch_size()))))


def retry_later_max_seconds() -> int:
    """How long an out-of-order event (RetryLater) keeps being retried before the DLQ."""
    return int(env("EVENT_RETRY_LATER_MAX_S", str(24 * 3600)))


def secret(name: str) -> str:
    """A secret from the environment or a mounted file (NAME_FILE); never a default."""
    path = env(f"{name}_FILE")
    if path:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    value = env(name)
    if not value:
        raise RuntimeError(f"{name} is not set (environment or {name}_FILE)")
    return value
