"""nameko entrypoints of the accounts service: load, call a use case, dump."""
from nameko.rpc import rpc

from . import usecases
from .dependencies import AccountsPlatform
from .schemas import PersonIn, ProxyPeriod, TenantIn


class AccountsService:
    name = "accounts"
    platform = AccountsPlatform()

    @rpc
    def ping(self):
        return "pong"

    # Session RPCs take the session token itself: they are how a caller is established.
    @rpc
    def sign_in(self, username, password, remote_addr=None, user_agent=None, kind="portal"):
        with self.platform.uow() as uow:
            return usecases.sign_in(uow, username, password, remote_addr=remote_addr,
                                    user_agent=user_agent, kind=kind)

    @rpc
    def resolve_session(self, session_token):
        with self.platform.uow() as uow:
            return usecases.resolve_session(uow, session_token)

    @rpc
    def sign_out(self, session_token):
        with self.platform.uow() as uow:
            return usecases.sign_out(uow, session_token)

    @rpc
    def list_my_sessions(self, session_token):
        with self.platform.uow() as uow:
            return usecases.list_my_sessions(uow, session_token)

    @rpc
    def end_session(self, session_token, session_id):
        with self.platform.uow() as uow:
            return usecases.end_session(uow, session_token, session_id)

    @rpc
    def change_password(self, session_token, old_password, new_password):
        with self.platform.uow() as uow:
            return usecases.change_password(uow, session_token, old_password, new_password)

    @rpc
    def grant_proxy(self, caller_token, teacher_username, proxy_username, starts_on, ends_on):
        caller = self.platform.caller(caller_token)
        period = ProxyPeriod().load({"starts_on": starts_on, "ends_on": ends_on})
        with self.platform.uow() as uow:
            return usecases.grant_proxy(uow, caller, teacher_username, proxy_username,
                                        period["starts_on"], period["ends_on"])

    @rpc
    def list_proxies(self, caller_token):
        caller = self.platform.caller(caller_token)
        with self.platform.uow() as uow:
            return usecases.list_proxies(uow, caller)

    @rpc
    def revoke_proxy(self, caller_token, delegation_id):
        caller = self.platform.caller(caller_token)
        with self.platform.uow() as uow:
            return usecases.revoke_proxy(uow, caller, delegation_id)

    @rpc
    def reset_password(self, caller_token, username):
        caller = self.platform.caller(caller_token)
        with self.platform.uow() as uow:
            return usecases.reset_password(uow, caller, username)

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
