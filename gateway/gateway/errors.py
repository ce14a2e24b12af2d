"""One table maps every error code to an HTTP status and a message (zh-TW first, English)."""
from flask import has_request_context, request
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import HTTPException

from nameko.exceptions import RemoteError
from portfolio_common.errors import PortfolioError, split_remote

from .rpc import ServiceUnavailable

# code: (HTTP status, zh-TW, English)
ERRORS = {
    "not_found": (404, "找不到資料。", "Not found."),
    "not_allowed": (403, "您沒有權限執行此操作。", "You are not allowed to do this."),
    "not_a_student": (403, "此帳號沒有學生學籍資料。", "This account has no student record."),
    "other_tenant": (403, "您沒有權限執行此操作。", "You are not allowed to do this."),
    "tenant_not_granted": (403, "您在此部別沒有任何角色，無法以此部別的身分操作。",
                           "You hold no role in the tenant named by X-Portfolio-Tenant."),
    "not_authenticated": (401, "請先登入。", "Please sign in."),
    "invalid_credentials": (401, "帳號或密碼錯誤。", "Wrong username or password."),
    "token_invalid": (401, "登入憑證無效，請重新登入。", "Token is invalid; sign in again."),
    "token_expired": (401, "登入憑證已過期，請重新登入。", "Token has expired; sign in again."),
    "csrf_failed": (400, "表單已過期，請重新整理頁面後再送出。", "The form expired; reload the page and submit again."),
    "invalid": (422, "輸入資料有誤。", "Invalid input."),
    "not_enrolled": (403, "您未修習此課程，不能上傳此課程的學習成果。", "You are not enrolled in this section."),
    "description_empty": (422, "請填寫簡述。", "A short description (簡述) is required."),
    "description_too_long": (422, "簡述最多 100 個字。", "The description may have at most 100 characters."),
    "outcome_not_returned": (409, "只有被退回的課程學習成果可以重新上傳；已鎖定勾選的成果不能再更動檔案。",
                             "Only a returned course outcome may be uploaded again; a locked one cannot change."),
    "slot_invalid": (422, "請選擇要上傳的是文件（PDF、JPG、PNG）還是影音檔（MP3、MP4）。",
                     "The slot is document or media."),
    "outcome_quota_exceeded": (409, "本學期的課程學習成果已達上限（件數依學校行事曆）。", "The term's course-outcome upload limit is reached."),
    "file_missing": (422, "請選擇要上傳的檔案。", "Choose a file to upload."),
    # The files service answers these itself (the browser talks to it directly) with the same
    # code and status; tests/contract/test_error_codes.py keeps both lists in step.
    "file_empty": (422, "檔案是空的（0 位元組），請確認檔案已完整下載後再上傳。", "The file is empty."),
    "file_too_large": (413, "檔案超過大小上限，請壓縮後再上傳。", "The file is over the size limit."),
    "file_slot_mismatch": (415, "檔案種類與欄位不符：文件（PDF、JPG、PNG）請放在文件欄位，影音（MP3、MP4）請放在影音欄位。",
                           "The kind of file does not match the slot (documents: pdf, jpg, png; media: mp3, mp4)."),
    "file_type_refused": (415, "只接受 PDF、JPG、PNG 文件或 MP3、MP4 影音檔（系統依檔案內容判斷，而非副檔名）。",
                          "Only PDF, JPG or PNG documents and MP3 or MP4 media are accepted (checked by content)."),
    "file_damaged": (422, "檔案內容不完整或已損壞，請重新匯出後再上傳。", "The file is incomplete or damaged."),
    "filename_invalid": (422, "檔名不可包含路徑（/ 或 \\），請改名後再上傳。", "A file name may not contain a path."),
    "filename_too_long": (422, "檔名太長（最多 200 個字），請改短後再上傳。", "The file name is too long (at most 200 characters)."),
    "upload_truncated": (400, "檔案沒有完整送達（連線中斷），請再上傳一次。", "The file did not arrive whole (the connection broke)."),
    "upload_expired": (410, "這次上傳已逾時失效，請重新上傳。", "This upload has expired."),
    "upload_in_progress": (409, "這個檔案正在上傳中，請稍候。", "This upload is already in progress."),
    "upload_offset_mismatch": (409, "上傳進度不一致，請重新整理後繼續上傳。", "Upload-Offset does not match what the server has."),
    "upload_not_found": (404, "找不到這次上傳，請重新上傳。", "No such upload."),
    "ticket_invalid": (403, "上傳憑證無效，請重新上傳。", "The upload ticket is invalid."),
    "ticket_expired": (403, "上傳憑證已過期，請重新上傳。", "The upload ticket has expired."),
    "ticket_mismatch": (403, "上傳憑證不屬於您，請重新上傳。", "This upload ticket is not yours."),
    "ticket_used": (409, "這張上傳憑證已經用過，請重新上傳。", "This upload ticket was already used."),
    "link_invalid": (403, "下載連結無效或已過期，請回到頁面重新點選。", "The download link is invalid or has expired."),
    "link_used": (403, "這個下載連結已經用過；請回到頁面重新點選下載。",
                  "This download link was already used; ask for the file again."),
    "download_expired": (410, "這份下載檔已超過保存期限（一天）並已刪除；請回到頁面重新產生。",
                         "This download was kept one day and is gone; build it again."),
    "package_damaged": (422, "下載檔在傳送途中不完整，沒有保存；請再試一次。",
                        "The package arrived incomplete or altered; nothing was kept. Try again."),
    "storage_unavailable": (503, "檔案儲存服務暫時無法使用，請稍後再試；您的資料沒有遺失。",
                            "File storage is unavailable; try again shortly. Nothing was lost."),
    "service_unavailable": (503, "系統忙碌中，請稍後再試；您的資料沒有遺失。",
                            "The system is busy; try again shortly. Nothing was lost."),
    "nothing_selected": (422, "請至少勾選一項。", "Choose at least one item."),
    "batch_too_large": (422, "一次最多處理 200 項。", "At most 200 items at once."),
    "already_decided": (409, "此項目已經處理過。", "This item was already decided."),
    "not_your_section": (403, "只有該課程的任課教師（或代理人）可以認證。", "Only the section's teacher (or a proxy) may certify."),
    "reason_required": (422, "請選擇或填寫原因：退回與撤回認證都須說明原因，學生才知道要怎麼做。",
                        "A reason is required to return an outcome or withdraw a certification."),
    "reason_note_required": (422, "這個原因須在「補充說明」寫明是什麼問題（例如選「其他」時）。",
                             "That reason needs an explanation in the note."),
    "reason_too_long": (422, "原因最多 500 個字。", "The reason may have at most 500 characters."),
    "reason_unknown": (422, "此退回原因不在學校的清單上，請重新整理後再選。", "That return reason is not on the school's list."),
    "return_reason_invalid": (422, "退回原因的代碼須為 2–40 個小寫英文字母、數字或底線，名稱 1–100 個字。",
                              "A return reason needs a code of 2-40 lower-case letters, digits or _ and a label of 1-100 characters."),
    "not_certified": (409, "此項目目前不是已認證狀態，無法撤回認證。", "This item is not certified, so there is nothing to withdraw."),
    "outcome_locked": (409, "這件成果已由註冊組鎖定、準備送交中央資料庫，不能撤回認證；請先請註冊組為這位學生解除鎖定（更正）後再撤回。",
                       "This outcome is in a locked selection for the national database; the registrar must unlock the student for a correction first."),
    "calendar_not_set": (409, "學校尚未設定此學期的行事曆（認證期間），請洽教務處。",
                         "The school has not set this term's calendar (certification window) yet."),
    "selection_locked": (409, "本學年度的勾選已鎖定，無法再修改。", "The selection for this school year is locked."),
    # the service's sentence names the kind and the year's limit from the calendar (SERVICE_SENTENCE)
    "selection_quota_exceeded": (409, "已達本學年度可勾選的件數上限（件數依學校行事曆）。",
                                 "The school year's selection limit is reached (set in the school calendar)."),
    "not_selectable": (422, "只能勾選自己本學年度已認證的課程學習成果，或自己登錄的多元表現。",
                       "Only your own certified outcomes and your own performances of this school year can be selected."),
    "selection_stale": (409, "您的勾選在開啟頁面後已被修改，請重新整理後再選一次（這次的修改尚未存入）。",
                        "Your selection changed since you opened the page; reload and choose again."),
    "already_locked": (409, "本學年度已經鎖定。", "This school year is already locked."),
    "consent_wording_changed": (409, "同意書的文字已更新，請重新閱讀後再同意（尚未記錄您的同意）。",
                                "The consent wording changed; read it again before consenting."),
    "unlock_not_locked": (422, "所選學生的勾選尚未鎖定，不需解除。", "These students' selections are not locked."),
    "unlock_reason_required": (422, "解除鎖定須填寫原因（例如：更正勾選錯誤）。", "An unlock needs a reason."),
    "school_year_invalid": (422, "學年度格式不正確。", "The school year is invalid."),
    "conflict": (409, "資料衝突，請重新整理後再試。", "Conflict."),
    "quota_exceeded": (409, "已達上限。", "Limit reached."),
    "window_closed": (409, "目前不在開放期間。", "The window is closed."),
    "student_sealed": (409, "此學生的學習歷程檔案已封存（申請入學五年後），不能再修改；查閱須經兩個角色核准的申請。",
                       "This student's portfolio is sealed (five years after the college application): it cannot be changed."),
    "application_date_invalid": (422, "申請入學日期不正確：請填寫不晚於今天的日期。", "The college application date is invalid or in the future."),
    "student_not_sealed": (404, "此學生尚未封存（或不是本部別的學生），不需申請即可依權限查閱。",
                           "This student is not sealed (or not of this division): no request is needed."),
    "read_reason_required": (422, "申請查閱封存資料時請填寫原因。", "A reason is required to read sealed data."),
    "sealed_read_required": (403, "此學生的資料已封存，須有經核准且未過期的查閱申請才能讀取。",
                             "This student's data is sealed: an approved, unexpired read request is required."),
    "unknown_role": (422, "角色名稱不正確。", "Unknown role."),
    "national_id_invalid": (422, "身分證號格式或檢查碼不正確。", "The national ID is invalid."),
    "description_invalid": (422, "簡述不正確。", "The description is invalid."),
    "account_locked": (429, "登入失敗次數過多，此帳號暫時無法從這裡登入，請稍後再試（最長 15 分鐘）。",
                       "Too many failed sign-ins for this account from here; try again later."),
    "sign_in_throttled": (429, "這個網路位址登入失敗次數過多，請稍後再試（最長 15 分鐘）。",
                          "Too many failed sign-ins from this address; try again later."),
    "account_managed_elsewhere": (403, "此帳號跨部別（或屬於平台層級），只能由平台管理者變更角色、密碼或單一登入連結。",
                                  "This account spans divisions (or the platform): only a platform admin may change it."),
    "platform_role_not_allowed": (403, "平台層級的角色只能由平台管理者設定。", "Platform roles are set by a platform admin only."),
    "username_national_id": (422, "帳號不可使用身分證號（或形式相同的字串），請改用學號或其他代號。",
                             "A username may not look like a national ID number."),
    "password_too_common": (422, "這個密碼太常見（列在常用密碼清單中），容易被猜中，請換一個。",
                            "This password is among the most common ones; choose another."),
    "password_is_username": (422, "密碼不可與帳號相同或只是帳號加上數字。", "The password may not be the username."),
    "password_like_national_id": (422, "密碼不可使用身分證號（或形式相同的字串）。",
                                  "The password may not look like a national ID number."),
    "password_too_long": (422, "密碼最多 256 個字元。", "A password may have at most 256 characters."),
    "session_invalid": (401, "登入已結束，請重新登入。", "The session has ended; sign in again."),
    "password_change_required": (403, "請先變更密碼。", "Change your password first."),
    "wrong_password": (422, "目前的密碼不正確。", "The current password is wrong."),
    "password_too_short": (422, "密碼至少需要 8 個字元。", "A password needs at least 8 characters."),
    "email_invalid": (422, "電子郵件格式不正確：請填一個完整的地址，例如 wang@school.example（不含姓名、空白或第二個地址）。",
                      "Not one plain e-mail address (name@school.example)."),
    "password_unchanged": (422, "新密碼不可與舊密碼相同。", "Choose a new password different from the old one."),
    "proxy_period_invalid": (422, "代理期間的結束日不能早於開始日。", "The proxy period ends before it starts."),
    "proxy_is_self": (422, "不能指定自己為代理人。", "A teacher cannot be their own proxy."),
    "proxy_not_teacher": (422, "代理人與被代理人都必須是本部的教師；請確認帳號是否正確。",
                          "Both must be teachers of this division; check the usernames."),
    "user_not_found": (404, "找不到這個帳號。", "No such user."),
    "password_missing": (422, "新帳號需要初始密碼。", "A new account needs an initial password."),
    "password_with_sso_only": (422, "只用學校單一登入的帳號不設密碼。", "An account that signs in only through the school's SSO has no password."),
    "identity_not_linked": (401, "這個單一登入帳號尚未連結到本系統帳號，請洽系統管理者。", "This sign-in is not linked to an account."),
    "malformed_request": (400, "無法解讀送出的資料，請確認格式後再送出。", "The request body could not be read (malformed JSON or form)."),
    "method_not_allowed": (405, "此網址不接受這種操作。", "This method is not allowed here."),
    "request_too_large": (413, "送出的資料太大。", "The request body is too large."),
    "unsupported_media_type": (415, "不接受此種資料格式。", "This content type is not accepted here."),
    "bad_request": (400, "請求不正確。", "Bad request."),
    "idempotency_key_reused": (409, "這個上傳識別碼（Idempotency-Key）已用於另一筆上傳（不同課程、學期或簡述），請為新的上傳使用新的識別碼。",
                               "This Idempotency-Key was used for another upload (other section, term or description); "
                               "use a new key for a new upload."),
    # --- the national side (issue 9 items 5-6): pre-check, submission, receipts, corrections
    "not_locked": (409, "本學年度的勾選尚未鎖定；請先鎖定，再做上傳前檢查與上傳。",
                   "Lock the school year's selections before the national export."),
    "semester_invalid": (422, "學期只能是 1 或 2。", "The semester is 1 or 2."),
    "column_set_missing": (422, "沒有這個學年度的名冊欄位設定，請洽系統管理者。",
                           "No roster column set for this school year."),
    "precheck_failed": (422, "上傳前檢查發現問題，尚未產生名冊也未上傳；請依檢查結果逐一更正後再上傳。",
                        "The pre-check found problems: nothing was built or sent; correct them first."),
    "national_unavailable": (503, "目前無法連上中央資料庫，名冊沒有送出，也沒有留下任何紀錄；請稍後再試。",
                             "The national endpoint cannot be reached; nothing was sent or recorded."),
    "national_package_refused": (422, "中央資料庫拒收整份上傳檔，請洽系統管理者。",
                                 "The national side refused the package as a whole."),
    "evidence_changed": (409, "有證明檔案的內容與認證時保存的指紋不同，名冊沒有送出；請先查明該檔案（檢查結果會列出）。",
                         "An evidence file's bytes differ from its kept fingerprint; nothing was sent."),
    "transfer_evidence_changed": (409, "有證明檔案的內容與保存的指紋不同，轉學檔案沒有產生；請洽註冊組查明該檔案。",
                                  "An evidence file's bytes differ from its kept fingerprint; no package was built."),
    # transfer import (docs/transfer-package.md "Importing"): nothing is stored on any of these
    "transfer_package_invalid": (422, "這不是可匯入的轉學檔案（須為 portfolio-transfer 第 1 版的 ZIP 檔，且內容完整、安全）；沒有匯入任何資料。",
                                 "Not an importable transfer package (a complete, safe portfolio-transfer v1 zip)."),
    "transfer_signature_invalid": (422, "轉學檔案的清單（manifest.json）在簽章後被修改過，無法匯入；請向原校重新索取。",
                                   "The manifest was changed after it was signed: nothing was imported."),
    # the service's sentence names the entry (SERVICE_SENTENCE)
    "transfer_file_mismatch": (422, "轉學檔案中有檔案與清單記載的指紋不符，沒有匯入任何資料；請向原校重新索取。",
                               "An entry's bytes are not the manifest's fingerprint (the detail names it): nothing was imported."),
    "transfer_student_mismatch": (422, "這份轉學檔案不是這位學生的（身分證號不符），沒有匯入任何資料。",
                                  "The package is another person's than the chosen student: nothing was imported."),
    "transfer_same_school": (422, "這是本校本部別匯出的檔案，不需要轉入；沒有匯入任何資料。",
                             "The package is this school's and this division's own export: nothing was imported."),
    "receipt_invalid": (422, "這不是中央資料庫的收訖明細檔，或內容不完整。", "This is not a receipt file of the national side."),
    "receipt_other_school": (422, "這份收訖明細是其他學校的。", "This receipt is another school's."),
    "receipt_other_batch": (422, "這份收訖明細屬於其他學年度、學期或其他次上傳。",
                            "This receipt is for another school year, semester or submission."),
    "receipt_already_imported": (409, "這次上傳已匯入過另一份收訖明細。", "This submission already has its receipt."),
    "receipt_not_imported": (409, "這次上傳的收訖明細尚未匯入。", "The receipt of this submission is not imported yet."),
    "report_invalid": (422, "請說明錯誤內容（1 至 500 字）。", "Describe it in 1 to 500 characters."),
    "report_already_resolved": (409, "這則回報已處理過。", "This report was already resolved."),
    # --- student records (issue 8): whole-request refusals
    "stale_record": (409, "資料在您開啟後已被其他人修改；請重新整理後再改一次（您的修改尚未存入）。",
                     "The record changed since you read it; reload and make your change again."),
    "fields_invalid": (422, "有欄位不正確，請依各欄位的說明修正。", "Some fields are invalid; see each field."),
    "import_rows_invalid": (422, "匯入資料的格式不正確。", "The import rows are malformed."),
    "too_many_rows": (413, "資料超過 5000 列；請分成幾個檔案匯入。", "At most 5000 rows at once."),
    # --- student records: row and field problems (the column's name is put in front)
    "field_missing": (422, "未填。", "Missing."),
    "character_lost": (422, "有「?」或無法顯示的字：Big5 檔無法存放某些字（如罕用字），請改存 CSV UTF-8 或 .xlsx 後重新上傳。",
                       "Has '?' where a Big5 export lost a character; save as CSV UTF-8 or xlsx."),
    "text_too_long": (422, "超過 {limit} 個字。", "Longer than {limit} characters."),
    "national_id_missing": (422, "未填身分證號。", "The national ID is missing."),
    "national_id_checksum": (422, "身分證號檢查碼不正確（可能有打錯的字）。", "The national ID's check digit does not match."),
    "national_id_expired_format": (422, "舊式（第二碼為英文字母）居留證號已於 2031 年 1 月 1 日停用，請改填新式統一證號。",
                                   "Old two-letter resident numbers are no longer valid."),
    "date_missing": (422, "未填日期。", "The date is missing."),
    "date_format": (422, "日期寫法無法辨識；請寫民國年 0940315、94/03/15，或西元 2005-03-15。",
                    "Unknown date spelling; use 0940315, 94/03/15 or 2005-03-15."),
    "date_impossible": (422, "沒有這一天（例如 2 月 31 日、13 月）。", "No such date."),
    "date_mixed_era": (422, "民國年與西元年混用（例如「民國2005年」）；請擇一寫法。", "ROC and Gregorian years are mixed."),
    "date_in_future": (422, "日期在今天之後。", "The date is in the future."),
    "date_too_far": (422, "日期超過一年後，請確認。", "The date is more than a year ahead."),
    "code_unknown": (422, "代碼不在規定的代碼表中。", "Unknown code."),
    "code_invalid": (422, "代碼只能是英文字母與數字（最多 10 碼）。", "A code has letters and digits only."),
    "code_format": (422, "代碼只能是英文字母與數字，最多 {limit} 碼。", "Letters and digits, at most {limit}."),
    "number_out_of_range": (422, "須為 {min}–{max} 的整數。", "A whole number from {min} to {max}."),
    "end_before_start": (422, "結束日期早於開始日期。", "The end is before the start."),
    "performance_voided": (409, "這筆多元表現已作廢，不能再修改或上傳證明。", "This performance was voided."),
    "item_voided": (409, "這筆紀錄已作廢，不能再上傳證明。", "This record was voided."),
    "school_code_invalid": (422, "學校代碼須為 6 位數字（例如 050407）。", "A school code has 6 digits."),
    "seat_no_invalid": (422, "座號須為 1–999 的整數。", "The seat number is 1-999."),
    "student_no_invalid": (422, "學號只能是英文字母、數字或「-」「_」。", "Letters, digits, - and _ only."),
    "student_account_missing": (422, "找不到此學生帳號（或此帳號在本部不是學生）；請先請系統管理者匯入學生帳號。",
                                "No student account with this username in this division."),
    "duplicate_in_file": (422, "與第 {first_row} 列重複；每筆資料只能有一列。", "Same as row {first_row}."),
    "class_name_conflict": (422, "同一班級代碼在第 {first_row} 列的班級名稱不同。", "Another class name in row {first_row}."),
    "duplicate_national_id": (422, "身分證號與本部另一位學生重複。", "Another student of this division has this national ID."),
    "student_no_taken": (422, "學號已由本部另一位學生使用。", "Another student has this student number."),
    "account_taken": (422, "此帳號已連到另一位學生（學號 {student_no}）。", "This account belongs to student {student_no}."),
    "class_name_differs": (422, "班級 {class_code} 已有名稱「{class_name}」；個別學生的資料不能更改班級名稱，請留空或填寫相同名稱。",
                           "Class {class_code} is named {class_name}; one student's record does not rename it."),
    "class_unknown": (422, "本學年度沒有這個班級；請一併填寫班級名稱以新增班級。", "Unknown class; give its name to create it."),
    "status_change_exists": (422, "同一天已有同類異動且內容不同；請先作廢原紀錄。", "Another change of this kind on this day."),
    "time_invalid": (422, "時間格式不正確，請寫成 14:30 或 14:30-15:20。", "Not a time of day (14:30 or 14:30-15:20)."),
    "absence_code_unknown": (422, "假別代碼須為 01–12（公假、事假、病假……曠課）。", "The absence code is 01-12."),
    "periods_invalid": (422, "節數須為 {min}–{max} 的整數。", "Periods are a whole number from {min} to {max}."),
    "hours_invalid": (422, "時數須為 {min}–{max} 的整數。", "Hours are a whole number from {min} to {max}."),
    "date_order": (422, "結束日期早於開始日期。", "The end date is before the start date."),
    "item_exists": (422, "這位學生在這個學期已有同一筆紀錄，請修改或作廢那一筆。",
                    "The student already has this item this term; change or void that one."),
    "student_unknown": (422, "本部沒有這個學號的學生。", "No student with this number in this division."),
    "other_school_required": (422, "轉學與借讀須填寫原校或借讀學校代碼。", "The other school's code is required."),
    "other_school_not_expected": (422, "重讀不須填寫學校代碼。", "A repeat has no other school."),
    "semester_invalid": (422, "學期須為 1 或 2。", "The semester is 1 or 2."),
    # --- the school calendar (issue 9 item 1); window_closed and calendar_not_set carry the
    # service's own zh-TW sentence (with the dates) as message_zh: SERVICE_SENTENCE below
    "calendar_not_set": (409, "學校尚未設定本學期的行事曆，請洽註冊組（進修部：教務組）。",
                         "The school calendar has no term for today; ask the registrar."),
    "calendar_stale": (409, "行事曆在您開啟後已被其他人修改；請重新整理後再改一次（您的修改尚未存入）。",
                       "The calendar changed since you read it; reload and make your change again."),
    "calendar_date_invalid": (422, "日期請寫成西元年-月-日，例如 2027-02-05。", "Write the date as YYYY-MM-DD."),
    "window_inverted": (422, "結束日早於開始日。", "It ends before it starts."),
    "window_out_of_range": (422, "日期須在 {first} 至 {last} 之間（本學年度前一個月至學年度結束後四個月）。",
                            "The date must lie between {first} and {last}."),
    "certification_before_upload": (422, "認證期間須在上傳期間結束（{upload_closes_on}）當天或之後才結束，教師才能認證最後上傳的成果。",
                                    "Certification must close on or after uploads close ({upload_closes_on})."),
    "selection_after_completion": (422, "勾選期間須在學校完成日 {completion}（全國截止日前兩週）當天或之前結束。",
                                   "Selection must close by the school completion date {completion}."),
    "limit_invalid": (422, "須為 1 至 {max} 的整數。", "A whole number from 1 to {max}."),
    "field_unknown": (422, "沒有這個欄位。", "No such field."),
    # --- course records (修課紀錄)
    "course_code_malformed": (422, "課程代碼只能是英文字母與數字（最多 40 碼），例如 115050407H11A0101。",
                              "A course code has letters and digits only (at most 40)."),
    "course_code_unknown": (422, "本學期沒有開這個課程代碼的課；請確認課程代碼與學年度、學期。",
                            "No section of this course code in that term."),
    "student_not_enrolled": (422, "這位學生沒有修這門課（未選課或未編入此班）；請先由選課承辦人加選。",
                             "The student is not enrolled in a section of this course."),
    "section_ambiguous": (422, "這個課程代碼在本學期有好幾個開課班級，請填寫開課班級。",
                          "The code runs in several sections this term; name the class."),
    "grade_invalid": (422, "成績須為 {min}–{max} 的整數（不含小數）。", "A grade is a whole number from {min} to {max}."),
    "flag_invalid": (422, "請填「是」或「否」（也可寫 Y/N、1/0、及格/不及格）。", "Yes or no (是/否, Y/N, 1/0)."),
    "pass_flag_inconsistent": (422, "及格與否與成績不符（及格標準 {pass_mark} 分）；若為學校核定的例外，請在「及格例外」填「是」。",
                               "The pass flag contradicts the grade (pass mark {pass_mark}) and no exception is marked."),
    "credit_flag_inconsistent": (422, "成績與補考都未及格，不能採計學分；若為學校核定的例外，請在「及格例外」填「是」。",
                                 "Credits counted without a pass and no exception is marked."),
    "makeup_not_allowed": (422, "學期成績已及格（{pass_mark} 分以上），不須補考成績。", "No make-up grade for a passed course."),
    "makeup_grade_missing": (422, "填了補考及格與否，卻沒有補考成績。", "A make-up flag without a make-up grade."),
    "yearly_grade_second_semester": (422, "學年成績請填在第 2 學期的那一列。", "The yearly grade goes on the second semester."),
    "yearly_grade_missing": (422, "填了學年及格與否，卻沒有學年成績。", "A yearly flag without a yearly grade."),
    "yearly_grade_not_ce": (422, "學年成績只用於進修部（以節數計）的課程。", "Yearly grades are for 進修部 sections (class hours)."),
    "internal": (500, "系統發生錯誤，請稍後再試。", "Internal error."),
}


