from portfolio_common.errors import Conflict, Invalid, NotFound, PortfolioError  # noqa: F401


class FileTooLarge(PortfolioError):
    code = "file_too_large"
    http_status = 413


class FileTypeRefused(Invalid):
    code = "file_type_refused"
    http_status = 415


class FileEmpty(Invalid):
    code = "file_empty"


class TicketMismatch(PortfolioError):
    code = "ticket_mismatch"
    http_status = 403


class AlreadyUploaded(Conflict):
    code = "already_uploaded"


class StorageUnavailable(PortfolioError):
    code = "storage_unavailable"
    http_status = 503
