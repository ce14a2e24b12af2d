"""Sending reminder e-mails: a small interface, SMTP first (issue 10 item 5).

A sender is anything with `send(to, subject, body)`; `SmtpSender` talks plain SMTP to
SMTP_HOST:SMTP_PORT as SMTP_FROM (UTF-8 text, zh-TW). Unset SMTP_HOST: no sender (`from_env`
returns None) and reminders are only shown in the portal."""
import os
import smtplib
from email.message import EmailMessage
from typing import Protocol


class Sender(Protocol):
    def send(self, to: str, subject: str, body: str) -> None:
        """Deliver one message or raise (the reminder is then not recorded and is tried again)."""


class SmtpSender:
    def __init__(self, host: str, port: int = 25, sender: str = "noreply@localhost", timeout: float = 30):
        self.host, self.port, self.sender, self.timeout = host, int(port), sender, timeout

    def send(self, to: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, to, subject
        msg.set_content(body, charset="utf-8")
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(msg)


def from_env(env=os.environ) -> SmtpSender | None:
    """SMTP_HOST (required to send), SMTP_PORT (25), SMTP_FROM (the From address)."""
    host = env.get("SMTP_HOST")
    if not host:
        return None
    return SmtpSender(host, int(env.get("SMTP_PORT") or 25), env.get("SMTP_FROM") or "noreply@localhost")
