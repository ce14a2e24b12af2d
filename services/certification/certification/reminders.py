"""The reminder job (issue 10 item 5): every REMINDER_INTERVAL_SECONDS (default 3600) the
certification service sends the reminders due in every tenant it holds tasks or a calendar of
(usecases.send_reminders: a teacher once per term whose window closes within 7 days with
rounds still open, a student once per returned round not uploaded again).

The addresses come from accounts (`accounts.user_emails`, asked as `system:certification` for
one tenant at a time, sealed); the sender from configuration (mail.configured_sender: SMTP,
else .eml files in a folder). A failure (SMTP or accounts unreachable) is logged with the
tenant and the kind of error only (no address, no name, no server message: it may quote an
address) and that tenant's unsent reminders are tried again on the next run."""
import logging
import os
import smtplib

from portfolio_common import clock

from . import usecases

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 3600


def interval_seconds(env=os.environ) -> float:
    """REMINDER_INTERVAL_SECONDS (seconds, > 0), else hourly."""
    try:
        value = float(env.get("REMINDER_INTERVAL_SECONDS") or DEFAULT_INTERVAL_SECONDS)
    except ValueError:
        return DEFAULT_INTERVAL_SECONDS
    return value if value > 0 else DEFAULT_INTERVAL_SECONDS


def failure(exc) -> str:
    """What went wrong, without personal data: the exception's class, an SMTP reply code or an
    OS error number, never its message (SMTPRecipientsRefused quotes the addresses)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__} {exc.smtp_code}"
    if isinstance(exc, OSError) and exc.errno:
        return f"{type(exc).__name__} errno {exc.errno}"
    return type(exc).__name__


def run_once(uow_factory, sender, addresses, today=None) -> dict:
    """One round over every tenant: {tenant: send_reminders' {"due", "sent", "no_address"},
    or {"error": failure(exc)}}. One tenant's failure does not stop the others'."""
    today = today or clock.today_in_school()
    with uow_factory() as uow:
        tenants = uow.tasks.tenants()
    out = {}
    for tenant in tenants:
        try:
            with uow_factory() as uow:
                out[tenant] = usecases.send_reminders(uow, sender, addresses, tenant, today)
        except Exception as exc:  # noqa: BLE001 - retried on the next run
            out[tenant] = {"error": failure(exc)}
            log.warning("reminders of tenant %s not all sent (%s): the rest are tried on the next run",
                        tenant, out[tenant]["error"])
            continue
        if out[tenant]["sent"] or out[tenant]["no_address"]:
            log.info("reminders of tenant %s: %s due, %s sent, %s without an address", tenant,
                     out[tenant]["due"], out[tenant]["sent"], out[tenant]["no_address"])
    return out
