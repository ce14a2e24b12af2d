"""Who may call what, declared once on each RPC: enforced here, listed in docs/permissions.md.

    @rpc
    @allowed("subject_teacher", "homeroom_teacher")
    def certify(self, caller, task_ids): ...

The decorator verifies the signed caller through the service's Platform dependency (an Ed25519
token meant for this service, from an issuer of the trust map that may assert every role it
carries: `portfolio_common.trust`), refuses a role that is not listed, and hands the method the
verified caller. Roles are those people hold (signed by the gateway), `system` (the platform's
tools, signed by ops) and `system:<issuer>` (a service or the gateway acting on its own). Use
cases check again where the rule is finer (own sections, own outcomes): the declaration is the
coarse gate, not the only one.
"""
from functools import wraps

from .errors import NotAllowed
from .sealing import refusing_sealed

SESSION = "(holder of a session token)"
ANYONE = "(anyone: health check or sign-in)"


def allowed(*roles):
    def deco(fn):
        @wraps(fn)
        def wrapper(self, caller_token, *args, **kwargs):
            caller = self.platform.caller(caller_token)
            if not caller.has(*roles):
                raise NotAllowed(f"{self.name}.{fn.__name__} is not open to your role")
            # a write the database refuses for a sealed student answers `student_sealed`
            with refusing_sealed():
                return fn(self, caller, *args, **kwargs)
        wrapper.allowed_roles = tuple(roles)
        return wrapper
    return deco


def open_to(kind):
    """Mark an RPC that takes no caller token (sign-in, session RPCs, ping)."""
    def deco(fn):
        fn.allowed_roles = (kind,)
        return fn
    return deco
