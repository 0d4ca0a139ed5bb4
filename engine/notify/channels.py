"""Delivery channels: email over SMTP (stdlib smtplib), JSON webhooks and the ``http``
service task's calls (stdlib urllib).

The webhook body carries ``text`` so Slack-compatible receivers show it as is."""

from __future__ import annotations

import hashlib
import json
import smtplib
import urllib.request
from collections.abc import Callable
from email.message import EmailMessage

from engine.config import Config
from engine.services.http_call import host_allowed
from engine.store.models import NotificationRow


class SmtpSender:
    def __init__(self, config: Config, timeout: float = 10.0):
        self.host, self.port, self.sender, self.timeout = (config.smtp_host, config.smtp_port,
                                                           config.mail_from, timeout)

    def __call__(self, row: NotificationRow) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = row.target
        message["Subject"] = row.subject
        message["Message-ID"] = message_id(row, self.sender)
        message["X-Contiflow-Notification"] = row.key
        if row.drill:
            message["X-Contiflow-Drill"] = "yes"
        message.set_content(row.body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(message)


def message_id(row: NotificationRow, mail_from: str) -> str:
    """The same Message-ID every time this row is sent: a message re-sent after a worker died
    mid-send is recognised as one by mail clients (it is keyed like the webhook's
    Idempotency-Key)."""
    domain = mail_from.rpartition("@")[2] or "contiflow"
    return f"<contiflow.{hashlib.sha256(row.key.encode()).hexdigest()[:32]}@{domain}>"


class WebhookSender:
    def __init__(self, timeout: float = 10.0):
        self.timeout = timeout

    def __call__(self, row: NotificationRow) -> None:
        if not row.target.startswith(("http://", "https://")):
            raise ValueError(f"webhook address must be http(s): {row.target}")
        text = f"*{row.subject}*\n{row.body}" if row.body != row.subject else row.subject
        payload = {"text": text, "subject": row.subject, "message": row.body, "to": row.addressee,
                   "instance_id": row.instance_id, "task": row.bpmn_id, "drill": row.drill,
                   "notification_key": row.key}
        request = urllib.request.Request(
            row.target, data=json.dumps(payload).encode(), method="POST",
            headers={"Content-Type": "application/json", "Idempotency-Key": row.key})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (http only)
            if response.status >= 300:
                raise RuntimeError(f"webhook answered {response.status}")


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an error: following it could lead past the allow-list."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_NO_REDIRECTS = urllib.request.build_opener(_RefuseRedirects)


class HttpSender:
    """The ``http`` service task's calls (engine.services.http_call), the allow-list checked
    again at send time (it may have changed since the call was queued)."""

    def __init__(self, allowed: tuple[str, ...], timeout: float = 10.0):
        self.allowed, self.timeout = allowed, timeout

    def __call__(self, row: NotificationRow) -> None:
        host_allowed(row.target, self.allowed)
        headers = {"Idempotency-Key": row.key, "User-Agent": "contiflow"}
        if row.body:
            headers["Content-Type"] = "application/json"
        if row.drill:
            headers["X-Contiflow-Drill"] = "yes"
        request = urllib.request.Request(row.target, data=row.body.encode() if row.body else None,
                                         method=row.subject, headers=headers)
        with _NO_REDIRECTS.open(request, timeout=self.timeout) as response:
            if response.status >= 300:
                raise RuntimeError(f"{row.subject} {row.target} answered {response.status}")


def default_senders(config: Config) -> dict[str, Callable[[NotificationRow], None]]:
    return {"email": SmtpSender(config), "webhook": WebhookSender(),
            "http": HttpSender(config.http_allowed_hosts)}