# Codes whose service text is a zh-TW sentence with the particulars (the window's dates, the
# term's limit): shown as message_zh instead of the table's general sentence.
SERVICE_SENTENCE = {"window_closed", "calendar_not_set", "outcome_quota_exceeded", "selection_quota_exceeded",
                    "not_selectable", "transfer_file_mismatch"}


class ErrorDetail(Schema):
    code = fields.String(required=True, validate=validate.OneOf(sorted(ERRORS)),
                         metadata={"description": "stable code from the gateway's error table"})
    message = fields.String(required=True, metadata={"description": "English sentence"})
    message_zh = fields.String(required=True, metadata={"description": "Traditional Chinese sentence"})
    detail = fields.String(metadata={"description": "what exactly was refused (English, for developers)"})
    fields_ = fields.Dict(data_key="fields", metadata={
        "description": "per input location and field, the reasons it was refused"})


class ErrorSchema(Schema):
    """The body of every error the gateway sends: `{"error": {code, message, message_zh,
    detail?, fields?}}`. Declared once in the OpenAPI document (`Error`) for every error
    response of every operation."""
    error = fields.Nested(ErrorDetail, required=True)


class ApiError(Exception):
    """An error the gateway shows: stable code, status, messages, optional details."""

    def __init__(self, code, detail=None, status=None, fields=None):
        if code not in ERRORS:  # a code no one mapped is a bug: say so, and keep the body documented
            code, detail = "internal", f"unmapped error code {code!r}" + (f": {detail}" if detail else "")
        status_, zh, en = ERRORS[code]
        self.code, self.status = code, status or status_
        self.zh, self.en = zh, en
        self.detail = detail
        self.fields = fields
        super().__init__(code)

    def body(self):
        """The JSON body (matches ErrorSchema)."""
        err = {"code": self.code, "message": self.en, "message_zh": self.zh}
        if self.detail:
            err["detail"] = str(self.detail)
        if self.fields:
            err["fields"] = self.fields
        return {"error": err}


