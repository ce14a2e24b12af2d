"""The nameko adapter's dependency: database, unit of work, and argon2 off the event loop."""
import os

from portfolio_common.config import env
from portfolio_common.nameko_kit import Platform

from . import domain
from .orm import outbox
from .unit_of_work import AccountsUnitOfWork

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")


def offloaded(threads: int):
    """A `run` for domain.Passwords that computes in one of eventlet's OS threads (tpool) while
    the hub serves other calls; argon2-cffi releases the GIL while it hashes. A semaphore keeps
    at most `threads` hashes at once (argon2id takes 64 MiB each by default): the others wait
    without blocking the hub."""
    import eventlet.semaphore
    from eventlet import tpool
    gate = eventlet.semaphore.Semaphore(threads)

    def run(fn, *args):
        with gate:
            return tpool.execute(fn, *args)
    return run


def hasher_from(config):
    """argon2 parameters: argon2-cffi's defaults (RFC 9106's second choice) unless configured."""
    from argon2 import PasswordHasher
    time_cost = config.get("ARGON2_TIME_COST") or env("ARGON2_TIME_COST")
    memory = config.get("ARGON2_MEMORY_KIB") or env("ARGON2_MEMORY_KIB")
    kw = {}
    if time_cost:
        kw["time_cost"] = int(time_cost)
    if memory:
        kw["memory_cost"] = int(memory)
    return PasswordHasher(**kw)


class AccountsPlatform(Platform):
    def __init__(self):
        super().__init__("accounts", MIGRATIONS, outbox)
        # anonymous refusals (bogus session or caller tokens): one audit row per kind a minute
        self.refusal_throttle = domain.AuditThrottle(interval_s=60)

    def setup(self):
        super().setup()
        config = self.container.config
        threads = int(config.get("ARGON2_THREADS") or env("ARGON2_THREADS") or (os.cpu_count() or 2))
        self.passwords = domain.Passwords(run=offloaded(threads), hasher=hasher_from(config))

    def uow(self):
        return AccountsUnitOfWork(self.session_factory, self.passwords)

    def record_refusal(self, caller, action, code):
        from . import usecases
        with self.uow() as uow:
            usecases.record_refusal(uow, caller, action, code, self.refusal_throttle)

    def get_dependency(self, worker_ctx):
        access = super().get_dependency(worker_ctx)
        access.uow = self.uow
        return access
