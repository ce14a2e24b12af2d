"""The files service's refusals: a stable code, an HTTP status, and the sentence a student reads.

The browser and API clients talk to this service directly, so each answer carries its zh-TW
sentence itself (`message_zh`). The same codes are listed in the gateway's one table
(gateway/gateway/errors.py); tests/contract/test_error_codes.py keeps the two in step.
"""
from portfolio_common.errors import Conflict, Invalid, NotFound, PortfolioError  # noqa: F401


class FilesError(PortfolioError):
    zh = "上傳失敗，請稍後再試。"
    en = "The upload failed."
    # Whether the ticket's quota slot goes back to the student when this ends an upload. A
    # refusal of the ticket itself (someone else's, expired, already used) must not free the
    # slot of the upload the ticket really belongs to.
    frees_slot = True


class FileTooLarge(FilesError):
    code = "file_too_large"
    http_status = 413
    zh = "檔案超過大小上限，請壓縮後再上傳。"
    en = "The file is over the size limit."


class FileTypeRefused(FilesError):
    code = "file_type_refused"
    http_status = 415
    zh = "只接受 PDF、JPG、PNG 文件或 MP3、MP4 影音檔（系統依檔案內容判斷，而非副檔名）。"
    en = "Only PDF, JPG or PNG documents and MP3 or MP4 media are accepted (checked by content)."


class FileSlotMismatch(FilesError):
    code = "file_slot_mismatch"
    http_status = 415
    zh = "檔案種類與欄位不符：文件（PDF、JPG、PNG）請放在文件欄位，影音（MP3、MP4）請放在影音欄位。"
    en = "The kind of file does not match the slot (documents: pdf, jpg, png; media: mp3, mp4)."


class FileDamaged(FilesError):
    code = "file_damaged"
    http_status = 422
    zh = "檔案內容不完整或已損壞，請重新匯出後再上傳。"
    en = "The file is incomplete or damaged."


class FileEmpty(FilesError):
    code = "file_empty"
    http_status = 422
    zh = "檔案是空的（0 位元組），請確認檔案已完整下載後再上傳。"
    en = "The file is empty."


class FilenameInvalid(FilesError):
    code = "filename_invalid"
    http_status = 422
    zh = "檔名不可包含路徑（/ 或 \\），請改名後再上傳。"
    en = "A file name may not contain a path."


class FilenameTooLong(FilesError):
    code = "filename_too_long"
    http_status = 422
    zh = "檔名太長（最多 200 個字），請改短後再上傳。"
    en = "The file name is too long (at most 200 characters)."


class UploadTruncated(FilesError):
    code = "upload_truncated"
    http_status = 400
    zh = "檔案沒有完整送達（連線中斷），請再上傳一次。"
    en = "The file did not arrive whole (the connection broke)."


class UploadExpired(FilesError):
    code = "upload_expired"
    http_status = 410
    zh = "這次上傳已逾時失效，請重新上傳。"
    en = "This upload has expired."


class UploadInProgress(FilesError):
    code = "upload_in_progress"
    http_status = 409
    zh = "這個檔案正在上傳中，請稍候。"
    en = "This upload is already in progress."
    frees_slot = False


class UploadOffsetMismatch(FilesError):
    code = "upload_offset_mismatch"
    http_status = 409
    zh = "上傳進度不一致，請重新整理後繼續上傳。"
    en = "Upload-Offset does not match what the server has."
    frees_slot = False


class UploadNotFound(FilesError):
    code = "upload_not_found"
    http_status = 404
    zh = "找不到這次上傳，請重新上傳。"
    en = "No such upload."
    frees_slot = False


class TicketInvalid(FilesError):
    code = "ticket_invalid"
    http_status = 403
    zh = "上傳憑證無效，請重新上傳。"
    en = "The upload ticket is invalid."
    frees_slot = False


class TicketExpired(FilesError):
    code = "ticket_expired"
    http_status = 403
    zh = "上傳憑證已過期，請重新上傳。"
    en = "The upload ticket has expired."
    frees_slot = False


class TicketMismatch(FilesError):
    code = "ticket_mismatch"
    http_status = 403
    zh = "上傳憑證不屬於您，請重新上傳。"
    en = "This upload ticket is not yours."
    frees_slot = False


class TicketUsed(FilesError):
    code = "ticket_used"
    http_status = 409
    zh = "這張上傳憑證已經用過，請重新上傳。"
    en = "This upload ticket was already used."
    frees_slot = False


class StorageUnavailable(FilesError):
    code = "storage_unavailable"
    http_status = 503
    zh = "檔案儲存服務暫時無法使用，請稍後再試；您的資料沒有遺失。"
    en = "File storage is unavailable; try again shortly. Nothing was lost."


class LinkInvalid(FilesError):
    code = "link_invalid"
    http_status = 403
    zh = "下載連結無效或已過期，請回到頁面重新點選。"
    en = "The download link is invalid or has expired."
    frees_slot = False


class LinkUsed(FilesError):
    """A package's download ticket serves one download: a replay is refused."""
    code = "link_used"
    http_status = 403
    zh = "這個下載連結已經用過；請回到頁面重新點選下載。"
    en = "This download link was already used; ask for the file again."
    frees_slot = False


class DownloadExpired(FilesError):
    """A package is kept one day after it was built, then deleted."""
    code = "download_expired"
    http_status = 410
    zh = "這份下載檔已超過保存期限（一天）並已刪除；請回到頁面重新產生。"
    en = "This download was kept one day and is gone; build it again."
    frees_slot = False


class PackageDamaged(FilesError):
    """The bytes a service sent for a package are not the ones it announced (size or SHA-256)."""
    code = "package_damaged"
    http_status = 422
    zh = "下載檔在傳送途中不完整，沒有保存；請再試一次。"
    en = "The package arrived incomplete or altered; nothing was kept. Try again."
    frees_slot = False


# kept for callers of the previous name
AlreadyUploaded = TicketUsed

ALL = [FileTooLarge, FileTypeRefused, FileSlotMismatch, FileDamaged, FileEmpty, FilenameInvalid, FilenameTooLong,
       UploadTruncated, UploadExpired, UploadInProgress, UploadOffsetMismatch, UploadNotFound,
       TicketInvalid, TicketExpired, TicketMismatch, TicketUsed, StorageUnavailable, LinkInvalid, LinkUsed,
       DownloadExpired, PackageDamaged]


class StudentSealed(FilesError):
    """The student was sealed five years after the college application: no new upload."""
    code = "student_sealed"
    http_status = 409
    zh = "此學生的學習歷程檔案已封存（申請入學五年後），不能再上傳或修改。"
    en = "This student's portfolio is sealed: nothing more can be uploaded."
    frees_slot = False


class SealedReadRequired(FilesError):
    """A sealed student's file: not handed out by a download (sealed data is read only through
    the audited two-role request, records)."""
    code = "sealed_read_required"
    http_status = 403
    zh = "此學生的資料已封存，檔案不再提供下載；須經核准的查閱申請。"
    en = "This student's data is sealed: an approved read request is required."
    frees_slot = False
