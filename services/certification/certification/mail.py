"""Sending reminder e-mails: a small interface, SMTP first (issue 10 item 5).

A sender is anything with `send(to, subject, body)`. Which one the reminder job uses is
configuration (`configured_sender`):
- `SmtpSender` when SMTP_HOST is set: plain SMTP to SMTP_HOST:SMTP_PORT (25) as SMTP_FROM,
  STARTTLS when SMTP_STARTTLS=1 (port 587 usually), a login when SMTP_USERNAME is set (with
  SMTP_PASSWORD, or SMTP_PASSWORD_FILE); UTF-8 text, zh-TW. STARTTLS checks the server's
  certificate and name against the system's trusted authorities, or SMTP_CA_BUNDLE (a PEM file:
  the school's own authority); a server that cannot prove it is SMTP_HOST gets nothing, not
  the message and not the password. A login without STARTTLS is refused unless SMTP_HOST is
  this machine (the password would cross the network in the clear).
- `FolderSender` otherwise: each message written as an .eml file into REMINDER_MAIL_DIR (the
  launcher sets var/run/mail; default ./var/mail), so `make up` shows the reminders without a
  mail server. Open one with any mail program.
"""
import os
import ipaddress
import smtplib
import ssl
import time
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol



class Sender(Protocol):
    def send(self, to: str, subject: str, body: str) -> None:
        """Deliver one message or raise (the reminder is then not recorded and is tried again)."""


def _message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    msg.set_content(body, charset="utf-8")
    return msg


class SmtpSender:
    """One SMTP connection per message (reminders are few: a teacher once per term, a student
    once per returned item). `starttls`: upgrade the connection before anything else is said,
    checking the certificate and the host name (`ca_file`: a PEM bundle, SMTP_CA_BUNDLE, to trust instead of the
    system's); a server without STARTTLS, with a certificate no trusted authority signed or made
    out to another name gets neither the message nor the login (smtplib.SMTPNotSupportedError,
    ssl.SSLCertVerificationError). `username` and `password`: log in, only over STARTTLS or to
    a server on this host (ValueError otherwise, at construction: a configuration error)."""

    def __init__(self, host: str, port: int = 25, sender: str = "noreply@localhost", timeout: float = 30,
                 starttls: bool = False, username: str | None = None, password: str | None = None,
                 ca_file: str | None = None):
        self.host, self.port, self.sender, self.timeout = host, int(port), sender, timeout
        self.starttls, self.username, self.password, self.ca_file = starttls, username, password, ca_file
        if username and not starttls and not _is_this_host(host):
            raise ValueError("an SMTP login needs SMTP_STARTTLS=1 (or a server on this host): "
                             "the password would cross the network in the clear")

    def _tls_context(self) -> ssl.SSLContext:
        # verified: CERT_REQUIRED and check_hostname (create_default_context), unlike smtplib's
        # default for starttls(), which checks nothing
        return ssl.create_default_context(cafile=self.ca_file)

    def send(self, to: str, subject: str, body: str) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=self._tls_context())
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(_message(self.sender, to, subject, body))


def _is_this_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class FolderSender:
    """Writes each message as `<timestamp>-<random>.eml` into `folder` (made if missing): the
    sender when no SMTP server is configured. Written to a temporary name, then renamed, so a
    reader never sees half a message."""

    def __init__(self, folder, sender: str = "noreply@localhost"):
        self.folder, self.sender = Path(folder), sender

    def send(self, to: str, subject: str, body: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
        tmp = self.folder / (name + ".tmp")
        tmp.write_bytes(bytes(_message(self.sender, to, subject, body)))
        os.replace(tmp, self.folder / name)


def _flag(value) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


def from_env(env=os.environ) -> SmtpSender | None:
    """SMTP_HOST (required to send), SMTP_PORT (25), SMTP_FROM (the From address),
    SMTP_STARTTLS (1 to upgrade, verified), SMTP_CA_BUNDLE (PEM authorities to trust instead of
    the system's), SMTP_USERNAME and SMTP_PASSWORD (or SMTP_PASSWORD_FILE) to log in. None when
    SMTP_HOST is unset; ValueError for a login without STARTTLS to another host."""
    host = env.get("SMTP_HOST")
    if not host:
        return None
    username = env.get("SMTP_USERNAME") or None
    password = env.get("SMTP_PASSWORD")
    if password is None and env.get("SMTP_PASSWORD_FILE"):
        password = Path(env["SMTP_PASSWORD_FILE"]).read_text(encoding="utf-8").strip()
    return SmtpSender(host, int(env.get("SMTP_PORT") or 25), env.get("SMTP_FROM") or "noreply@localhost",
                      starttls=_flag(env.get("SMTP_STARTTLS")), username=username, password=password,
                      ca_file=env.get("SMTP_CA_BUNDLE") or None)


DEFAULT_MAIL_DIR = os.path.join("var", "mail")


def configured_sender(env=os.environ):
    """The reminder job's sender: SMTP when SMTP_HOST is set (from_env), else a FolderSender
    into REMINDER_MAIL_DIR (default ./var/mail)."""
    smtp = from_env(env)
    if smtp is not None:
        return smtp
    return FolderSender(env.get("REMINDER_MAIL_DIR") or DEFAULT_MAIL_DIR, env.get("SMTP_FROM") or "noreply@localhost")


def describe(sender) -> str:
    """Where a sender delivers, for the service's start-up log (no secrets)."""
    if isinstance(sender, SmtpSender):
        return (f"SMTP {sender.host}:{sender.port}" + (" STARTTLS" if sender.starttls else "")
                + (" with login" if sender.username else ""))
    if isinstance(sender, FolderSender):
        return f".eml files in {sender.folder}"
    return type(sender).__name__
