from portfolio_common.errors import Invalid, NotAuthenticated  # noqa: F401


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"


class UnknownRole(Invalid):
    code = "unknown_role"
