"""The accounts unit of work: one session, its repository, and the password hasher to use."""
from argon2 import PasswordHasher

from portfolio_common.testing import FakeUnitOfWork
from portfolio_common.uow import SqlUnitOfWork

from . import domain
from .orm import outbox, processed_events
from .repository import FakeAccounts, SqlAccounts


class AccountsUnitOfWork(SqlUnitOfWork):
    """`passwords` is injected by the adapter (the nameko one runs argon2 off the event loop);
    plain use (tools, integration tests) hashes in the calling thread."""

    def __init__(self, session_factory, passwords=None):
        super().__init__(session_factory, outbox, processed_events)
        self.passwords = passwords or domain.default_passwords()

    def __enter__(self):
        super().__enter__()
        self.accounts = SqlAccounts(self.session)
        return self


class CountingRun:
    """A `run` for domain.Passwords that counts the hash/verify calls made through it."""

    def __init__(self):
        self.calls = []

    def __call__(self, fn, *args):
        self.calls.append(fn.__name__)
        return fn(*args)


class FakeAccountsUnitOfWork(FakeUnitOfWork):
    def __init__(self):
        super().__init__()
        self.accounts = FakeAccounts()
        self.run = CountingRun()
        # cheap parameters: unit tests check the rules, not argon2's cost
        self.passwords = domain.Passwords(run=self.run, hasher=PasswordHasher(
            time_cost=1, memory_cost=8, parallelism=1))


UnitOfWork = AccountsUnitOfWork
