from portfolio_common.errors import Invalid, NotAuthenticated  # noqa: F401


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"


class UnknownRole(Invalid):
    code = "unknown_role"


class AccountLocked(NotAuthenticated):
    code = "account_locked"


class SessionInvalid(NotAuthenticated):
    code = "session_invalid"


class WrongPassword(Invalid):
    code = "wrong_password"


class SignInThrottled(NotAuthenticated):
    code = "sign_in_throttled"
