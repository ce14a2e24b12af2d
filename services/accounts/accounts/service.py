"""nameko entrypoints of the accounts service: load, call a use case, dump."""
from nameko.rpc import rpc

from . import usecases
from .dependencies import AccountsPlatform
from .schemas import PersonIn, TenantIn


class AccountsService:
    name = "accounts"
    platform = AccountsPlatform()

    @rpc
    def ping(self):
        return "pong"

    @rpc
    def authenticate(self, username, password, remote_addr=None):
        with self.platform.uow() as uow:
            return usecases.authenticate(uow, username, password, remote_addr)

    @rpc
    def list_tenants(self):
        with self.platform.uow() as uow:
            return usecases.list_tenants(uow)

    @rpc
    def ensure_tenants(self, caller_token, rows):
        caller = self.platform.caller(caller_token)
        with self.platform.uow() as uow:
            return usecases.ensure_tenants(uow, caller, TenantIn(many=True).load(rows))

    @rpc
    def import_people(self, caller_token, rows, dry_run=False):
        caller = self.platform.caller(caller_token)
        with self.platform.uow() as uow:
            return usecases.import_people(uow, caller, PersonIn(many=True).load(rows), dry_run=dry_run)