def _field_problems(text) -> dict:
    """A service's field problems (JSON in the error text) in the documented `fields` shape,
    location "record" (the service's verdict on the record's fields):
    {"record": {field: [{code, message, message_zh}]}}."""
    import json
    try:
        problems = json.loads(text)
    except ValueError:
        return {}
    out = {}
    for p in problems if isinstance(problems, list) else []:
        if not isinstance(p, dict):
            continue
        _, zh, en = ERRORS.get(p.get("code"), ERRORS["invalid"])
        try:
            zh, en = zh.format(**(p.get("params") or {})), en.format(**(p.get("params") or {}))
        except (KeyError, IndexError, ValueError):
            pass
        out.setdefault(str(p.get("field")), []).append({"code": p.get("code"), "message": en, "message_zh": zh})
    return {"record": out} if out else {}


def to_api_error(exc) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, RemoteError):
        code, text = split_remote(exc.value or "")
        if exc.exc_type == "ValidationError":
            return ApiError("invalid", detail=exc.value)
        if code == "fields_invalid":
            return ApiError(code, fields=_field_problems(text))
        if code in SERVICE_SENTENCE and text:
            err = ApiError(code, detail=text)
            err.zh = text  # the service's zh-TW sentence names the dates or the limit
            return err
        if code in ERRORS:
            return ApiError(code, detail=text)
        return ApiError("internal")
    if isinstance(exc, PortfolioError):
        return ApiError(exc.code if exc.code in ERRORS else "internal", detail=exc.text)
    if isinstance(exc, ServiceUnavailable):
        return ApiError("service_unavailable")
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    return ApiError("internal")


def _http_error(exc: HTTPException) -> ApiError:
    """Werkzeug's and webargs' refusals (routing, body parsing, validation) in our own words."""
    messages = (getattr(exc, "data", None) or {}).get("messages")
    if exc.code == 422:
        return ApiError("invalid", fields=messages)
    if exc.code == 400:
        return ApiError("malformed_request", fields=messages, detail=exc.description)
    if exc.code == 413:
        # the upload form is the one body that may be big; anything else is simply too large
        upload = request.mimetype == "multipart/form-data" if has_request_context() else False
        return ApiError("file_too_large" if upload else "request_too_large")
    named = {404: "not_found", 405: "method_not_allowed", 415: "unsupported_media_type"}
    if exc.code in named:
        return ApiError(named[exc.code])
    if exc.code and 400 <= exc.code < 500:
        return ApiError("bad_request", status=exc.code, detail=exc.description)
    return ApiError("internal", status=exc.code if exc.code and exc.code >= 500 else None)
