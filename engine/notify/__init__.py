"""Notifications: the ``notify`` service (queues), the outbox (claims, retries) and channels
(email over SMTP, JSON webhooks that Slack also accepts)."""
