"""Delivery channels: email over SMTP (stdlib smtplib) and JSON webhooks (stdlib urllib).

The webhook body carries ``text`` so Slack-compatible receivers show it as is."""

from __future__ import annotations

import json
import smtplib
import urllib.request
from email.message import EmailMessage
from email.utils import make_msgid

from engine.config import Config
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
        message["Message-ID"] = make_msgid(idstring=f"n{row.id}", domain="contiflow")
        message["X-Contiflow-Notification"] = row.key
        if row.drill:
            message["X-Contiflow-Drill"] = "yes"
        message.set_content(row.body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(message)


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


def default_senders(config: Config) -> dict[str, object]:
    return {"email": SmtpSender(config), "webhook": WebhookSender()}
