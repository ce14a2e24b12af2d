"""nameko entrypoints of the accounts service: load, call a use case, dump."""

from portfolio_common import events
from portfolio_common.nameko_kit import reliable_event_handler, rpc

from portfolio_common.permissions import ANYONE, SESSION, allowed, open_to
from portfolio_common.trust import service_role

from . import usecases
from .dependencies import AccountsPlatform
from .schemas import PersonIn, ProxyPeriod, TenantIn

GATEWAY_ITSELF = service_role("gateway")  # the gateway acting on its own (only its key may sign it)


class AccountsService:
    name = "accounts"
    platform = AccountsPlatform()

    @rpc
    @open_to(ANYONE)
    def ping(self):
        return "pong"

    # Session RPCs take the session token itself: they are how a caller is established.
    @rpc
    @open_to(ANYONE)
    def sign_in(self, username, password, remote_addr=None, user_agent=None, kind="portal"):
        with self.platform.uow() as uow:
            return usecases.sign_in(uow, username, password, remote_addr=remote_addr,
                                    user_agent=user_agent, kind=kind)

    @rpc
    @allowed(GATEWAY_ITSELF)
    def sign_in_with_identity(self, caller, provider, subject, remote_addr=None, user_agent=None, kind="portal"):
        """Open a session for an external identity (provider, subject) the gateway has verified.

        Answers only the gateway's own signed identity (`system:gateway`, which only the
        gateway's key may assert): anything else on the broker is refused and audited."""
        with self.platform.uow() as uow:
            return usecases.sign_in_with_identity(uow, provider, subject, remote_addr=remote_addr,
                                                  user_agent=user_agent, kind=kind)

    @rpc
    @allowed("system_admin", "platform_admin", "system")
    def link_identity(self, caller, username, provider, subject):
        with self.platform.uow() as uow:
            return usecases.link_identity(uow, caller, username, provider, subject)

    @rpc
    @open_to(SESSION)
    def resolve_session(self, session_token):
        with self.platform.uow() as uow:
            return usecases.resolve_session(uow, session_token)

    @rpc
    @open_to(SESSION)
    def sign_out(self, session_token):
        with self.platform.uow() as uow:
            return usecases.sign_out(uow, session_token)

    @rpc
    @open_to(SESSION)
    def list_my_sessions(self, session_token):
        with self.platform.uow() as uow:
            return usecases.list_my_sessions(uow, session_token)

    @rpc
    @open_to(SESSION)
    def end_session(self, session_token, session_id):
        with self.platform.uow() as uow:
            return usecases.end_session(uow, session_token, session_id)

    @rpc
    @open_to(SESSION)
    def change_password(self, session_token, old_password, new_password):
        with self.platform.uow() as uow:
            return usecases.change_password(uow, session_token, old_password, new_password)

    @rpc
    @open_to(SESSION)
    def get_my_email(self, session_token):
        """{"email": address or None} of the session's user."""
        with self.platform.uow() as uow:
            return usecases.get_my_email(uow, session_token)

    @rpc
    @open_to(SESSION)
    def set_my_email(self, session_token, email):
        """Set or remove ("") the session's user's reminder address; email_invalid."""
        with self.platform.uow() as uow:
            return usecases.set_my_email(uow, session_token, email)

    @rpc
    @allowed(*usecases.EMAIL_READERS)
    def user_emails(self, caller, user_ids):
        """{user_id: e-mail} of the caller's tenant's users among `user_ids` that have one.
        Only `system:certification` (the reminder job); sealed: addresses are personal data."""
        with self.platform.uow() as uow:
            return usecases.user_emails(uow, caller, user_ids)

    @rpc
    @allowed("subject_teacher", "homeroom_teacher", "executive_secretary", "system_admin", "system")
    def grant_proxy(self, caller, teacher_username, proxy_username, starts_on, ends_on):
        period = ProxyPeriod().load({"starts_on": starts_on, "ends_on": ends_on})
        with self.platform.uow() as uow:
            return usecases.grant_proxy(uow, caller, teacher_username, proxy_username,
                                        period["starts_on"], period["ends_on"])

    @rpc
    @allowed("subject_teacher", "homeroom_teacher", "executive_secretary", "system_admin", "system")
    def list_proxies(self, caller):
        with self.platform.uow() as uow:
            return usecases.list_proxies(uow, caller)

    @rpc
    @allowed("subject_teacher", "homeroom_teacher", "executive_secretary", "system_admin", "system")
    def revoke_proxy(self, caller, delegation_id):
        with self.platform.uow() as uow:
            return usecases.revoke_proxy(uow, caller, delegation_id)

    @rpc
    @allowed("system_admin", "platform_admin", "system")
    def list_users(self, caller):
        with self.platform.uow() as uow:
            return usecases.list_users(uow, caller)

    @rpc
    @allowed("registrar", "system_admin", "system")
    def lookup_users(self, caller, usernames):
        with self.platform.uow() as uow:
            return usecases.lookup_users(uow, caller, usernames)

    @rpc
    @allowed(*usecases.NAME_READERS)
    def names_of(self, caller, user_ids):
        """{user_id: {username, display_name}} of the caller's tenant (usecases.names_of)."""
        with self.platform.uow() as uow:
            return usecases.names_of(uow, caller, user_ids)

    @rpc
    @allowed("ops", "executive_secretary", "principal", "platform_admin", "system")
    def list_access_audit(self, caller, limit=200):
        with self.platform.uow() as uow:
            return usecases.list_access_audit(uow, caller, limit)

    @reliable_event_handler("records", events.ACCESS_REFUSED)
    @reliable_event_handler("certification", events.ACCESS_REFUSED)
    @reliable_event_handler("submission", events.ACCESS_REFUSED)
    @reliable_event_handler("files", events.ACCESS_REFUSED)
    def handle_access_refused(self, body):
        env = events.load_event(events.ACCESS_REFUSED, body)
        with self.platform.uow() as uow:
            usecases.record_access_refused(uow, env)

    @rpc
    @allowed("system_admin", "platform_admin", "system")
    def reset_password(self, caller, username):
        with self.platform.uow() as uow:
            return usecases.reset_password(uow, caller, username)

    @rpc
    @open_to(ANYONE)
    def list_tenants(self):
        with self.platform.uow() as uow:
            return usecases.list_tenants(uow)

    @rpc
    @allowed("platform_admin", "system")
    def ensure_tenants(self, caller, rows):
        with self.platform.uow() as uow:
            return usecases.ensure_tenants(uow, caller, TenantIn(many=True).load(rows))

    @rpc
    @allowed("system_admin", "platform_admin", "system")
    def import_people(self, caller, rows, dry_run=False):
        with self.platform.uow() as uow:
            return usecases.import_people(uow, caller, PersonIn(many=True).load(rows), dry_run=dry_run)
